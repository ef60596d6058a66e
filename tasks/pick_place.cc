// pick-place: grasp a red cube and hold it at a green goal in the air.
#include "tasks/all_tasks.h"
#include "tasks/expert_util.h"

namespace padbench::tasks {
namespace {

constexpr double kTolerance = 0.05;  // cube centre to goal (m)

class PickPlaceExpert final : public CopyableExpert<PickPlaceExpert> {
 public:
  explicit PickPlaceExpert(const Env& env) : cube_(env.BodyId("cube")), goal_(env.BodyId("goal")) {}

  Action Act(const Env& env) override {
    const Vec3 ee = env.EePos(), cube = env.BodyPos(cube_), goal = env.BodyPos(goal_);
    const Vec3 above = Offset(cube, 0, 0, 0.1);
    switch (phase_) {
      case kAbove:
        if (DistanceXY(ee, cube) < 0.008 && env.GripperOpening() > 0.06) phase_ = kDescend;
        return MoveTo(env, ee[2] < cube[2] + 0.05 && DistanceXY(ee, cube) > 0.02 ? Offset(ee, 0, 0, 0.05) : above,
                      kOpen);
      case kDescend:
        if (ee[2] - cube[2] < 0.006) phase_ = kGrasp;
        if (DistanceXY(ee, cube) > 0.02) phase_ = kAbove;
        return MoveTo(env, cube, kOpen);
      case kGrasp:
        if (++grasp_steps_ > 6) phase_ = kCarry;
        return MoveTo(env, cube, kClose);
      case kCarry:
        // Lost the cube (it is back on the table, away from the fingers): start over.
        if (Distance(ee, cube) > 0.04) {
          phase_ = kAbove;
          grasp_steps_ = 0;
        }
        return MoveTo(env, Offset(goal, 0, 0, ee[2] - cube[2]), kClose);
    }
    return MoveTo(env, ee, kOpen);
  }

 private:
  enum Phase { kAbove, kDescend, kGrasp, kCarry };
  int cube_, goal_;
  Phase phase_ = kAbove;
  int grasp_steps_ = 0;
};

class PickPlace final : public Task {
 public:
  PickPlace()
      : Task({"pick-place", Difficulty::kHard, 200,
              {"pick up the red cube and place it at the green goal", "lift the red block to the green marker",
               "move the red cube to the green target"}}) {}

  void Reset(Env& env, Rng& rng) const override {
    const Vec3 cube{rng.Uniform(-0.2, 0.2), rng.Uniform(0.35, 0.55), 0.02};
    Vec3 goal;
    do {
      goal = {rng.Uniform(-0.2, 0.2), rng.Uniform(0.55, 0.8), rng.Uniform(0.08, 0.25)};
    } while (DistanceXY(goal, cube) < 0.15);
    env.SetFreeJointPose(env.JointId("cube"), cube);
    env.SetMocapPos(env.BodyId("goal"), goal);
  }
  bool Success(const Env& env) const override {
    return Distance(env.BodyPos(env.BodyId("cube")), env.BodyPos(env.BodyId("goal"))) < kTolerance;
  }
  std::unique_ptr<Expert> MakeExpert(const Env& env) const override {
    return std::make_unique<PickPlaceExpert>(env);
  }
};

}  // namespace

std::unique_ptr<Task> MakePickPlace() { return std::make_unique<PickPlace>(); }

}  // namespace padbench::tasks
