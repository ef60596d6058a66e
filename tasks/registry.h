// The explicit list of tasks and suites.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tasks/task.h"

namespace padbench {

// Every task, in suite order (easy, medium, hard). Built once, shared, immutable.
const std::vector<std::shared_ptr<const Task>>& AllTasks();
// The task called `name`; throws padbench::Error listing the valid names.
std::shared_ptr<const Task> FindTask(const std::string& name);
// Suite names: all, easy, medium, hard, default.
std::vector<std::string> SuiteNames();
// The tasks of a suite; throws padbench::Error listing the valid suites.
std::vector<std::shared_ptr<const Task>> SuiteTasks(const std::string& suite);

}  // namespace padbench
