// A tiny checkpoint of a trainable family, trained for three steps of four rows (the policy
// tests' fixture). Header-only: the tests that need it include it.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policies/family.h"
#include "policies/train/trainer.h"

namespace padbench::testing {

// Trains `policy` with its family's tiny_config and then `overrides` on `data` into `out`
// (three steps, a snapshot at half the run, one thread); returns `out`.
inline std::string TrainTiny(const std::string& policy, const std::vector<std::string>& data, const std::string& out,
                             const nlohmann::json& overrides = nlohmann::json::object()) {
  train::TrainConfig c;
  c.policy = policy;
  c.data = data;
  c.out = out;
  c.overrides = nlohmann::json::parse(FindFamily(policy, "trainable").trainer->tiny_config);
  c.overrides.update(overrides);
  c.steps = 3;
  c.batch = 4;
  c.threads = 1;
  c.warmup = 1;
  c.log_every = 1;
  c.val_every = 3;
  c.checkpoint_every = 3;
  c.val_batches = 1;
  c.snapshot_fractions = {0.5};
  c.progress = false;
  train::Train(c);
  return out;
}

}  // namespace padbench::testing
