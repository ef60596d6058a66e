// TaskEnv: a Task on an Env with observations rendered from its cameras.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/env.h"
#include "sim/renderer.h"
#include "sim/rng.h"
#include "tasks/task.h"

namespace padbench {

struct TaskEnvConfig {
  std::vector<std::string> cameras{"corner"};  // rendered into Observation::rgb
  int image_size = 64;                         // square images
  bool depth = false;                          // also render metric depth
  bool sample_instruction = false;             // draw a paraphrase per episode (else the canonical one)
  EnvConfig env;
};

// The task's model, compiled once per process and shared by every TaskEnv.
ModelPtr LoadTaskModel(const Task& task);

class TaskEnv {
 public:
  // `renderer` may be null (no images: state-only rollouts); it must outlive
  // the TaskEnv and belong to the calling thread. Unknown cameras throw
  // padbench::Error listing the model's cameras.
  static std::unique_ptr<TaskEnv> Create(std::shared_ptr<const Task> task, const TaskEnvConfig& config,
                                         Renderer* renderer);

  // Starts the episode with `seed` (object poses, instruction, expert noise) and observes.
  Observation Reset(uint64_t seed);
  // One control step; observe with Observe() afterwards.
  StepResult Step(const Action& action);
  // Renders the cameras and reads proprioception.
  Observation Observe();
  bool Success() const { return task_->Success(*env_); }
  // Which pixels of `camera` (at the observation size) show the robot or a movable object (any
  // body with a joint in its chain to the world: arm, gripper, free objects, drawers, doors):
  // one channel, 255 there and 0 on the static table, fixtures, markers and background.
  // Rendered from MuJoCo's segmentation; needs a renderer.
  Image ObjectMask(const std::string& camera);

  const Task& task() const { return *task_; }
  const std::shared_ptr<const Task>& task_ptr() const { return task_; }
  Env& env() { return *env_; }
  const Env& env() const { return *env_; }
  const TaskEnvConfig& config() const { return config_; }
  const std::string& instruction() const { return instruction_; }
  uint64_t seed() const { return seed_; }
  // Episode-local randomness left after Reset (expert noise draws from it).
  Rng& rng() { return rng_; }

 private:
  TaskEnv(std::shared_ptr<const Task> task, const TaskEnvConfig& config, Renderer* renderer);

  std::shared_ptr<const Task> task_;
  TaskEnvConfig config_;
  Renderer* renderer_;
  std::unique_ptr<Env> env_;
  std::vector<bool> movable_geoms_;  // per model geom, for ObjectMask (filled on first use)
  Rng rng_{0};
  uint64_t seed_ = 0;
  std::string instruction_;
};

// Gaussian action noise for experts (sigma in action units), kept in [-1, 1].
Action AddNoise(const Action& action, double sigma, Rng& rng);

}  // namespace padbench

namespace padbench {

// One scripted-expert episode.
struct ExpertEpisode {
  bool success = false;
  int steps = 0;              // control steps taken
  bool diverged = false;
  std::string failure;        // "", "timeout" or the divergence message
};

// Resets `env` with `seed` and runs the task's expert with Gaussian action
// noise `noise` until success, divergence or the step limit. `on_step`, if
// given, sees each observation with the action then applied (observations are
// only rendered when it is given).
ExpertEpisode RunExpertEpisode(TaskEnv& env, uint64_t seed, double noise,
                               const std::function<void(const Observation&, const Action&)>& on_step = {});

}  // namespace padbench
