// Learning curves: success against action-supervised samples, from the snapshots a training run
// keeps (padbench train --snapshots), evaluated in one resumable eval run per training run.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tasks/task.h"

namespace padbench {

struct CurveRun {
  std::string name;  // legend entry, e.g. "diffusion_policy"
  std::string dir;   // the training run's folder: DIR/samples_*/ and DIR itself (the whole budget)
};

struct LearningCurveConfig {
  std::vector<CurveRun> runs;
  std::vector<std::shared_ptr<const Task>> tasks;
  int episodes = 10;  // per (checkpoint, task)
  uint64_t seed = 0;
  int workers = 1;
  std::string eval_dir;  // eval_dir/<run>/: the eval run of each run's checkpoints (resumed when it exists)
  std::string out_dir;   // learning_curves.csv, learning_curves.png, learning_curves.md
  std::string command_line;
  bool progress = true;
};

// One point of a curve: a checkpoint and its success on the slice.
struct CurvePoint {
  std::string run, spec;
  int64_t robot_samples = 0, video_samples = 0;
  int steps = 0, threads = 0;
  double wall_s = 0;
  int episodes = 0, successes = 0;
  double rate = 0, ci_low = 0, ci_high = 0;
};

// A run's checkpoints as policy specs ("family=DIR/samples_N"), in order of samples seen.
// Throws padbench::Error when DIR holds no finished checkpoint.
std::vector<CurvePoint> FindCheckpoints(const CurveRun& run);

// Evaluates every checkpoint of every run and writes the curves. Returns the points.
std::vector<CurvePoint> RunLearningCurves(const LearningCurveConfig& config);

}  // namespace padbench
