// reach: move the end effector to a red sphere floating above the table.
#include "tasks/all_tasks.h"
#include "tasks/expert_util.h"

namespace padbench::tasks {
namespace {

constexpr double kTolerance = 0.03;  // metres from the goal centre

class ReachExpert final : public CopyableExpert<ReachExpert> {
 public:
  explicit ReachExpert(const Env& env) : goal_(env.BodyId("goal")) {}
  Action Act(const Env& env) override { return MoveTo(env, env.BodyPos(goal_), kClose); }

 private:
  int goal_;
};

class Reach final : public Task {
 public:
  Reach()
      : Task({"reach", Difficulty::kEasy, 100,
              {"reach the red ball", "move the gripper to the red sphere", "touch the red target with the gripper"}}) {}

  void Reset(Env& env, Rng& rng) const override {
    env.SetMocapPos(env.BodyId("goal"), {rng.Uniform(-0.25, 0.25), rng.Uniform(0.35, 0.75), rng.Uniform(0.05, 0.3)});
  }
  bool Success(const Env& env) const override {
    return Distance(env.EePos(), env.BodyPos(env.BodyId("goal"))) < kTolerance;
  }
  std::unique_ptr<Expert> MakeExpert(const Env& env) const override { return std::make_unique<ReachExpert>(env); }
};

}  // namespace

std::unique_ptr<Task> MakeReach() { return std::make_unique<Reach>(); }

}  // namespace padbench::tasks
