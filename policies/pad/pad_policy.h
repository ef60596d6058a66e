// PAD as a padbench Policy (spec `pad=<checkpoint dir>`).
#pragma once

#include <memory>
#include <string>

#include "policies/policy.h"

namespace padbench {

// Loads config.json and model.pt (DiT and its frozen autoencoder) from `checkpoint_dir`;
// throws padbench::Error naming what is missing, belongs to another policy, or does not match.
std::unique_ptr<Policy> MakePadPolicy(const std::string& checkpoint_dir);

}  // namespace padbench
