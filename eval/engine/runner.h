// The worker side of the engine: one renderer, one policy instance per spec and one TaskEnv per
// (policy, task), kept across episodes. The engine's workers and the live session both run
// their episodes through it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "eval/engine/rollout.h"
#include "sim/gl_context.h"

namespace padbench {

using PolicyFactory = std::function<std::unique_ptr<Policy>(const std::string& spec)>;

class EpisodeRunner {
 public:
  // Sets the torch threads of the calling thread and creates its renderer (GL context): build it
  // on the thread (or in the process) that runs the episodes. `make` defaults to MakePolicy.
  EpisodeRunner(GlBackend gl, int torch_threads, PolicyFactory make = {});
  ~EpisodeRunner();

  // The instance for `spec` (row `row` of a batch: each row has its own), created (and its
  // checkpoint loaded) on first use.
  Policy& policy(const std::string& spec, int row = 0);
  bool loaded(const std::string& spec) const { return policies_.count({spec, 0}) > 0; }
  // Drops every instance but that of `keep` (the live session switching policies).
  void ReleaseOthers(const std::string& keep);
  // Drops the envs made for a policy the runner does not own (after RunWith).
  void ForgetEnvs(const Policy& policy);
  // The TaskEnv rendering what `policy` asks for on `task`, made on first use.
  TaskEnv& env(Policy& policy, const std::shared_ptr<const Task>& task);

  // The episode `job` of its policy spec on `task`; the first Act of a fresh instance is marked warm-up.
  EpisodeRecord Run(const EpisodeJob& job, const std::shared_ptr<const Task>& task,
                    const std::vector<RolloutObserver*>& observers = {});
  // Episodes side by side with their Act calls batched (RunEpisodes): row i runs rows[i] (a padding
  // row where empty) with row i's instance of the rows' one policy spec, seen by observers[i].
  // Returns the records of the rows that run, in row order.
  std::vector<EpisodeRecord> RunBatch(const std::vector<std::optional<EpisodeJob>>& rows,
                                      const std::shared_ptr<const Task>& task,
                                      const std::vector<std::vector<RolloutObserver*>>& observers);
  // The same for a policy the runner does not own (a replay), recorded as job.policy.
  EpisodeRecord RunWith(Policy& policy, const EpisodeJob& job, const std::shared_ptr<const Task>& task, bool warmup,
                        const std::vector<RolloutObserver*>& observers = {});

 private:
  PolicyFactory make_;
  std::unique_ptr<Renderer> renderer_;
  struct Instance {
    std::unique_ptr<Policy> policy;
    bool acted = false;  // its first Act (the warm-up call) has happened
  };
  // Whether the instance of (spec, row) runs its first episode (its first Act is the warm-up call).
  bool FirstEpisode(const std::string& spec, int row);

  std::map<std::pair<std::string, int>, Instance> policies_;  // by spec and batch row
  std::map<std::pair<const Policy*, std::string>, std::unique_ptr<TaskEnv>> envs_;
};

}  // namespace padbench
