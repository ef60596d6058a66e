// Task: what to randomise, what counts as success, and how an expert solves it.
// Geometry lives in assets/tasks/<name>.xml; the logic lives in tasks/<name>.cc.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/env.h"
#include "sim/rng.h"
#include "sim/types.h"

namespace padbench {

enum class Difficulty { kEasy, kMedium, kHard };
std::string_view DifficultyName(Difficulty group);

// A state-based scripted policy for one episode of one task.
class Expert {
 public:
  virtual ~Expert() = default;
  // The noiseless action for the current state (components in [-1, 1]).
  virtual Action Act(const Env& env) = 0;
  // A copy in the same phase: rolls the expert forward on a copy of the simulator state (the
  // image-goal family's oracle goals) without disturbing this one.
  virtual std::unique_ptr<Expert> Clone() const = 0;
};

// Experts derive from this to get Clone() from their copy constructor.
template <typename Derived>
class CopyableExpert : public Expert {
 public:
  std::unique_ptr<Expert> Clone() const override {
    return std::make_unique<Derived>(static_cast<const Derived&>(*this));
  }
};

struct TaskInfo {
  std::string name;                       // "drawer-open"
  Difficulty group = Difficulty::kEasy;
  int max_steps = 150;                    // episode length limit (control steps)
  std::vector<std::string> instructions;  // [0] canonical, then paraphrases
};

// Tasks are immutable and shared between threads; all episode state lives in Env and Expert.
class Task {
 public:
  explicit Task(TaskInfo info) : info_(std::move(info)) {}
  virtual ~Task() = default;

  const TaskInfo& info() const { return info_; }
  std::string_view Name() const { return info_.name; }
  Difficulty Group() const { return info_.group; }
  int MaxSteps() const { return info_.max_steps; }
  // The MJCF file relative to the asset folder.
  std::string ModelFile() const { return "tasks/" + info_.name + ".xml"; }

  // Randomises object and goal poses on a freshly reset Env.
  virtual void Reset(Env& env, Rng& rng) const = 0;
  virtual bool Success(const Env& env) const = 0;
  // An expert for the episode Reset just set up.
  virtual std::unique_ptr<Expert> MakeExpert(const Env& env) const = 0;

 private:
  TaskInfo info_;
};

}  // namespace padbench
