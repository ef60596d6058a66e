// window-close: slide the open blue window sash back along -x by pushing its red handle sideways.
// The window is assets/objects/window.xml (shared with window-open).
#include "tasks/all_tasks.h"
#include "tasks/window_expert.h"

namespace padbench::tasks {
namespace {

constexpr double kClosedTol = 0.02;     // sash travel (m) left that still counts as closed
constexpr double kStartOpenMin = 0.8;   // the sash starts open between this fraction of its travel and fully open

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
    return std::make_unique<SashPushExpert>(env, -1);
  }
};

}  // namespace

std::unique_ptr<Task> MakeWindowClose() { return std::make_unique<WindowClose>(); }

}  // namespace padbench::tasks
