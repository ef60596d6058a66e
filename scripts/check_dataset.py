#!/usr/bin/env python3
"""Prints and checks a padbench demonstration dataset (robomimic layout, see sim/dataset.h).

Usage: check_dataset.py FILE

Prints the episodes with their attributes and array shapes, then every problem found: layout,
image sizes that differ between demos, arrays that cannot be read (a corrupt chunk), NaN or Inf.
Exits 0 when the layout is valid, 1 when it is not, 2 when FILE cannot be opened as HDF5.
"""
import re
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:  # Debian: apt-get install python3-h5py
    sys.exit(f"check_dataset.py: {e}; install h5py (Debian: python3-h5py)")

DEMO_RE = re.compile(r"^demo_(0|[1-9][0-9]*)$")


def describe(dataset):
    extra = f" chunks={dataset.chunks} {dataset.compression}" if dataset.chunks else ""
    return f"{dataset.dtype} {list(dataset.shape)}{extra}"


def check_array(errors, group, path, name, dtype, shape):
    """Checks group[name] against dtype and shape (str entries like "T" match any size); returns it or None."""
    full = f"{path}/{name}"
    wanted = f"{np.dtype(dtype)} [{','.join(str(s) for s in shape)}]"
    if name not in group:
        errors.append(f"{full}: missing (expected {wanted})")
        return None
    obj = group[name]
    if not isinstance(obj, h5py.Dataset):
        errors.append(f"{full}: is not a dataset")
        return None
    ok = obj.dtype == np.dtype(dtype) and len(obj.shape) == len(shape)
    ok = ok and all(isinstance(s, str) or s == a for s, a in zip(shape, obj.shape))
    if not ok:
        errors.append(f"{full}: expected {wanted}, found {obj.dtype} {list(obj.shape)}")
        return None
    return obj


def check_attr(errors, obj, path, name, kind):
    if name not in obj.attrs:
        errors.append(f"{path}: attribute '{name}' missing")
        return None
    value = obj.attrs[name]
    # h5py returns str for variable-length strings but bytes for fixed-length ones.
    if kind == "str" and isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if kind == "str" and not isinstance(value, str):
        errors.append(f"{path}: attribute '{name}' is {type(value).__name__}, expected a string")
        return None
    if kind == "int" and not isinstance(value, (int, np.integer)):
        errors.append(f"{path}: attribute '{name}' is {type(value).__name__}, expected an integer")
        return None
    return value


def check_demo(errors, demo, path):
    """Prints one demo; returns (T, cameras, has_actions) or None when its basic shape is unusable."""
    attrs = {k: demo.attrs[k] for k in demo.attrs}
    print(f"{path}: " + ", ".join(f"{k}={v!r} ({type(v).__name__})" for k, v in sorted(attrs.items())))
    def show(name, obj):
        if isinstance(obj, h5py.Dataset):
            print(f"  {name}: {describe(obj)}")

    demo.visititems(show)

    for name in ("task", "instruction"):
        check_attr(errors, demo, path, name, "str")
    seed = check_attr(errors, demo, path, "seed", "int")
    if seed is not None and seed < 0:
        errors.append(f"{path}: attribute 'seed' is {seed}, expected non-negative")

    if "obs" not in demo or not isinstance(demo["obs"], h5py.Group):
        errors.append(f"{path}/obs: missing (expected the group of observations)")
        return None
    obs = demo["obs"]
    ee_pos = check_array(errors, obs, f"{path}/obs", "ee_pos", np.float32, ("T", 3))
    if ee_pos is None:
        return None
    t = ee_pos.shape[0]
    if "num_samples" in demo.attrs and demo.attrs["num_samples"] != t:
        errors.append(f"{path}: attribute num_samples is {demo.attrs['num_samples']}, but the arrays hold T = {t}")
    check_array(errors, obs, f"{path}/obs", "gripper", np.float32, (t, 1))

    cameras = sorted(k[: -len("_image")] for k in obs if k.endswith("_image") and len(k) > len("_image"))
    if not cameras:
        errors.append(f"{path}/obs: no <camera>_image dataset (expected at least one camera)")
    size = None
    for camera in cameras:
        image = check_array(errors, obs, f"{path}/obs", f"{camera}_image", np.uint8,
                            (t, "H", "W", 3) if size is None else (t, size[0], size[1], 3))
        if image is not None and size is None:
            size = image.shape[1:3]
    for key in sorted(k for k in obs if k.endswith("_depth")):
        camera = key[: -len("_depth")]
        if camera not in cameras:
            errors.append(f"{path}/obs/{key}: has no matching {camera}_image")
        elif size is not None:
            check_array(errors, obs, f"{path}/obs", key, np.float32, (t, size[0], size[1]))

    has_actions = "actions" in demo
    if has_actions:
        check_array(errors, demo, path, "actions", np.float32, (t, 4))
    check_array(errors, demo, path, "rewards", np.float32, (t,))
    check_array(errors, demo, path, "dones", np.uint8, (t,))
    check_contents(errors, demo, path)
    return t, cameras, has_actions, size


def check_contents(errors, demo, path):
    """Reads every array whole (every chunk decompressed: a corrupt one is named) and checks
    that float arrays hold no NaN or Inf."""
    def visit(name, obj):
        if not isinstance(obj, h5py.Dataset):
            return
        try:
            values = obj[()]
        except Exception as e:  # h5py raises OSError (or others) on a corrupt or truncated chunk
            errors.append(f"{path}/{name}: cannot be read ({e})")
            return
        if np.issubdtype(values.dtype, np.floating) and not np.isfinite(values).all():
            bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
            errors.append(f"{path}/{name}: {bad} non-finite value(s) (NaN or Inf)")

    demo.visititems(visit)


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    path = argv[1]
    try:
        f = h5py.File(path, "r")
    except (OSError, ValueError) as e:
        print(f"{path}: cannot open as HDF5: {e}", file=sys.stderr)
        return 2

    errors = []
    with f:
        if "data" not in f or not isinstance(f["data"], h5py.Group):
            print(f"{path}: data: missing (expected the group of demos)", file=sys.stderr)
            return 1
        data = f["data"]
        names = list(data.keys())
        indices = []
        for name in names:
            m = DEMO_RE.match(name)
            if m is None:
                errors.append(f"data/{name}: unexpected member (expected only demo_<n>)")
            else:
                indices.append(int(m.group(1)))
        for missing in sorted(set(range(len(names))) - set(indices)):
            errors.append(f"data/demo_{missing}: missing")

        total = check_attr(errors, data, "data", "total", "int")
        env_args = check_attr(errors, data, "data", "env_args", "str")
        print(f"{path}: {len(indices)} episodes, total={total!r}, env_args={env_args!r}")

        lengths = []
        first = None  # demo_0's (cameras, has_actions): every demo must match
        for index in sorted(indices):
            demo_path = f"data/demo_{index}"
            if not isinstance(data[f"demo_{index}"], h5py.Group):
                errors.append(f"{demo_path}: is not a group")
                continue
            result = check_demo(errors, data[f"demo_{index}"], demo_path)
            if result is None:
                continue
            t, cameras, has_actions, size = result
            lengths.append(t)
            if first is None:
                first = (cameras, has_actions, size)
                continue
            if cameras != first[0]:
                errors.append(f"{demo_path}/obs: has cameras {cameras}, but the first demo has {first[0]}")
            if size is not None and first[2] is not None and tuple(size) != tuple(first[2]):
                errors.append(f"{demo_path}/obs: images are {size[0]}x{size[1]}, the first demo's {first[2][0]}x{first[2][1]}")
            if has_actions != first[1]:
                errors.append(f"{demo_path}/actions: {'present' if has_actions else 'missing'}, "
                              "but actions must be in all demos or none")
        if first is not None:
            print(f"cameras={first[0]}, has_actions={first[1]}")
        if total is not None and not errors and total != sum(lengths):
            errors.append(f"data: attribute total is {total}, but the demos hold {sum(lengths)} samples")

    for error in errors:
        print(f"{path}: {error}", file=sys.stderr)
    if errors:
        print(f"{path}: INVALID ({len(errors)} problems)", file=sys.stderr)
        return 1
    print(f"{path}: OK")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as e:  # never a traceback: one line naming the file and the problem
        print(f"check_dataset.py: {sys.argv[-1]}: cannot be checked: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
