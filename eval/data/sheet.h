// Contact sheet of the suite: each task's first frame beside a mid-episode expert frame.
#pragma once

#include <memory>
#include <vector>

#include "sim/gl_context.h"
#include "sim/types.h"
#include "tasks/task.h"

namespace padbench {

struct SheetConfig {
  std::vector<std::shared_ptr<const Task>> tasks;
  std::string camera = "corner";
  int image_size = 64;   // rendered size (what policies see)
  int scale = 2;         // nearest-neighbour upscaling for viewing
  int tasks_per_row = 3;
  uint64_t seed = 0;
  GlBackend gl = GlBackend::kAuto;
};

// Renders the sheet; labels name each task and which frame it is.
Image MakeContactSheet(const SheetConfig& config);

}  // namespace padbench
