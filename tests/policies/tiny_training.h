// A tiny checkpoint of a trainable family, trained for three steps of four rows, and the reach
// demonstrations the policy tests train on (their fixtures). Header-only: the tests that need
// them include it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/data/collect.h"
#include "policies/family.h"
#include "policies/train/trainer.h"
#include "tasks/registry.h"
#include "tests/test_util.h"

namespace padbench::testing {

// Two demonstrations of reach at 64x64, collected once per process.
inline const std::string& ReachData() {
  static TempPath dir;
  static const std::string path = [] {
    std::filesystem::create_directories(dir.path());
    CollectConfig c;
    c.tasks = {FindTask("reach")};
    c.episodes = 2;
    c.out = dir.str() + "/reach.hdf5";
    Collect(c, false);
    return c.out;
  }();
  return path;
}

// The tiny run's config: `policy` with its family's tiny_config and then `overrides`, on
// `data` into `out` (three steps of four rows, a snapshot at half the run, one thread).
inline train::TrainConfig TinyTrainConfig(const std::string& policy, const std::vector<std::string>& data,
                                          const std::string& out,
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
  return c;
}

// Trains the tiny run of TinyTrainConfig; returns `out`.
inline std::string TrainTiny(const std::string& policy, const std::vector<std::string>& data, const std::string& out,
                             const nlohmann::json& overrides = nlohmann::json::object()) {
  train::Train(TinyTrainConfig(policy, data, out, overrides));
  return out;
}

}  // namespace padbench::testing
