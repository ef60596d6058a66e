// Policies that need no training: the scripted expert and uniform random actions.
#pragma once

#include <memory>

#include "policies/policy.h"

namespace padbench {

// The task's scripted expert, reading privileged state from EpisodeInfo::env.
std::unique_ptr<Policy> MakeExpertPolicy();
// Uniform random actions in [-1, 1], seeded from the episode seed.
std::unique_ptr<Policy> MakeRandomPolicy();

}  // namespace padbench
