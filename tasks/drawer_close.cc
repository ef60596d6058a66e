// drawer-close: push the open blue drawer back into the wooden cabinet.
// The cabinet and drawer are assets/objects/drawer.xml (shared with drawer-open).
#include "tasks/all_tasks.h"
#include "tasks/expert_util.h"

namespace padbench::tasks {
namespace {

constexpr double kClosedTol = 0.02;     // drawer travel (m) left that still counts as closed
constexpr double kStartOpenMin = 0.8;   // the drawer starts open between this fraction of its travel and fully open
constexpr double kStandoff = 0.035;     // ee distance (m) in front of the handle's outer face before the push
constexpr double kHover = 0.07;         // ee height (m) above the push height while moving in front of the handle
constexpr double kAlignTol = 0.008;     // horizontal error (m) allowed before lowering
constexpr double kPushLead = 0.01;      // push target this far past the handle's face (m): full speed, firm contact
constexpr double kSlipTol = 0.04;       // ee off the handle's line by this much (m) means start over
constexpr double kLowClearance = 0.04;  // ee this close (m) above the bar counts as low: rise before moving across


class DrawerCloseExpert final : public CopyableExpert<DrawerCloseExpert> {
 public:
  explicit DrawerCloseExpert(const Env& env)
      : bar_(env.GeomId("drawer_handle")), bar_half_y_(env.model().geom_size[3 * bar_ + 1]) {}

  Action Act(const Env& env) override {
    const Vec3 ee = env.EePos(), bar = env.GeomPos(bar_);
    const double face_y = bar[1] - bar_half_y_;  // the handle's outer face, toward the robot
    const Vec3 start{bar[0], face_y - kStandoff, bar[2]};
    if (auto action = approach_.Act(env, start, start[2])) return *action;
    // Push. Rode up over the handle or slid off its end: go back in front of it.
    if (ee[2] > bar[2] + 0.03 || std::abs(ee[0] - bar[0]) > kSlipTol || ee[1] > face_y) approach_.Restart();
    return MoveTo(env, {bar[0], face_y + kPushLead, bar[2]}, kClose);
  }

 private:
  int bar_;
  double bar_half_y_;
  HandleApproach approach_{kHover, kAlignTol, kLowClearance};
};

class DrawerClose final : public Task {
 public:
  DrawerClose()
      : Task({"drawer-close", Difficulty::kEasy, 100,
              {"close the drawer", "push the drawer shut", "push the drawer back into the cabinet"}}) {}

  void Reset(Env& env, Rng& rng) const override {
    env.SetMocapPos(env.BodyId("cabinet"), {rng.Uniform(-0.2, 0.2), rng.Uniform(0.55, 0.7), 0.0});
    const int joint = env.JointId("drawer");
    const double travel = env.model().jnt_range[2 * joint + 1];
    env.SetJointQpos(joint, rng.Uniform(kStartOpenMin, 1.0) * travel);
  }
  bool Success(const Env& env) const override { return env.JointQpos(env.JointId("drawer")) < kClosedTol; }
  std::unique_ptr<Expert> MakeExpert(const Env& env) const override {
    return std::make_unique<DrawerCloseExpert>(env);
  }
};

}  // namespace

std::unique_ptr<Task> MakeDrawerClose() { return std::make_unique<DrawerClose>(); }

}  // namespace padbench::tasks
