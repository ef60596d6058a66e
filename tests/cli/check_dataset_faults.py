#!/usr/bin/env python3
"""scripts/check_dataset.py on broken copies of a collected dataset: each must fail with exit 1,
name the problem in one line, and never print a traceback.

Usage: check_dataset_faults.py COLLECTED.hdf5 SCRATCH_DIR
"""
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np

CHECK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "check_dataset.py")


def broken(src, scratch, name, edit):
    path = os.path.join(scratch, name + ".hdf5")
    shutil.copy(src, path)
    edit(path)
    return path


def nan_action(path):
    with h5py.File(path, "r+") as f:
        a = f["data/demo_0/actions"]
        v = a[()]
        v[1, 2] = np.nan
        a[...] = v


def flipped_chunk(path):
    with h5py.File(path, "r") as f:
        d = f["data/demo_0/obs/corner_image"]
        offset = d.id.get_chunk_info(0).byte_offset
    with open(path, "r+b") as f:
        f.seek(offset + 20)
        data = bytearray(f.read(64))
        f.seek(offset + 20)
        f.write(bytes(b ^ 0xFF for b in data))


def main(src, scratch):
    os.makedirs(scratch, exist_ok=True)
    cases = [("nan_action", nan_action, "non-finite"), ("flipped_chunk", flipped_chunk, "cannot be read")]
    failures = 0
    for name, edit, expected in cases:
        path = broken(src, scratch, name, edit)
        run = subprocess.run([sys.executable, CHECK, path], capture_output=True, text=True)
        problems = [l for l in run.stderr.splitlines() if expected in l]
        ok = run.returncode == 1 and problems and "Traceback" not in run.stderr
        print(f"{'ok' if ok else 'FAIL'}: {name}: exit {run.returncode}: {problems[:1]}")
        failures += not ok
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
