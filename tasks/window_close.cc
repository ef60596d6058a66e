// window-close: slide the open blue window sash back along -x by pushing its red handle sideways.
// The window is assets/objects/window.xml (shared with window-open).
#include "tasks/all_tasks.h"
#include "tasks/expert_util.h"

namespace padbench::tasks {
namespace {

constexpr double kClosedTol = 0.02;     // sash travel (m) left that still counts as closed
constexpr double kStartOpenMin = 0.8;   // the sash starts open between this fraction of its travel and fully open
constexpr double kFingerHalfX = 0.014;  // half-width (m) of the closed fingers along x
constexpr double kClearance = 0.02;     // gap (m) between fingers and handle while lowering beside it
constexpr double kGripDrop = 0.005;     // ee this far below the handle's centre (m): fingers cover it, palm clear above
constexpr double kHover = 0.07;         // ee height (m) above the push height while moving beside the handle
constexpr double kAlignTol = 0.006;     // horizontal error (m) allowed before lowering
constexpr double kPushLead = 0.02;      // push target this far past the handle's centre (m): full speed, firm contact
constexpr double kSlipTol = 0.03;       // ee off the handle's line (y or z) by this much (m) means start over
constexpr double kLowClearance = 0.04;  // ee this close (m) above the handle counts as low: rise before moving across


class WindowCloseExpert final : public Expert {
 public:
  explicit WindowCloseExpert(const Env& env)
      : handle_(env.GeomId("window_handle")), handle_half_x_(env.model().geom_size[3 * handle_]) {}

  Action Act(const Env& env) override {
    const Vec3 ee = env.EePos(), handle = env.GeomPos(handle_);
    // Beside the handle on its +x side, at push height.
    const Vec3 start{handle[0] + (handle_half_x_ + kFingerHalfX + kClearance), handle[1], handle[2] - kGripDrop};
    const Vec3 above = Offset(start, 0, 0, kHover);
    switch (phase_) {
      case kAbove:
        if (DistanceXY(ee, start) < kAlignTol && ee[2] > start[2] + 0.5 * kHover) phase_ = kLower;
        if (ee[2] < handle[2] + kLowClearance && DistanceXY(ee, start) > kAlignTol) {
          return MoveTo(env, {ee[0], ee[1], above[2]}, kClose);
        }
        return MoveTo(env, above, kClose);
      case kLower:
        if (DistanceXY(ee, start) > 2 * kAlignTol && ee[2] > start[2] + 0.02) phase_ = kAbove;
        if (ee[2] < start[2] + 0.01) phase_ = kPush;
        return MoveTo(env, start, kClose);
      case kPush:
        // Rode over the handle, slid off its end, or got past it: go back beside it.
        if (std::abs(ee[1] - handle[1]) > kSlipTol || ee[2] > start[2] + kSlipTol || ee[0] < handle[0]) {
          phase_ = kAbove;
        }
        return MoveTo(env, {handle[0] - kPushLead, handle[1], start[2]}, kClose);
    }
    return MoveTo(env, ee, kClose);
  }

 private:
  enum Phase { kAbove, kLower, kPush };
  int handle_;
  double handle_half_x_;
  Phase phase_ = kAbove;
};

class WindowClose final : public Task {
 public:
  WindowClose()
      : Task({"window-close", Difficulty::kEasy, 100,
              {"close the window", "slide the window shut", "push the window handle to slide the window closed"}}) {}

  void Reset(Env& env, Rng& rng) const override {
    env.SetMocapPos(env.BodyId("window"), {rng.Uniform(-0.1, 0.1), rng.Uniform(0.68, 0.76), 0.0});
    const int joint = env.JointId("sash");
    env.SetJointQpos(joint, rng.Uniform(kStartOpenMin, 1.0) * env.model().jnt_range[2 * joint + 1]);
  }
  bool Success(const Env& env) const override { return env.JointQpos(env.JointId("sash")) < kClosedTol; }
  std::unique_ptr<Expert> MakeExpert(const Env& env) const override {
    return std::make_unique<WindowCloseExpert>(env);
  }
};

}  // namespace

std::unique_ptr<Task> MakeWindowClose() { return std::make_unique<WindowClose>(); }

}  // namespace padbench::tasks
