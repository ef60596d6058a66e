// button-press: press the big red button on top of a yellow box from above with the closed gripper.
#include "tasks/all_tasks.h"
#include "tasks/expert_util.h"

namespace padbench::tasks {
namespace {

constexpr double kPressedDepth = 0.016;   // button travel (m) counted as pressed: 80% of its 2 cm
constexpr double kHover = 0.04;           // fingertip clearance (m) above the cap before pressing
constexpr double kOvershoot = 0.005;      // fingertips aimed this far below the fully pressed cap (m)
constexpr double kFingertipDrop = 0.013;  // fingertip bottoms below the ee site (m)
constexpr double kAlignTol = 0.006;       // horizontal error (m) allowed before descending
constexpr double kSlipTol = 0.02;         // horizontal error (m) while pressing that means starting over


class ButtonPressExpert final : public CopyableExpert<ButtonPressExpert> {
 public:
  explicit ButtonPressExpert(const Env& env)
      : cap_(env.GeomId("button")),
        joint_(env.JointId("button")),
        cap_half_height_(env.model().geom_size[3 * cap_ + 1]),
        travel_(-env.model().jnt_range[2 * joint_]) {}

  Action Act(const Env& env) override {
    const Vec3 ee = env.EePos(), cap = env.GeomPos(cap_);
    const double cap_top = cap[2] + cap_half_height_;
    // Where the cap top sits when the button is at the bottom of its travel.
    const double pressed_top = cap_top - (travel_ + env.JointQpos(joint_));
    const Vec3 above{cap[0], cap[1], cap_top + kHover + kFingertipDrop};
    switch (phase_) {
      case kAbove:
        if (DistanceXY(ee, cap) < kAlignTol && ee[2] - kFingertipDrop > cap_top) phase_ = kPress;
        // Low and off to the side (e.g. knocked off the cap): rise before moving across.
        if (ee[2] - kFingertipDrop < cap_top + 0.01 && DistanceXY(ee, cap) > kSlipTol) {
          return MoveTo(env, {ee[0], ee[1], above[2]}, kClose);
        }
        return MoveTo(env, above, kClose);
      case kPress:
        if (DistanceXY(ee, cap) > kSlipTol) phase_ = kAbove;
        return MoveTo(env, {cap[0], cap[1], pressed_top + kFingertipDrop - kOvershoot}, kClose);
    }
    return MoveTo(env, ee, kClose);
  }

 private:
  enum Phase { kAbove, kPress };
  int cap_, joint_;
  double cap_half_height_, travel_;
  Phase phase_ = kAbove;
};

class ButtonPress final : public Task {
 public:
  ButtonPress()
      : Task({"button-press", Difficulty::kEasy, 100,
              {"press the red button", "push the button down from above", "press down on the red button"}}) {}

  void Reset(Env& env, Rng& rng) const override {
    env.SetMocapPos(env.BodyId("button_box"), {rng.Uniform(-0.25, 0.25), rng.Uniform(0.4, 0.7), 0.0});
  }
  bool Success(const Env& env) const override { return env.JointQpos(env.JointId("button")) < -kPressedDepth; }
  std::unique_ptr<Expert> MakeExpert(const Env& env) const override {
    return std::make_unique<ButtonPressExpert>(env);
  }
};

}  // namespace

std::unique_ptr<Task> MakeButtonPress() { return std::make_unique<ButtonPress>(); }

}  // namespace padbench::tasks
