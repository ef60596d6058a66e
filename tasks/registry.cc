#include "tasks/registry.h"

#include <fmt/format.h>

#include "sim/error.h"
#include "tasks/all_tasks.h"

namespace padbench {

std::string_view DifficultyName(Difficulty group) {
  switch (group) {
    case Difficulty::kEasy: return "easy";
    case Difficulty::kMedium: return "medium";
    case Difficulty::kHard: return "hard";
  }
  return "?";
}

const std::vector<std::shared_ptr<const Task>>& AllTasks() {
  static const std::vector<std::shared_ptr<const Task>> tasks = [] {
    std::vector<std::shared_ptr<const Task>> t;
    // easy
    t.push_back(tasks::MakeReach());
    t.push_back(tasks::MakeButtonPress());
    t.push_back(tasks::MakeDrawerOpen());
    t.push_back(tasks::MakeDrawerClose());
    t.push_back(tasks::MakeWindowOpen());
    t.push_back(tasks::MakeWindowClose());
    // medium
    t.push_back(tasks::MakePush());
    t.push_back(tasks::MakeDoorOpen());
    t.push_back(tasks::MakePlateSlide());
    // hard
    t.push_back(tasks::MakePickPlace());
    t.push_back(tasks::MakePegInsertSide());
    t.push_back(tasks::MakeStack());
    return t;
  }();
  return tasks;
}

std::shared_ptr<const Task> FindTask(const std::string& name) {
  std::string names;
  for (const auto& task : AllTasks()) {
    if (task->Name() == name) return task;
    names += (names.empty() ? "" : ", ") + std::string(task->Name());
  }
  throw Error(fmt::format("unknown task '{}'; valid: {}", name, names));
}

std::vector<std::string> SuiteNames() { return {"default", "all", "easy", "medium", "hard"}; }

std::vector<std::shared_ptr<const Task>> SuiteTasks(const std::string& suite) {
  if (suite == "all" || suite == "default") return AllTasks();
  for (Difficulty group : {Difficulty::kEasy, Difficulty::kMedium, Difficulty::kHard}) {
    if (suite != DifficultyName(group)) continue;
    std::vector<std::shared_ptr<const Task>> tasks;
    for (const auto& task : AllTasks()) {
      if (task->Group() == group) tasks.push_back(task);
    }
    return tasks;
  }
  throw Error(fmt::format("unknown suite '{}'; valid: {}", suite, fmt::join(SuiteNames(), ", ")));
}

}  // namespace padbench
