#include "eval/engine/runner.h"

#include <utility>

#include "policies/registry.h"
#include "policies/threads.h"
#include "sim/renderer.h"

namespace padbench {

EpisodeRunner::EpisodeRunner(GlBackend gl, int torch_threads, PolicyFactory make)
    : make_(make ? std::move(make) : PolicyFactory(MakePolicy)) {
  SetTorchThreads(torch_threads);
  renderer_ = Renderer::Create({gl});
}

EpisodeRunner::~EpisodeRunner() = default;

Policy& EpisodeRunner::policy(const std::string& spec, int row) {
  Instance& i = policies_[{spec, row}];
  if (!i.policy) {
    try {
      i.policy = make_(spec);
    } catch (...) {
      policies_.erase({spec, row});
      throw;
    }
  }
  return *i.policy;
}

void EpisodeRunner::ReleaseOthers(const std::string& keep) {
  for (auto it = policies_.begin(); it != policies_.end();) {
    if (it->first.first == keep) {
      ++it;
      continue;
    }
    ForgetEnvs(*it->second.policy);
    it = policies_.erase(it);
  }
}

void EpisodeRunner::ForgetEnvs(const Policy& policy) {
  for (auto e = envs_.begin(); e != envs_.end();) e = e->first.first == &policy ? envs_.erase(e) : ++e;
}

TaskEnv& EpisodeRunner::env(Policy& policy, const std::shared_ptr<const Task>& task) {
  auto& env = envs_[{&policy, std::string(task->Name())}];
  if (!env) env = MakeTaskEnv(task, policy, renderer_.get());
  return *env;
}

EpisodeRecord EpisodeRunner::Run(const EpisodeJob& job, const std::shared_ptr<const Task>& task,
                                 const std::vector<RolloutObserver*>& observers) {
  Policy& p = policy(job.policy);
  return RunWith(p, job, task, FirstEpisode(job.policy, 0), observers);
}

bool EpisodeRunner::FirstEpisode(const std::string& spec, int row) {
  Instance& i = policies_.at({spec, row});
  return !std::exchange(i.acted, true);
}

std::vector<EpisodeRecord> EpisodeRunner::RunBatch(const std::vector<std::optional<EpisodeJob>>& rows,
                                                   const std::shared_ptr<const Task>& task,
                                                   const std::vector<std::vector<RolloutObserver*>>& observers) {
  std::vector<BatchRow> batch(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    if (!rows[r]) continue;
    Policy& p = policy(rows[r]->policy, int(r));
    batch[r] = {&env(p, task), &p, *rows[r], FirstEpisode(rows[r]->policy, int(r)), observers[r]};
  }
  return RunEpisodes(batch);
}

EpisodeRecord EpisodeRunner::RunWith(Policy& policy, const EpisodeJob& job, const std::shared_ptr<const Task>& task,
                                     bool warmup, const std::vector<RolloutObserver*>& observers) {
  return RunEpisode(env(policy, task), policy, job, warmup, observers);
}

}  // namespace padbench
