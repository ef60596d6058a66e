// A policy trained in PyTorch and exported as TorchScript (spec "torchscript=path.pt").
//
// The contract the module must follow (policies/torchscript/README.md has the long form,
// scripts/export_torchscript.py a working example):
//   forward(image, proprio) -> actions            (torch.jit.trace or torch.jit.script)
//   forward(image, proprio, instruction: str)     (torch.jit.script only; gets the episode's instruction)
//   image    float32 [1, 3, H, W], RGB, values in [0, 1], top row first
//   proprio  float32 [1, 4]: end-effector x, y, z (metres, world frame), gripper opening (metres)
//   actions  float32 [1, T, 4] with T >= 1, or [1, 4] for T = 1: Meta-World actions (delta xyz,
//            gripper effort), executed in order; non-finite values are passed on unchanged
// Optional module attributes choose what padbench renders: `padbench_camera` (str, default
// "corner") and `padbench_image_size` (int, H = W, default 64).
//
// The policy never changes torch's global thread count; the caller (the CLI) sets it.
#pragma once

#include <memory>
#include <string>

#include "policies/policy.h"

namespace padbench {

// Loads a TorchScript module and checks its forward signature and attributes. Throws
// padbench::Error naming `path` when the file is missing, is not a TorchScript archive, or
// breaks the contract; an output of the wrong shape is reported by the first Act.
std::unique_ptr<Policy> MakeTorchScriptPolicy(const std::string& path);

}  // namespace padbench
