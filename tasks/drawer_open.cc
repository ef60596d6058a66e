// drawer-open: pull the blue drawer out of the wooden cabinet by its red U-handle.
// The cabinet and drawer are assets/objects/drawer.xml (shared with drawer-close).
#include "tasks/all_tasks.h"
#include "tasks/expert_util.h"

namespace padbench::tasks {
namespace {

constexpr double kOpenFraction = 0.8;   // of the drawer's travel: "pulled out most of its range"
constexpr double kGripHeight = 0.003;   // ee above the bar's centre: fingertips 1 cm below it, palm clear of the drawer
constexpr double kHover = 0.07;         // ee height (m) above the slot before lowering into it
constexpr double kAlignTol = 0.005;     // horizontal error (m) allowed before lowering (the slot leaves 1.1 cm)
constexpr double kSlipTol = 0.03;       // distance (m) from the slot that means the hand lost the handle
constexpr double kPullLead = 0.04;      // pull target this far ahead of the slot (m): full speed, firm contact
constexpr double kLowClearance = 0.04;  // ee this close (m) above the bar counts as low: rise before moving across


class DrawerOpenExpert final : public CopyableExpert<DrawerOpenExpert> {
 public:
  explicit DrawerOpenExpert(const Env& env)
      : bar_(env.GeomId("drawer_handle")),
        front_(env.GeomId("drawer_front")),
        bar_half_y_(env.model().geom_size[3 * bar_ + 1]),
        front_half_y_(env.model().geom_size[3 * front_ + 1]) {}

  Action Act(const Env& env) override {
    const Vec3 ee = env.EePos(), bar = env.GeomPos(bar_), front = env.GeomPos(front_);
    // The slot between the bar's inner face and the drawer front, at grip height.
    const Vec3 slot{bar[0], 0.5 * (bar[1] + bar_half_y_ + front[1] - front_half_y_), bar[2] + kGripHeight};
    if (auto action = approach_.Act(env, slot, slot[2])) return *action;
    // Pull. Slipped out of the slot (over the bar, or sideways off it): go back above it.
    if (Distance(ee, slot) > kSlipTol) approach_.Restart();
    return MoveTo(env, Offset(slot, 0, -kPullLead, 0), kClose);
  }

 private:
  int bar_, front_;
  double bar_half_y_, front_half_y_;
  HandleApproach approach_{kHover, kAlignTol, kLowClearance};
};

class DrawerOpen final : public Task {
 public:
  DrawerOpen()
      : Task({"drawer-open", Difficulty::kEasy, 100,
              {"open the drawer", "pull the drawer out", "pull the drawer open by its handle"}}) {}

  void Reset(Env& env, Rng& rng) const override {
    env.SetMocapPos(env.BodyId("cabinet"), {rng.Uniform(-0.2, 0.2), rng.Uniform(0.55, 0.7), 0.0});
  }
  bool Success(const Env& env) const override {
    const int joint = env.JointId("drawer");
    return env.JointQpos(joint) > kOpenFraction * env.model().jnt_range[2 * joint + 1];
  }
  std::unique_ptr<Expert> MakeExpert(const Env& env) const override {
    return std::make_unique<DrawerOpenExpert>(env);
  }
};

}  // namespace

std::unique_ptr<Task> MakeDrawerOpen() { return std::make_unique<DrawerOpen>(); }

}  // namespace padbench::tasks
