// Small helpers shared by the scripted experts (private to tasks/).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include "sim/env.h"
#include "sim/types.h"

namespace padbench::tasks {

using Vec3 = std::array<double, 3>;

inline constexpr float kOpen = -1.0f;
inline constexpr float kClose = 1.0f;

inline double Distance(const Vec3& a, const Vec3& b) {
  return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
}
inline double DistanceXY(const Vec3& a, const Vec3& b) { return std::hypot(a[0] - b[0], a[1] - b[1]); }

// Proportional move of the end effector toward `target`: the mocap target is
// moved by `gain` times the remaining error (in one control step), capped at
// full speed. gain < 1 keeps the weld's lag from overshooting.
inline Action MoveTo(const Env& env, const Vec3& target, float gripper, double gain = 0.7) {
  const Vec3 ee = env.EePos();
  const double scale = env.config().action_scale;
  Action a{};
  for (int i = 0; i < 3; ++i) a[i] = float(std::clamp(gain * (target[i] - ee[i]) / scale, -1.0, 1.0));
  a[3] = gripper;
  return a;
}

// Unit xy vector from a to b (zero when they coincide).
inline Vec3 DirectionXY(const Vec3& a, const Vec3& b) {
  const double d = DistanceXY(a, b);
  if (d < 1e-9) return {0, 0, 0};
  return {(b[0] - a[0]) / d, (b[1] - a[1]) / d, 0};
}

// Scales the xy part of an action down to at most `cap` (a slower, steadier push).
inline Action CapXY(Action a, double cap) {
  const double n = std::hypot(a[0], a[1]);
  if (n > cap) {
    a[0] = float(a[0] * cap / n);
    a[1] = float(a[1] * cap / n);
  }
  return a;
}

inline Vec3 Offset(const Vec3& p, double dx, double dy, double dz) { return {p[0] + dx, p[1] + dy, p[2] + dz}; }

// The approach shared by the experts that work a handle from one side (drawer-open/-close,
// window-open/-close), gripper closed: rise clear before moving across, align above `start`,
// lower onto it. Act returns the approach's action, or nothing once the gripper is down at
// `start`: the expert's own phase (push, pull) acts then, and calls Restart() when it loses the
// handle.
class HandleApproach {
 public:
  // hover: height (m) above `start` to align at; align_tol: horizontal error (m) allowed before
  // lowering; low_clearance: see Act.
  HandleApproach(double hover, double align_tol, double low_clearance)
      : hover_(hover), align_tol_(align_tol), low_clearance_(low_clearance) {}

  // Below low_z + low_clearance the gripper counts as low: it rises before moving across.
  std::optional<Action> Act(const Env& env, const Vec3& start, double low_z) {
    const Vec3 ee = env.EePos();
    const Vec3 above = Offset(start, 0, 0, hover_);
    switch (phase_) {
      case kAbove:
        if (DistanceXY(ee, start) < align_tol_ && ee[2] > start[2] + 0.5 * hover_) phase_ = kLower;
        if (ee[2] < low_z + low_clearance_ && DistanceXY(ee, start) > align_tol_) {
          return MoveTo(env, {ee[0], ee[1], above[2]}, kClose);
        }
        return MoveTo(env, above, kClose);
      case kLower:
        if (DistanceXY(ee, start) > 2 * align_tol_ && ee[2] > start[2] + 0.02) phase_ = kAbove;
        if (ee[2] < start[2] + 0.01) phase_ = kDown;
        return MoveTo(env, start, kClose);
      case kDown:
        break;
    }
    return std::nullopt;
  }
  void Restart() { phase_ = kAbove; }

 private:
  enum Phase { kAbove, kLower, kDown };
  double hover_, align_tol_, low_clearance_;
  Phase phase_ = kAbove;
};

}  // namespace padbench::tasks
