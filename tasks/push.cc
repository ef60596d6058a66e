// push: push a red puck across the table onto a green goal disc.
#include <algorithm>
#include <cmath>

#include "tasks/all_tasks.h"
#include "tasks/expert_util.h"

namespace padbench::tasks {
namespace {

constexpr double kTolerance = 0.05;       // puck centre to goal centre in xy (m)
constexpr double kPuckRadius = 0.03;      // matches the puck geom in push.xml
constexpr double kPuckHalfHeight = 0.02;  // resting height of the puck centre
constexpr double kFingerHalf = 0.014;     // half-width of the closed finger pair
// The closed fingers leave a slit at the hand's centre that the puck rim could wedge open;
// shifting the hand sideways by half a finger keeps the contact on one finger.
constexpr double kSlitDodge = 0.007;
constexpr double kClearance = 0.025;  // gap behind the puck before lowering, so the fingers miss it
constexpr double kTravelZ = 0.08;     // fingertips clear the puck top while moving over it
constexpr double kPushZ = 0.022;      // fingertips just above the table, contact below the puck's middle
constexpr double kLead = 0.03;        // how far ahead of the hand it aims while pushing
constexpr double kMaxSpeed = 0.6;     // action cap while pushing: a slow push keeps the puck on the line
constexpr double kOffLine = 0.015;    // sideways error (m) of the hand that calls for lining up again
constexpr double kBeside = 0.015;     // hand less than this behind the puck centre is beside it
constexpr double kSteer = 1.0;        // extra sideways aim per metre of sideways error



class PushExpert final : public CopyableExpert<PushExpert> {
 public:
  explicit PushExpert(const Env& env) : puck_(env.BodyId("puck")), goal_(env.BodyId("goal")) {}

  Action Act(const Env& env) override {
    const Vec3 ee = env.EePos(), puck = env.BodyPos(puck_), goal = env.BodyPos(goal_);
    const Vec3 u = DirectionXY(puck, goal), n = {-u[1], u[0], 0};
    // Where the hand pushes from: behind the puck on the puck-goal line, shifted off the slit.
    const double dodge = u[0] >= 0 ? -kSlitDodge : kSlitDodge;
    const double reach = kPuckRadius + kFingerHalf;
    const Vec3 contact = {puck[0] - u[0] * reach + dodge, puck[1] - u[1] * reach, kPushZ};
    const Vec3 behind = Offset(contact, -u[0] * kClearance, -u[1] * kClearance, 0);
    const double along = (ee[0] - puck[0]) * u[0] + (ee[1] - puck[1]) * u[1];
    const double across = (ee[0] - contact[0]) * n[0] + (ee[1] - contact[1]) * n[1];
    switch (phase_) {
      case kAbove: {
        if (DistanceXY(ee, behind) < 0.01) phase_ = kLower;
        // Lift first when low and away from the approach point, so the fingers pass over the puck.
        const bool low = ee[2] < kTravelZ - 0.02 && DistanceXY(ee, behind) > 0.02;
        return MoveTo(env, low ? Vec3{ee[0], ee[1], kTravelZ} : Vec3{behind[0], behind[1], kTravelZ}, kClose);
      }
      case kLower:
        if (ee[2] < kPushZ + 0.008) phase_ = kPush;
        if (DistanceXY(ee, behind) > 0.02) phase_ = kAbove;
        return MoveTo(env, behind, kClose);
      case kPush: {
        // The puck slid off the line: back off and line up again at table height.
        if (std::abs(across) > kOffLine) phase_ = kRealign;
        // The hand ended up beside the puck: go round over it.
        if (along > -kBeside) phase_ = kAbove;
        if (phase_ != kPush) return MoveTo(env, ee, kClose);
        // Aim ahead along the line and overcorrect sideways, steering the puck back onto it.
        const double ahead = std::min(kLead, DistanceXY(puck, goal));
        const double side = -(1 + kSteer) * across;
        const Vec3 target = Offset(ee, u[0] * ahead + n[0] * side, u[1] * ahead + n[1] * side, kPushZ - ee[2]);
        return CapXY(MoveTo(env, target, kClose), kMaxSpeed);
      }
      case kRealign:
        if (along > -kBeside) phase_ = kAbove;
        if (DistanceXY(ee, behind) < 0.008) phase_ = kPush;
        return MoveTo(env, behind, kClose);
    }
    return MoveTo(env, ee, kClose);
  }

 private:
  enum Phase { kAbove, kLower, kPush, kRealign };
  int puck_, goal_;
  Phase phase_ = kAbove;
};

class Push final : public Task {
 public:
  Push()
      : Task({"push", Difficulty::kMedium, 150,
              {"push the red puck to the green goal", "slide the red disc onto the green circle",
               "shove the red puck over to the green target"}}) {}

  void Reset(Env& env, Rng& rng) const override {
    const Vec3 puck{rng.Uniform(-0.2, 0.2), rng.Uniform(0.4, 0.6), kPuckHalfHeight};
    Vec3 goal;
    do {
      goal = {rng.Uniform(-0.25, 0.25), rng.Uniform(0.4, 0.75), 0.001};
    } while (DistanceXY(goal, puck) < 0.12 || DistanceXY(goal, puck) > 0.3);
    env.SetFreeJointPose(env.JointId("puck"), puck);
    env.SetMocapPos(env.BodyId("goal"), goal);
  }
  bool Success(const Env& env) const override {
    return DistanceXY(env.BodyPos(env.BodyId("puck")), env.BodyPos(env.BodyId("goal"))) < kTolerance;
  }
  std::unique_ptr<Expert> MakeExpert(const Env& env) const override { return std::make_unique<PushExpert>(env); }
};

}  // namespace

std::unique_ptr<Task> MakePush() { return std::make_unique<Push>(); }

}  // namespace padbench::tasks
