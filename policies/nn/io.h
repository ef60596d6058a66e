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

}  // namespace padbench::nn
