// The scripted expert of window-open and window-close: lower the closed gripper beside the
// sash's handle and push it sideways (private to tasks/).
#pragma once

#include <cmath>

#include "tasks/expert_util.h"
#include "tasks/task.h"

namespace padbench::tasks {

class SashPushExpert final : public CopyableExpert<SashPushExpert> {
 public:
  static constexpr double kFingerHalfX = 0.014;  // half-width (m) of the closed fingers along x
  static constexpr double kClearance = 0.02;     // gap (m) between fingers and handle while lowering beside it
  static constexpr double kGripDrop = 0.005;     // ee this far below the handle's centre (m): fingers cover it, palm clear above
  static constexpr double kHover = 0.07;         // ee height (m) above the push height while moving beside the handle
  static constexpr double kAlignTol = 0.006;     // horizontal error (m) allowed before lowering
  static constexpr double kPushLead = 0.02;      // push target this far past the handle's centre (m): full speed, firm contact
  static constexpr double kSlipTol = 0.03;       // ee off the handle's line (y or z) by this much (m) means start over
  static constexpr double kLowClearance = 0.04;  // ee this close (m) above the handle counts as low: rise before moving across

  // direction +1 pushes the handle along +x (open), -1 along -x (close).
  SashPushExpert(const Env& env, int direction)
      : direction_(direction), handle_(env.GeomId("window_handle")), handle_half_x_(env.model().geom_size[3 * handle_]) {}

  Action Act(const Env& env) override {
    const Vec3 ee = env.EePos(), handle = env.GeomPos(handle_);
    // Beside the handle on the side it is pushed from, at push height.
    const Vec3 start{handle[0] - direction_ * (handle_half_x_ + kFingerHalfX + kClearance), handle[1],
                     handle[2] - kGripDrop};
    if (auto action = approach_.Act(env, start, handle[2])) return *action;
    // Push. Rode over the handle, slid off its end, or got past it: go back beside it.
    if (std::abs(ee[1] - handle[1]) > kSlipTol || ee[2] > start[2] + kSlipTol || direction_ * (ee[0] - handle[0]) > 0) {
      approach_.Restart();
    }
    return MoveTo(env, {handle[0] + direction_ * kPushLead, handle[1], start[2]}, kClose);
  }

 private:
  int direction_;
  int handle_;
  double handle_half_x_;
  HandleApproach approach_{kHover, kAlignTol, kLowClearance};
};

}  // namespace padbench::tasks
