// Runs an evaluation in a forked child, so a test can kill it mid-run or hold its folder.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <thread>

#include "eval/engine/engine.h"

namespace padbench::testing {

// Forks a child that runs RunEval(config) and exits 0 (done) or 2 (it threw).
inline pid_t ForkRun(const EvalConfig& config) {
  const pid_t child = fork();
  if (child == 0) {
    try {
      RunEval(config);
    } catch (...) {
      _exit(2);
    }
    _exit(0);
  }
  return child;
}

// Polls `done` every 20 ms until it holds or `timeout` passes; returns whether it held.
inline bool WaitFor(const std::function<bool()>& done, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace padbench::testing
