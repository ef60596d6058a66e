// plate-slide: push a wide flat plate across the table into a low cage at the back.
#include <algorithm>
#include <cmath>

#include "tasks/all_tasks.h"
#include "tasks/expert_util.h"

namespace padbench::tasks {
namespace {

constexpr double kTolerance = 0.06;         // plate centre to goal-zone centre in xy (m): inside the cage
constexpr double kMaxSideways = 0.15;       // plate start to cage in x: a slide, not a sideways push
constexpr double kPlateRadius = 0.055;      // matches the plate in plate-slide.xml
constexpr double kPlateHalfHeight = 0.008;  // resting height of the plate centre
constexpr double kFingerDepth = 0.014;      // half-depth of a finger along y
constexpr double kClearance = 0.02;         // gap behind the plate before lowering, so the fingers miss it
constexpr double kTravelZ = 0.06;           // fingertips clear the plate and the cage walls
constexpr double kPushZ = 0.016;            // fingertips 3 mm above the table
constexpr double kLookAhead = 0.12;         // pursuit distance toward the cage's centre line (m)
constexpr double kGoalDepth = 0.02;         // aim this far past the goal centre: the plate ends against the back wall
constexpr double kLead = 0.03;              // how far ahead of the hand it aims while pushing
constexpr double kMaxSpeed = 0.6;           // action cap while pushing
constexpr double kCentring = 0.5;           // sideways hand motion per metre the plate is off the fork's centre
constexpr double kOutOfFork = 0.05;         // plate centre this far sideways of the hand is slipping past a finger
constexpr double kBeside = 0.03;            // plate centre less than this ahead of the hand is beside it



class PlateSlideExpert final : public CopyableExpert<PlateSlideExpert> {
 public:
  explicit PlateSlideExpert(const Env& env) : plate_(env.BodyId("plate")), cage_(env.BodyId("cage")) {}

  Action Act(const Env& env) override {
    const Vec3 ee = env.EePos(), plate = env.BodyPos(plate_), cage = env.BodyPos(cage_);
    // The open fingers hold the plate between them as a fork (along +y); moving the hand along the
    // pursuit direction drags the plate with it. Pure pursuit of the cage's centre line makes the
    // plate enter the cage straight.
    const double end_y = cage[1] + kGoalDepth;
    const Vec3 aim = {cage[0], std::min(end_y, plate[1] + kLookAhead), 0};
    const Vec3 u = DirectionXY(plate, aim);
    const Vec3 behind = {plate[0], plate[1] - (kPlateRadius + kFingerDepth + kClearance), kPushZ};
    switch (phase_) {
      case kAbove: {
        if (DistanceXY(ee, behind) < 0.01) phase_ = kLower;
        // Lift first when low and away from the approach point, so the fingers pass over the plate.
        const bool low = ee[2] < kTravelZ - 0.02 && DistanceXY(ee, behind) > 0.02;
        return MoveTo(env, low ? Vec3{ee[0], ee[1], kTravelZ} : Vec3{behind[0], behind[1], kTravelZ}, kOpen);
      }
      case kLower:
        if (ee[2] < kPushZ + 0.008) phase_ = kPush;
        if (DistanceXY(ee, behind) > 0.02) phase_ = kAbove;
        return MoveTo(env, behind, kOpen);
      case kPush: {
        // The plate left the fork (beside a finger or level with the hand): go round again.
        if (std::abs(plate[0] - ee[0]) > kOutOfFork || plate[1] - ee[1] < kBeside) {
          phase_ = kAbove;
          return MoveTo(env, ee, kOpen);
        }
        const double ahead = std::clamp(end_y - plate[1], 0.0, kLead);
        // Keep the hand centred behind the plate as it turns, so neither finger slips past it.
        const double centre = kCentring * (plate[0] - ee[0]);
        const Vec3 target = Offset(ee, u[0] * ahead + centre, u[1] * ahead, kPushZ - ee[2]);
        return CapXY(MoveTo(env, target, kOpen), kMaxSpeed);
      }
    }
    return MoveTo(env, ee, kOpen);
  }

 private:
  enum Phase { kAbove, kLower, kPush };
  int plate_, cage_;
  Phase phase_ = kAbove;
};

class PlateSlide final : public Task {
 public:
  PlateSlide()
      : Task({"plate-slide", Difficulty::kMedium, 150,
              {"slide the yellow plate into the goal", "push the yellow plate into the cage at the back",
               "slide the flat yellow disc into the green goal area"}}) {}

  void Reset(Env& env, Rng& rng) const override {
    const Vec3 cage{rng.Uniform(-0.12, 0.12), rng.Uniform(0.68, 0.74), 0};
    // The plate starts in front of the cage, at most kMaxSideways to either side of it.
    const double x = std::clamp(cage[0] + rng.Uniform(-kMaxSideways, kMaxSideways), -0.2, 0.2);
    env.SetFreeJointPose(env.JointId("plate"), {x, rng.Uniform(0.35, 0.45), kPlateHalfHeight});
    env.SetMocapPos(env.BodyId("cage"), cage);
  }
  bool Success(const Env& env) const override {
    return DistanceXY(env.BodyPos(env.BodyId("plate")), env.BodyPos(env.BodyId("cage"))) < kTolerance;
  }
  std::unique_ptr<Expert> MakeExpert(const Env& env) const override { return std::make_unique<PlateSlideExpert>(env); }
};

}  // namespace

std::unique_ptr<Task> MakePlateSlide() { return std::make_unique<PlateSlide>(); }

}  // namespace padbench::tasks
