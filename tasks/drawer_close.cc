// PLACEHOLDER until this task is written: registry entry only.
#include "sim/error.h"
#include "tasks/all_tasks.h"

namespace padbench::tasks {
std::unique_ptr<Task> MakeDrawerClose() { return nullptr; }
}  // namespace padbench::tasks
