// Temporal ensembling (ACT, Zhao et al. 2023): the policy predicts a chunk at every step and
// executes, at each step, the weighted mean of every chunk's prediction for that step.
// Plain C++ (no torch), so tests and other families can use it.
#pragma once

#include <array>
#include <cmath>
#include <deque>
#include <utility>
#include <vector>

#include "sim/error.h"
#include "sim/types.h"

namespace padbench::image_goal {

class TemporalEnsemble {
 public:
  // Weights exp(-decay * i), i = 0 for the oldest prediction still covering the step (ACT's
  // convention: older predictions weigh more; decay 0 is the plain mean).
  explicit TemporalEnsemble(double decay) : decay_(decay) {}

  void Clear() { chunks_.clear(); }
  // A chunk predicted at `step`: chunk[i] is the action for step + i.
  void Add(int step, std::vector<Action> chunk) {
    PADBENCH_CHECK(!chunk.empty(), "an empty chunk");
    chunks_.emplace_back(step, std::move(chunk));
  }
  // The weighted mean of every chunk's action for `step` (steps only move forward); chunks that
  // end before `step` are dropped. Throws when no chunk covers it.
  Action At(int step) {
    while (!chunks_.empty() && chunks_.front().first + int(chunks_.front().second.size()) <= step) chunks_.pop_front();
    std::array<double, kActionDim> sum{};
    double total = 0;
    int i = 0;
    for (const auto& [start, chunk] : chunks_) {
      if (step < start) continue;
      const double w = std::exp(-decay_ * i++);
      for (int k = 0; k < kActionDim; ++k) sum[k] += w * chunk[size_t(step - start)][k];
      total += w;
    }
    PADBENCH_CHECK(total > 0, "no chunk covers the step");
    Action mean;
    for (int k = 0; k < kActionDim; ++k) mean[k] = float(sum[k] / total);
    return mean;
  }

 private:
  double decay_;
  std::deque<std::pair<int, std::vector<Action>>> chunks_;
};

}  // namespace padbench::image_goal
