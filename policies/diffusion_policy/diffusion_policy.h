// Diffusion Policy as a padbench Policy (spec `diffusion_policy=<checkpoint dir>`).
#pragma once

#include <memory>
#include <string>

#include "policies/policy.h"

namespace padbench {

// Loads config.json and model.pt from `checkpoint_dir`; throws padbench::Error naming what is
// missing, belongs to another policy, or does not match (names, shapes, truncated file).
std::unique_ptr<Policy> MakeDiffusionPolicy(const std::string& checkpoint_dir);

}  // namespace padbench
