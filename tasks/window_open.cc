// window-open: slide the blue window sash along +x by pushing its red handle sideways.
// The window is assets/objects/window.xml (shared with window-close).
#include "tasks/all_tasks.h"
#include "tasks/window_expert.h"

namespace padbench::tasks {
namespace {

constexpr double kOpenFraction = 0.8;   // of the sash's travel: "slid open most of the way"

class WindowOpen final : public Task {
 public:
  WindowOpen()
      : Task({"window-open", Difficulty::kEasy, 100,
              {"open the window", "slide the window open", "push the window handle to slide the window open"}}) {}

  void Reset(Env& env, Rng& rng) const override {
    env.SetMocapPos(env.BodyId("window"), {rng.Uniform(-0.1, 0.1), rng.Uniform(0.68, 0.76), 0.0});
  }
  bool Success(const Env& env) const override {
    const int joint = env.JointId("sash");
    return env.JointQpos(joint) > kOpenFraction * env.model().jnt_range[2 * joint + 1];
  }
  std::unique_ptr<Expert> MakeExpert(const Env& env) const override {
    return std::make_unique<SashPushExpert>(env, +1);
  }
};

}  // namespace

std::unique_ptr<Task> MakeWindowOpen() { return std::make_unique<WindowOpen>(); }

}  // namespace padbench::tasks
