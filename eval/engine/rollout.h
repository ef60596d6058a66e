// One episode of a policy in a task: the loop every evaluation, benchmark and viewer runs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/engine/episode_record.h"
#include "eval/metrics/observer.h"
#include "policies/policy.h"
#include "tasks/task_env.h"

namespace padbench {

// How the simulator treats the time an Act call takes.
//  - Synchronous (the default): the simulator waits for every Act.
//  - Real time: the simulator keeps stepping at the control rate while Act runs. An Act on the
//    observation of step t taking L ms delivers its chunk ceil(L / control period) steps later;
//    until then the previous chunk goes on, and when it is used up the arm holds still (no motion,
//    the gripper keeps its command). The chunk's entries for steps already past are dropped (its
//    last one is always kept). The next Act starts as many steps before the chunk runs out as the
//    last Act took, so a steady latency is hidden behind the chunk when the chunk is long enough.
struct ActTiming {
  bool realtime = false;
  double latency_ms = -1;  // real time: every Act takes this long; < 0: its measured wall time
  // The run's identity and the viewer's label: null when synchronous.
  nlohmann::json ToJson() const;
  static ActTiming FromJson(const nlohmann::json& json);  // null: synchronous
  std::string Describe() const;  // "synchronous", "real time, Act 14 ms", "real time, measured Act"
};

// Which episode to run, and how.
struct EpisodeJob {
  std::string policy;  // spec, recorded as given
  int index = 0;
  uint64_t seed = 0;
  ActTiming timing;
};

// A TaskEnv rendering exactly the observations `policy` asks for (its Inputs()).
std::unique_ptr<TaskEnv> MakeTaskEnv(std::shared_ptr<const Task> task, const Policy& policy, Renderer* renderer);

// One episode of a policy in a task, one call at a time, so that several episodes can run side by
// side with their Act calls batched. The caller alternates:
//    while (!r.done()) {
//      if (r.needs_act()) { r.BeginAct(); ...Act on r.obs()...; r.EndAct(output, seconds); }
//      else r.Step();
//    }
//    EpisodeRecord rec = r.Finish();
// (RunEpisodes does this for a batch of episodes, RunEpisode for one.)
//  - The policy's action chunk is executed in order; Act is called again when it runs out.
//  - Policy failures (an exception, an empty chunk, a non-finite action, a predicted frame of
//    the wrong size or of a camera the policy does not observe) end the episode as
//    "policy_error" with the message; physics divergence as "physics_divergence".
//  - Predicted frames are scored against the frame of their camera observed `horizon` steps
//    after the observation they were made from; every registered metric (eval/metrics/registry.cc)
//    watches the episode and writes its value into the record's `metrics`.
//  - `observers` (videos, the viewer, a stop flag) see the same calls, after the metrics.
// `first_call_is_warmup` marks the record when this is the policy instance's first Act.
class Rollout {
 public:
  // Resets the environment and the policy and observes (no Act yet).
  Rollout(TaskEnv& env, Policy& policy, const EpisodeJob& job, bool first_call_is_warmup,
          const std::vector<RolloutObserver*>& observers = {});
  ~Rollout();
  Rollout(const Rollout&) = delete;
  Rollout& operator=(const Rollout&) = delete;

  bool done() const { return done_; }
  // The policy must act on obs() before the next Step.
  bool needs_act() const;
  const Observation& obs() const { return obs_; }

  // Around an Act call on obs(): BeginAct tells the observers (and may end an interrupted episode:
  // check done() before acting); EndAct takes the output and its wall time, or FailAct the error.
  void BeginAct();
  void EndAct(PolicyOutput output, double seconds);
  void FailAct(const std::string& what, double seconds);
  // One control step.
  void Step();
  // The record, once done().
  EpisodeRecord Finish();

 private:
  struct State;
  void Fail(const std::string& reason, const std::string& detail);
  bool StopRequested();
  void Deliver();

  TaskEnv& env_;
  Policy& policy_;
  std::unique_ptr<State> s_;
  Observation obs_;
  bool done_ = false;
};

// One row of RunEpisodes: an episode, or padding (policy null).
struct BatchRow {
  TaskEnv* env = nullptr;
  Policy* policy = nullptr;  // instances of one policy spec, one per row
  EpisodeJob job;
  bool first_call_is_warmup = false;
  std::vector<RolloutObserver*> observers;
};

// Runs the rows' episodes side by side: every control step, the rows whose chunk is used up act
// in one Policy::ActBatch call (the others are its padding rows: a row keeps its place, and the
// batch its size, until the last episode ends), then every running episode steps. Each row's
// Act time is the batched call's. A throwing ActBatch fails the episodes that acted in it.
// Returns the records of the episode rows, in row order.
std::vector<EpisodeRecord> RunEpisodes(const std::vector<BatchRow>& rows);

// Runs one episode to success, failure or the task's step limit (see Rollout): RunEpisodes of one row.
EpisodeRecord RunEpisode(TaskEnv& env, Policy& policy, const EpisodeJob& job, bool first_call_is_warmup,
                         const std::vector<RolloutObserver*>& observers = {});

}  // namespace padbench
