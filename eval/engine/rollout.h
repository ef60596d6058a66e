// One episode of a policy in a task: the loop every evaluation, benchmark and viewer runs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "eval/engine/episode_record.h"
#include "eval/metrics/observer.h"
#include "policies/policy.h"
#include "tasks/task_env.h"

namespace padbench {

// Which episode to run.
struct EpisodeJob {
  std::string policy;  // spec, recorded as given
  int index = 0;
  uint64_t seed = 0;
};

// A TaskEnv rendering exactly the observations `policy` asks for (its Inputs()).
std::unique_ptr<TaskEnv> MakeTaskEnv(std::shared_ptr<const Task> task, const Policy& policy, Renderer* renderer);

// Runs one episode to success, failure or the task's step limit.
//  - The policy's action chunk is executed in order; Act is called again when it runs out.
//  - Policy failures (an exception, an empty chunk, a non-finite action, a predicted frame of
//    the wrong size or of a camera the policy does not observe) end the episode as
//    "policy_error" with the message; physics divergence as "physics_divergence".
//  - Predicted frames are scored against the frame of their camera observed `horizon` steps
//    later; every registered metric (eval/metrics/registry.cc) watches the episode and writes
//    its value into the record's `metrics`.
//  - `observers` (videos, the viewer, a stop flag) see the same calls, after the metrics.
// `first_call_is_warmup` marks the record when this is the policy instance's first Act.
EpisodeRecord RunEpisode(TaskEnv& env, Policy& policy, const EpisodeJob& job, bool first_call_is_warmup,
                         const std::vector<RolloutObserver*>& observers = {});

}  // namespace padbench
