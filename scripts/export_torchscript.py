#!/usr/bin/python3
"""Export a tiny CNN policy as TorchScript in the form padbench's `torchscript` policy loads.

Usage: export_torchscript.py OUT.pt [--trace] [--chunk T] [--seed S] [--camera C] [--image-size N]
                             [--expected F.json]

The contract (see policies/torchscript/README.md):
  forward(image, proprio[, instruction: str]) -> actions
  image    float32 [1, 3, H, W], RGB in [0, 1] (camera `padbench_camera`, H = W = `padbench_image_size`)
  proprio  float32 [1, 4]: end-effector x, y, z (m, world frame), gripper opening (m)
  actions  float32 [1, T, 4] (or [1, 4] for T = 1): delta xyz and gripper effort in [-1, 1]

Scripting (the default) keeps the `instruction: str` argument; tracing cannot take strings,
so a traced module has forward(image, proprio). Weights come from --seed alone.
The module attributes `padbench_camera` (str) and `padbench_image_size` (int) tell padbench
what to render; torch.jit.trace keeps plain attributes only on a module that has a
@torch.jit.export method, which is why TinyPolicy defines padbench_inputs().

--expected adds the saved module's outputs on fixed inputs to a JSON file (keyed by the
.pt file name), which padbench's C++ test compares with what it computes.
"""
import argparse
import json
import os
from typing import Tuple

import torch
from torch import Tensor, nn


def text_features(instruction: str) -> Tensor:
    """Two numbers from the instruction (length, mean character code): enough to make the output depend on it."""
    total = 0
    for c in instruction:
        total += ord(c)
    n = len(instruction)
    mean = float(total) / float(max(n, 1))
    return torch.tensor([[float(n) / 64.0, mean / 128.0]], dtype=torch.float32)


class TinyPolicy(nn.Module):
    """Two strided convolutions, then proprio and text features, then an MLP to T actions in [-1, 1]."""

    def __init__(self, chunk: int, camera: str = "corner", image_size: int = 64):
        super().__init__()
        # Read by padbench if present: which camera and image size to render.
        self.padbench_camera = camera
        self.padbench_image_size = image_size
        self.chunk = chunk
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 8, 4, stride=4), nn.ReLU(),
            nn.Conv2d(8, 16, 4, stride=4), nn.ReLU(),
            nn.AdaptiveAvgPool2d(4), nn.Flatten())  # 16 x 4 x 4 for any image of at least 16x16
        self.head = nn.Sequential(
            nn.Linear(16 * 4 * 4 + 4 + 2, 32), nn.ReLU(),
            nn.Linear(32, chunk * 4), nn.Tanh())

    @torch.jit.export
    def padbench_inputs(self) -> Tuple[str, int]:
        """Camera and image size; being exported, it also makes torch.jit.trace keep the attributes."""
        return self.padbench_camera, self.padbench_image_size

    def act(self, image: Tensor, proprio: Tensor, text: Tensor) -> Tensor:
        out = self.head(torch.cat([self.encoder(image), proprio, text], dim=1))
        if self.chunk == 1:
            return out  # [1, 4]: the single-action form padbench also accepts
        return out.view(-1, self.chunk, 4)


class ScriptPolicy(TinyPolicy):
    """For torch.jit.script: takes the episode's instruction."""

    def forward(self, image: Tensor, proprio: Tensor, instruction: str) -> Tensor:
        return self.act(image, proprio, text_features(instruction))


class TracePolicy(TinyPolicy):
    """For torch.jit.trace, which cannot take strings: no instruction."""

    def forward(self, image: Tensor, proprio: Tensor) -> Tensor:
        return self.act(image, proprio, torch.zeros(image.shape[0], 2))


class BadOutputPolicy(nn.Module):
    """Breaks the contract on purpose (returns [1, 3]) and has no padbench attributes, for padbench's tests."""

    def __init__(self):
        super().__init__()
        self.head = nn.Linear(4, 3)

    def forward(self, image: Tensor, proprio: Tensor) -> Tensor:
        return self.head(proprio)


def export(out: str, trace: bool, chunk: int, seed: int, camera: str = "corner", image_size: int = 64,
           bad_output: bool = False) -> None:
    """The whole export: seeded weights, eval mode, script or trace, save."""
    torch.manual_seed(seed)
    example = (torch.zeros(1, 3, image_size, image_size), torch.zeros(1, 4))
    with torch.no_grad():
        if bad_output:
            module = torch.jit.trace(BadOutputPolicy().eval(), example)
        elif trace:
            module = torch.jit.trace(TracePolicy(chunk, camera, image_size).eval(), example)
        else:
            module = torch.jit.script(ScriptPolicy(chunk, camera, image_size).eval())
    module.save(out)


def pattern_image(size: int) -> Tensor:
    """uint8 pixel (y, x, c) = (3y + 5x + 80c) mod 256 as padbench feeds it: [1, 3, size, size], divided by 255."""
    y = torch.arange(size).view(size, 1, 1)
    x = torch.arange(size).view(1, size, 1)
    c = torch.arange(3).view(1, 1, 3)
    hwc = ((3 * y + 5 * x + 80 * c) % 256).to(torch.uint8)
    return (hwc.to(torch.float32) / 255).permute(2, 0, 1).unsqueeze(0).contiguous()


def write_expected(module_path: str, json_path: str) -> None:
    """Adds the reloaded module's outputs on the fixed inputs to json_path under the module's file name."""
    module = torch.jit.load(module_path).eval()
    takes_text = len(module.forward.schema.arguments) == 4  # self, image, proprio, instruction
    size = getattr(module, "padbench_image_size", 64)
    proprio = torch.tensor([[0.1, 0.5, 0.2, 0.04]])
    instruction = "reach the red ball"
    images = {
        "half": ("all 0.5", torch.full((1, 3, size, size), 0.5)),
        "pattern": ("uint8 pixel (y, x, c) = (3y + 5x + 80c) mod 256, / 255", pattern_image(size)),
    }
    cases = {}
    with torch.no_grad():
        for name, (description, image) in images.items():
            args = (image, proprio, instruction) if takes_text else (image, proprio)
            out = module(*args)
            cases[name] = {"image": description, "shape": list(out.shape), "output": out.reshape(-1).tolist()}
    data = {}
    if os.path.exists(json_path):
        with open(json_path) as f:
            data = json.load(f)
    data[os.path.basename(module_path)] = {
        "proprio": proprio.reshape(-1).tolist(), "instruction": instruction if takes_text else None,
        "torch": torch.__version__, "cases": cases}
    with open(json_path, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", help="the .pt file to write")
    parser.add_argument("--trace", action="store_true", help="torch.jit.trace (no instruction argument)")
    parser.add_argument("--chunk", type=int, default=4, help="actions per call, T (1 returns [1, 4])")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights")
    parser.add_argument("--camera", default="corner", help="camera padbench renders for the policy")
    parser.add_argument("--image-size", type=int, default=64, help="image height and width, at least 16")
    parser.add_argument("--expected", metavar="F.json", help="add the outputs on fixed inputs to this JSON file")
    parser.add_argument("--bad-output", action="store_true", help=argparse.SUPPRESS)  # test fixture
    args = parser.parse_args()
    if args.chunk < 1:
        parser.error("--chunk must be at least 1")
    if args.image_size < 16:
        parser.error("--image-size must be at least 16")
    export(args.out, args.trace, args.chunk, args.seed, args.camera, args.image_size, args.bad_output)
    if args.expected:
        write_expected(args.out, args.expected)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)")


if __name__ == "__main__":
    main()
