// peg-insert-side: grasp a peg lying on the table and push it sideways into a hole in a block.
#include <algorithm>
#include <cmath>

#include "tasks/all_tasks.h"
#include "tasks/expert_util.h"

namespace padbench::tasks {
namespace {

// Geometry, matching peg-insert-side.xml.
constexpr double kPegHalfLength = 0.07;
constexpr double kPegHalfWidth = 0.012;
constexpr double kHoleHalfWidth = 0.015;
constexpr double kHoleZ = 0.07;  // centre of the opening above the table

constexpr double kInsertDepth = 0.03;    // peg tip this far past the block's face counts as inserted
constexpr double kGraspOffset = -0.012;  // grasp just behind the middle: little gravity torque on the grip
constexpr double kStandOff = 0.03;       // tip this far in front of the opening before pushing in
constexpr double kAligned = 0.003;       // tip-to-axis error (m) allowed before pushing in (the clearance)
constexpr double kEntered = 0.006;       // tip this far into the hole (along y) is past the entry
constexpr double kHoldShort = 0.006;     // where an off-axis tip waits in front of the face while re-centring
constexpr double kTargetDepth = 0.045;   // the expert pushes the tip this deep
constexpr double kInsertSpeed = 0.4;     // action cap while inserting: slow enough to correct on the way
constexpr double kLost = 0.04;           // hand this far from the grasp point has lost the peg

// The peg's tip (+y end) and grasp point in the world, from its pose.
Vec3 PegPoint(const Env& env, int peg, double along) {
  const mjtNum* p = env.data().xpos + 3 * peg;
  const mjtNum* r = env.data().xmat + 9 * peg;
  return {p[0] + along * r[1], p[1] + along * r[4], p[2] + along * r[7]};
}

class PegInsertSideExpert final : public CopyableExpert<PegInsertSideExpert> {
 public:
  explicit PegInsertSideExpert(const Env& env) : peg_(env.BodyId("peg")), box_(env.BodyId("box")) {}

  Action Act(const Env& env) override {
    const Vec3 ee = env.EePos(), hole = env.BodyPos(box_);
    const Vec3 tip = PegPoint(env, peg_, kPegHalfLength), grip = PegPoint(env, peg_, kGraspOffset);
    // Hand target that moves the tip to `goal`, given how the peg sits in the hand now.
    auto tip_to = [&](const Vec3& goal) { return Offset(ee, goal[0] - tip[0], goal[1] - tip[1], goal[2] - tip[2]); };
    const Vec3 before = Offset(hole, 0, -kStandOff, 0);
    switch (phase_) {
      case kAbove:
        if (DistanceXY(ee, grip) < 0.008 && env.GripperOpening() > 0.06) phase_ = kDescend;
        return MoveTo(
            env,
            ee[2] < grip[2] + 0.05 && DistanceXY(ee, grip) > 0.02 ? Offset(ee, 0, 0, 0.05) : Offset(grip, 0, 0, 0.1),
            kOpen);
      case kDescend:
        if (ee[2] - grip[2] < 0.006) phase_ = kGrasp;
        if (DistanceXY(ee, grip) > 0.02) phase_ = kAbove;
        return MoveTo(env, grip, kOpen);
      case kGrasp:
        if (++wait_ > 6) phase_ = kLift;
        return MoveTo(env, grip, kClose);
      case kLift:
        if (Distance(ee, grip) > kLost) return Restart();
        if (tip[2] > kHoleZ - 0.01) phase_ = kAlign;
        return MoveTo(env, Offset(ee, 0, 0, kHoleZ - tip[2]), kClose);
      case kAlign:
        if (Distance(ee, grip) > kLost) return Restart();
        if (std::hypot(tip[0] - before[0], tip[2] - before[2]) < kAligned && std::abs(tip[1] - before[1]) < 0.01) {
          phase_ = kInsert;
        }
        return MoveTo(env, tip_to(before), kClose, 0.5);
      case kInsert: {
        if (Distance(ee, grip) > kLost) return Restart();
        // Off the axis and not yet in the hole: hold short of the face while re-centring.
        const double off_axis = std::hypot(tip[0] - hole[0], tip[2] - hole[2]);
        const bool outside = tip[1] < hole[1] + kEntered;
        Vec3 goal = Offset(hole, 0, kTargetDepth, 0);
        if (outside && off_axis > kHoleHalfWidth - kPegHalfWidth) goal[1] = std::min(tip[1], hole[1] - kHoldShort);
        Action a = MoveTo(env, tip_to(goal), kClose, 0.5);
        a[1] = std::min(a[1], float(kInsertSpeed));
        return a;
      }
    }
    return MoveTo(env, ee, kOpen);
  }

 private:
  enum Phase { kAbove, kDescend, kGrasp, kLift, kAlign, kInsert };

  Action Restart() {
    phase_ = kAbove;
    wait_ = 0;
    return Action{0, 0, 0, kOpen};
  }

  int peg_, box_;
  Phase phase_ = kAbove;
  int wait_ = 0;
};

class PegInsertSide final : public Task {
 public:
  PegInsertSide()
      : Task({"peg-insert-side", Difficulty::kHard, 200,
              {"insert the red peg into the hole in the blue block",
               "push the red peg sideways into the blue box's hole",
               "pick up the peg and slide it into the side hole"}}) {}

  void Reset(Env& env, Rng& rng) const override {
    env.SetFreeJointPose(env.JointId("peg"), {rng.Uniform(-0.2, 0.2), rng.Uniform(0.35, 0.45), kPegHalfWidth});
    env.SetMocapPos(env.BodyId("box"), {rng.Uniform(-0.15, 0.15), rng.Uniform(0.62, 0.72), kHoleZ});
  }
  bool Success(const Env& env) const override {
    const Vec3 tip = PegPoint(env, env.BodyId("peg"), kPegHalfLength), hole = env.BodyPos(env.BodyId("box"));
    return tip[1] > hole[1] + kInsertDepth && std::abs(tip[0] - hole[0]) < kHoleHalfWidth &&
           std::abs(tip[2] - hole[2]) < kHoleHalfWidth;
  }
  std::unique_ptr<Expert> MakeExpert(const Env& env) const override {
    return std::make_unique<PegInsertSideExpert>(env);
  }
};

}  // namespace

std::unique_ptr<Task> MakePegInsertSide() { return std::make_unique<PegInsertSide>(); }

}  // namespace padbench::tasks
