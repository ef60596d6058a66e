// Conversions between padbench's observation and action types and tensors, shared by the
// learned policies. Internal to policies/ (pulls in torch).
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include <torch/torch.h>

#include "policies/policy.h"
#include "sim/types.h"

namespace padbench::nn {

// The `camera` image of `obs` as uint8 [3,H,W] (a view of the observation's pixels); throws
// padbench::Error, naming `policy`, when the camera is missing or not size x size.
torch::Tensor ImageTensor(const Observation& obs, const std::string& camera, int size, std::string_view policy);
// End-effector position and gripper opening: float [4].
torch::Tensor ProprioTensor(const Observation& obs);
// Rows [from, from + count) of an action chunk [T,4]: delta actions clamped to the action range
// [-1, 1]; waypoints with only the gripper effort clamped.
std::vector<Action> ToActions(const torch::Tensor& chunk, int from, int count, ActionKind kind = ActionKind::kDelta);
// uint8 frames [K,H,W,3] as predictions, frame k at horizons[k], of `kind`.
std::vector<PredictedFrame> ToPredictedFrames(const torch::Tensor& pixels, const std::vector<int>& horizons,
                                              PredictionKind kind = PredictionKind::kFuture);
// ---- batched Act (Policy::ActBatch) ----

[[noreturn]] void ThrowMixedBatch(std::string_view policy, std::string_view other);

// The rows of a batched Act as instances of the family's policy class `P` (null: padding);
// throws padbench::Error naming `policy` when a row is another kind of policy.
template <typename P>
std::vector<P*> BatchRows(const std::vector<Policy*>& rows, std::string_view policy);
// Per-row tensors [1, ...] stacked along dim 0; padding rows (undefined) take a copy of the
// first defined row. Throws padbench::Error when no row is defined.
torch::Tensor StackRows(const std::vector<torch::Tensor>& rows);
// Gives the padding rows (null in `rows`) of `values` the first acting row's value.
template <typename P, typename T>
void FillPaddingRows(const std::vector<P*>& rows, std::vector<T>& values) {
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!rows[i]) continue;
    for (size_t j = 0; j < rows.size(); ++j)
      if (!rows[j]) values[j] = values[i];
    return;
  }
}
// Standard normal noise of `row_shape` ([1, ...]) per row, each row from its own generator (a
// batch of one draws exactly what one randn call draws); zeros where the generator is null.
torch::Tensor RowNoise(const std::vector<at::Generator*>& generators, std::vector<int64_t> row_shape);

// A config's "actions" value: "delta" or "waypoints"; throws padbench::Error naming `policy`.
ActionKind ParseActionKind(const std::string& name, std::string_view policy);

// The last `horizon` observations of an episode: a model's input window.
class ObservationWindow {
 public:
  explicit ObservationWindow(int horizon) : horizon_(horizon) {}

  void Clear() { history_.clear(); }
  void Push(const Observation& obs);
  // Pushes `obs` unless it is already the newest (Act after Observe of the same step).
  void Ensure(const Observation& obs);
  // The window as images uint8 [1,To,3,H,W] (ImageTensor of `camera`) and proprio float [1,To,4],
  // padded with the first observation at the start of an episode.
  struct Tensors {
    torch::Tensor images, proprio;
  };
  Tensors ToTensors(const std::string& camera, int size, std::string_view policy) const;

 private:
  int horizon_;
  std::deque<Observation> history_;
};

// What a diffusion policy acting on an observation window keeps per episode: the window, the
// instruction, and its noise generator (seeded from the episode's seed and the family's name).
struct WindowEpisode {
  explicit WindowEpisode(int horizon) : window(horizon) {}
  void Reset(const EpisodeInfo& episode, std::string_view family);
  ObservationWindow window;
  std::string instruction;
  at::Generator generator = at::detail::createCPUGenerator(0);
};
// A batched Act's inputs from WindowEpisode rows (null: padding) acting on obs[i]: the windows'
// images and proprio stacked (ObservationWindow::ToTensors of `camera` at `size`; padding rows
// copy an acting row), the instructions (likewise), and each row's generator (null for padding).
struct WindowBatch {
  torch::Tensor images, proprio;
  std::vector<std::string> instructions;
  std::vector<torch::Generator*> generators;
};
WindowBatch StackWindows(const std::vector<WindowEpisode*>& rows, const std::vector<const Observation*>& obs,
                         const std::string& camera, int size, std::string_view policy);

template <typename P>
std::vector<P*> BatchRows(const std::vector<Policy*>& rows, std::string_view policy) {
  std::vector<P*> out(rows.size(), nullptr);
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!rows[i]) continue;
    out[i] = dynamic_cast<P*>(rows[i]);
    if (!out[i]) ThrowMixedBatch(policy, rows[i]->Name());
  }
  return out;
}

}  // namespace padbench::nn
