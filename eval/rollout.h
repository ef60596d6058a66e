// One episode of a policy in a task: the loop every evaluation, benchmark and viewer runs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "eval/episode_record.h"
#include "policies/policy.h"
#include "tasks/task_env.h"

namespace padbench {

// Which episode to run.
struct EpisodeJob {
  std::string policy;  // spec, recorded as given
  int index = 0;
  uint64_t seed = 0;
};

// A predicted frame that targets the step just observed, scored against the observed frame.
struct ScoredPrediction {
  int horizon = 0;               // made this many steps earlier
  const Image* frame = nullptr;  // valid during the OnStep call
  double psnr = 0, ssim = 0;
};

// Hooks into a running episode (videos, the live viewer). All calls happen on the rollout's thread.
class RolloutObserver {
 public:
  virtual ~RolloutObserver() = default;
  // After reset, with the first observation.
  virtual void OnReset(const EpisodeInfo& info, const Observation& obs) {}
  // After each Act call, with its output and wall time.
  virtual void OnAct(const Observation& obs, const PolicyOutput& output, double ms) {}
  // After each environment step: the action applied, the new observation, and the predicted
  // frames that targeted this step, scored, in ascending horizon (the newest prediction first).
  virtual void OnStep(const Action& action, const Observation& obs, const std::vector<ScoredPrediction>& predictions) {}
  // Polled between steps; true abandons the episode (the record says "interrupted").
  virtual bool ShouldStop() { return false; }
};

// A TaskEnv rendering exactly the observations `policy` asks for (its Inputs()).
std::unique_ptr<TaskEnv> MakeTaskEnv(std::shared_ptr<const Task> task, const Policy& policy, Renderer* renderer);

// Runs one episode to success, failure or the task's step limit.
//  - The policy's action chunk is executed in order; Act is called again when it runs out.
//  - Policy failures (an exception, an empty chunk, a non-finite action) end the episode
//    as "policy_error" with the message; physics divergence as "physics_divergence".
//  - Predicted frames (of the policy's first camera) are compared with the frame
//    observed that many steps later: PSNR and SSIM per horizon.
// `first_call_is_warmup` marks the record when this is the policy instance's first Act.
EpisodeRecord RunEpisode(TaskEnv& env, Policy& policy, const EpisodeJob& job, bool first_call_is_warmup,
                         RolloutObserver* observer = nullptr);

}  // namespace padbench
