// Where a policy's time goes, operation by operation (LibTorch's profiler), for `padbench perf
// --policies`. Torch-free interface.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace padbench {

struct OpProfile {
  // The outermost recorded operations by name: LibTorch operators, and the scopes padbench
  // marks (the fused inference paths), per profiled call, the slowest first.
  struct Row {
    std::string name;
    double ms = 0;     // per call, including the operations it calls
    double count = 0;  // times per call
  };
  std::vector<Row> rows;
  double wall_ms = 0;  // per call, the profiler's own cost included
  int calls = 0;
};

// Runs `fn` `calls` times under the profiler (on this thread), and `between` after each call
// unprofiled (stepping an episode on to the next Act's observation).
OpProfile ProfileOps(int calls, const std::function<void()>& fn, const std::function<void()>& between = {});
// The `top` slowest rows, the rest together, and the time outside any recorded operation, as a
// Markdown table titled `what`.
std::string FormatOpProfile(const std::string& what, const OpProfile& profile, int top = 8);

}  // namespace padbench
