// Factories of the built-in tasks, one per file in tasks/ (listed in registry.cc).
#pragma once

#include <memory>

#include "tasks/task.h"

namespace padbench::tasks {

std::unique_ptr<Task> MakeReach();
std::unique_ptr<Task> MakeButtonPress();
std::unique_ptr<Task> MakeDrawerOpen();
std::unique_ptr<Task> MakeDrawerClose();
std::unique_ptr<Task> MakeWindowOpen();
std::unique_ptr<Task> MakeWindowClose();
std::unique_ptr<Task> MakePush();
std::unique_ptr<Task> MakeDoorOpen();
std::unique_ptr<Task> MakePlateSlide();
std::unique_ptr<Task> MakePickPlace();
std::unique_ptr<Task> MakePegInsertSide();
std::unique_ptr<Task> MakeStack();

}  // namespace padbench::tasks
