// Scripted-expert demonstration collection into HDF5 datasets.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/gl_context.h"
#include "tasks/task_env.h"

namespace padbench {

struct CollectConfig {
  std::vector<std::shared_ptr<const Task>> tasks;
  int episodes = 50;             // episodes written per task
  uint64_t seed = 0;
  std::string out;               // .hdf5 path
  TaskEnvConfig env;             // cameras, image size, depth
  double noise = 0;              // expert action noise (sigma)
  bool video_only = false;       // omit actions (action-free video for co-training)
  bool keep_failures = false;    // also write episodes the expert failed
  int max_attempts_per_episode = 4;  // give up on a task after episodes * this many attempts
  GlBackend gl = GlBackend::kAuto;
};

struct CollectSummary {
  int episodes = 0;
  int attempts = 0;
  int64_t frames = 0;
  double seconds = 0;
  std::map<std::string, std::pair<int, int>> per_task;  // task -> (written, attempted)
};

// Attempt i of task T uses EpisodeSeed(seed, T, i); attempts run in order until
// `episodes` are written, so a seed gives the same file. Throws padbench::Error
// if a task cannot reach its count within the attempt budget.
CollectSummary Collect(const CollectConfig& config, bool progress = true);

// The `env_args` JSON stored in the dataset: everything needed to recreate the observations.
std::string CollectEnvArgs(const CollectConfig& config);

}  // namespace padbench
