// Policies that need no training: the scripted expert and uniform random actions.
#include "policies/family.h"
#include "sim/error.h"
#include "sim/rng.h"
#include "tasks/task.h"

namespace padbench {
namespace {

constexpr std::string_view kExpert = "expert", kRandom = "random";

class ExpertPolicy final : public Policy {
 public:
  std::string_view Name() const override { return kExpert; }
  void Reset(const EpisodeInfo& episode) override {
    if (!episode.env || !episode.task_def) {
      throw Error("the expert policy needs the simulator state, which only padbench's own rollouts provide");
    }
    env_ = episode.env;
    expert_ = episode.task_def->MakeExpert(*env_);
  }
  PolicyOutput Act(const Observation&) override {
    PADBENCH_CHECK(expert_ != nullptr, "Act before Reset");
    return {{expert_->Act(*env_)}, {}, {}};
  }

 private:
  const Env* env_ = nullptr;
  std::unique_ptr<Expert> expert_;
};

class RandomPolicy final : public Policy {
 public:
  std::string_view Name() const override { return kRandom; }
  void Reset(const EpisodeInfo& episode) override { rng_ = Rng(Mix64(episode.seed ^ HashName(kRandom))); }
  PolicyOutput Act(const Observation&) override {
    Action a;
    for (float& v : a) v = float(rng_.Uniform(-1.0, 1.0));
    return {{a}, {}, {}};
  }

 private:
  Rng rng_{0};
};

}  // namespace

Family ExpertFamily() {
  Family f;
  f.name = kExpert;
  f.help = "the task's scripted expert (privileged state)";
  f.make = [](const std::string&) { return std::make_unique<ExpertPolicy>(); };
  return f;
}

Family RandomFamily() {
  Family f;
  f.name = kRandom;
  f.help = "uniform random actions";
  f.make = [](const std::string&) { return std::make_unique<RandomPolicy>(); };
  return f;
}

}  // namespace padbench
