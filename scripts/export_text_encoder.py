#!/usr/bin/env python3
"""Exports a tiny TorchScript text encoder with padbench's contract: forward(text: str) -> [1, D].

Usage: export_text_encoder.py OUT.pt [--dim D]

A real one would wrap CLIP's text tower; this one hashes characters into a fixed random
projection, which is enough to test loading and shapes (tests/data/text_encoder.pt).
"""
import argparse

import torch


class CharEncoder(torch.nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.table = torch.nn.Parameter(torch.randn(128, dim, generator=g), requires_grad=False)

    def forward(self, text: str) -> torch.Tensor:
        codes = [min(ord(c), 127) for c in text.lower()]
        if len(codes) == 0:
            return torch.zeros(1, self.table.shape[1])
        return self.table[torch.tensor(codes)].mean(0, keepdim=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--dim", type=int, default=16)
    args = parser.parse_args()
    torch.jit.script(CharEncoder(args.dim).eval()).save(args.out)


if __name__ == "__main__":
    main()
