// door-open: pull a door on a vertical hinge open toward the robot by its handle.
#include <cmath>

#include "tasks/all_tasks.h"
#include "tasks/expert_util.h"

namespace padbench::tasks {
namespace {

constexpr double kOpenAngle = 0.6;  // hinge angle (rad) that counts as open; the range is 0..1.6
// The slot between handle bar and door, in the door frame relative to the hinge axis
// (x along the closed door, y toward the robot is negative): matches door-open.xml.
constexpr double kSlotX = 0.15;
constexpr double kSlotY = -0.035;
constexpr double kHookZ = 0.119;    // fingertips 7 mm below the bar, palm 1 cm above the door top
constexpr double kAboveZ = 0.2;     // fingertips clear the door and the handle
constexpr double kLookAhead = 0.2;  // rad: aim where the handle will be, so the fingers drag the bar
constexpr double kLost = 0.035;     // hand this far (m) from the slot has lost the handle

class DoorOpenExpert final : public CopyableExpert<DoorOpenExpert> {
 public:
  explicit DoorOpenExpert(const Env& env) : hinge_(env.JointId("hinge")) {}

  Action Act(const Env& env) override {
    const Vec3 ee = env.EePos();
    const double angle = env.JointQpos(hinge_);
    const Vec3 slot = SlotAt(env, angle, kHookZ);
    switch (phase_) {
      case kAbove:
        if (DistanceXY(ee, slot) < 0.008) phase_ = kLower;
        // Rise first when low, so the fingers do not sweep through the door or the handle.
        if (ee[2] < kAboveZ - 0.03 && DistanceXY(ee, slot) > 0.015) {
          return MoveTo(env, Offset(ee, 0, 0, kAboveZ - ee[2]), kClose);
        }
        return MoveTo(env, Offset(slot, 0, 0, kAboveZ - kHookZ), kClose);
      case kLower:
        if (ee[2] < kHookZ + 0.008) phase_ = kPull;
        if (DistanceXY(ee, slot) > 0.015) phase_ = kAbove;
        return MoveTo(env, slot, kClose);
      case kPull:
        if (DistanceXY(ee, slot) > kLost) phase_ = kAbove;
        return MoveTo(env, SlotAt(env, angle + kLookAhead, kHookZ), kClose);
    }
    return MoveTo(env, ee, kClose);
  }

 private:
  enum Phase { kAbove, kLower, kPull };

  // The slot centre in the world when the door is open by `angle`.
  Vec3 SlotAt(const Env& env, double angle, double z) const {
    const mjtNum* hinge = env.data().xanchor + 3 * hinge_;
    const double c = std::cos(angle), s = std::sin(angle);
    return {hinge[0] + kSlotX * c + kSlotY * s, hinge[1] - kSlotX * s + kSlotY * c, z};
  }

  int hinge_;
  Phase phase_ = kAbove;
};

class DoorOpen final : public Task {
 public:
  DoorOpen()
      : Task({"door-open", Difficulty::kMedium, 150,
              {"open the door", "pull the blue door open by its handle", "swing the door open toward you"}}) {}

  void Reset(Env& env, Rng& rng) const override {
    env.SetMocapPos(env.BodyId("frame"), {rng.Uniform(-0.12, 0.12), rng.Uniform(0.58, 0.72), 0});
  }
  bool Success(const Env& env) const override { return env.JointQpos(env.JointId("hinge")) > kOpenAngle; }
  std::unique_ptr<Expert> MakeExpert(const Env& env) const override { return std::make_unique<DoorOpenExpert>(env); }
};

}  // namespace

std::unique_ptr<Task> MakeDoorOpen() { return std::make_unique<DoorOpen>(); }

}  // namespace padbench::tasks
