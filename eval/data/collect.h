// Scripted-expert demonstration collection into HDF5 datasets.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "eval/cluster/transport.h"
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
  // Set: one rank of a distributed collect (MpiWorld()). Every rank runs attempts; rank 0
  // writes `out`, the same file a local collect writes.
  Transport* cluster = nullptr;
  double rank_timeout_s = 30;    // a rank silent this long is dead: its attempts run elsewhere
};

struct CollectSummary {
  int episodes = 0;
  int attempts = 0;
  int64_t frames = 0;
  double seconds = 0;
  std::map<std::string, std::pair<int, int>> per_task;  // task -> (written, attempted)
};

// Attempt i of task T uses EpisodeSeed(seed, T, i); the file holds each task's first
// `episodes` kept attempts in attempt order, so a seed gives the same file, with MPI or
// without. Throws padbench::Error if a task cannot reach its count within the attempt budget.
// Distributed, ranks take attempts from a queue ahead of need; rank 0 writes them in order and
// drops the attempts a task no longer needs. The summary of a rank other than 0 is empty.
CollectSummary Collect(const CollectConfig& config, bool progress = true);

// The `env_args` JSON stored in the dataset: everything needed to recreate the observations.
std::string CollectEnvArgs(const CollectConfig& config);

}  // namespace padbench
