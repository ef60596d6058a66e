// stack: pick up the red cube and put it down on top of the blue cube.
#include <cmath>

#include "tasks/all_tasks.h"
#include "tasks/expert_util.h"

namespace padbench::tasks {
namespace {

constexpr double kCube = 0.05;             // cube edge (m), matches stack.xml
constexpr double kAlignXY = 0.02;          // red centre over blue centre (m): well inside the 5 cm face
constexpr double kStackedZ = 0.008;        // allowed error of the red-over-blue height (one cube edge)
constexpr double kReleased = 0.065;        // finger opening (m) wider than the cube: the gripper let go
constexpr double kCarryClearance = 0.025;  // red bottom above the blue top while carrying
constexpr double kDropGap = 0.004;         // red bottom above the blue top when the fingers open
constexpr double kLost = 0.04;             // hand this far from the red cube while carrying has dropped it

class StackExpert final : public CopyableExpert<StackExpert> {
 public:
  explicit StackExpert(const Env& env) : top_(env.BodyId("top")), base_(env.BodyId("base")) {}

  Action Act(const Env& env) override {
    const Vec3 ee = env.EePos(), top = env.BodyPos(top_), base = env.BodyPos(base_);
    const Vec3 above = Offset(top, 0, 0, 0.1);
    // Where the red cube should be, and the hand target that puts it there given the grasp offset.
    const double carry_z = base[2] + kCube + kCarryClearance;
    const double place_z = base[2] + kCube + kDropGap;
    auto hand_for = [&](double z) {
      return Vec3{ee[0] + base[0] - top[0], ee[1] + base[1] - top[1], ee[2] + z - top[2]};
    };
    switch (phase_) {
      case kAbove:
        if (DistanceXY(ee, top) < 0.008 && env.GripperOpening() > 0.06) phase_ = kDescend;
        return MoveTo(env, ee[2] < top[2] + 0.06 && DistanceXY(ee, top) > 0.02 ? Offset(ee, 0, 0, 0.06) : above, kOpen);
      case kDescend:
        if (ee[2] - top[2] < 0.006) phase_ = kGrasp;
        if (DistanceXY(ee, top) > 0.02) phase_ = kAbove;
        return MoveTo(env, top, kOpen);
      case kGrasp:
        if (++wait_ > 6) phase_ = kLift;
        return MoveTo(env, top, kClose);
      case kLift:
        if (Distance(ee, top) > kLost) return Restart();
        if (top[2] > carry_z - 0.01) phase_ = kCarry;
        return MoveTo(env, Offset(ee, 0, 0, carry_z - top[2]), kClose);
      case kCarry:
        if (Distance(ee, top) > kLost) return Restart();
        if (DistanceXY(top, base) < 0.006) phase_ = kLower;
        return MoveTo(env, hand_for(carry_z), kClose);
      case kLower:
        if (Distance(ee, top) > kLost) return Restart();
        if (DistanceXY(top, base) > 0.015) phase_ = kCarry;
        if (top[2] < place_z + 0.003) {
          phase_ = kRelease;
          wait_ = 0;
        }
        return MoveTo(env, hand_for(place_z), kClose, 0.5);
      case kRelease:
        // Open in place, then back off upward; start over if the cube did not stay on the base.
        if (env.GripperOpening() > kReleased + 0.005 && ++wait_ > 3) {
          const bool on_base = DistanceXY(top, base) < kAlignXY && std::abs(top[2] - base[2] - kCube) < kStackedZ;
          if (!on_base) return Restart();
          return MoveTo(env, Offset(ee, 0, 0, 0.05), kOpen);
        }
        return MoveTo(env, ee, kOpen);
    }
    return MoveTo(env, ee, kOpen);
  }

 private:
  enum Phase { kAbove, kDescend, kGrasp, kLift, kCarry, kLower, kRelease };

  Action Restart() {
    phase_ = kAbove;
    wait_ = 0;
    return Action{0, 0, 0, kOpen};
  }

  int top_, base_;
  Phase phase_ = kAbove;
  int wait_ = 0;
};

class Stack final : public Task {
 public:
  Stack()
      : Task({"stack", Difficulty::kHard, 200,
              {"stack the red cube on the blue cube", "put the red block on top of the blue block",
               "place the red cube onto the blue one"}}) {}

  void Reset(Env& env, Rng& rng) const override {
    const Vec3 top{rng.Uniform(-0.2, 0.2), rng.Uniform(0.4, 0.7), kCube / 2};
    Vec3 base;
    do {
      base = {rng.Uniform(-0.2, 0.2), rng.Uniform(0.4, 0.7), kCube / 2};
    } while (DistanceXY(base, top) < 0.12);
    env.SetFreeJointPose(env.JointId("top"), top);
    env.SetFreeJointPose(env.JointId("base"), base);
  }
  bool Success(const Env& env) const override {
    const Vec3 top = env.BodyPos(env.BodyId("top")), base = env.BodyPos(env.BodyId("base"));
    return DistanceXY(top, base) < kAlignXY && std::abs(top[2] - base[2] - kCube) < kStackedZ &&
           env.GripperOpening() > kReleased;
  }
  std::unique_ptr<Expert> MakeExpert(const Env& env) const override { return std::make_unique<StackExpert>(env); }
};

}  // namespace

std::unique_ptr<Task> MakeStack() { return std::make_unique<Stack>(); }

}  // namespace padbench::tasks
