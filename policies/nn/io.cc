#include "policies/nn/io.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "sim/error.h"
#include "sim/rng.h"

namespace padbench::nn {

torch::Tensor ImageTensor(const Observation& obs, const std::string& camera, int size, std::string_view policy) {
  const auto it = obs.rgb.find(camera);
  if (it == obs.rgb.end()) throw Error(fmt::format("{}: observation lacks camera '{}'", policy, camera));
  const Image& img = it->second;
  if (img.height != size || img.width != size) {
    throw Error(fmt::format("{}: expects {}x{} images, got {}x{}", policy, size, size, img.height, img.width));
  }
  return torch::from_blob(const_cast<uint8_t*>(img.data()), {size, size, 3}, torch::kUInt8).permute({2, 0, 1});
}

torch::Tensor ProprioTensor(const Observation& obs) {
  return torch::tensor({obs.ee_pos[0], obs.ee_pos[1], obs.ee_pos[2], obs.gripper});
}

std::vector<Action> ToActions(const torch::Tensor& chunk, int from, int count, ActionKind kind) {
  const auto c = (kind == ActionKind::kDelta ? chunk.clamp(-1.0, 1.0) : chunk).contiguous();
  const auto rows = c.accessor<float, 2>();
  std::vector<Action> out(count);
  for (int i = 0; i < count; ++i) {
    for (int k = 0; k < kActionDim; ++k) out[i][k] = rows[from + i][k];
    out[i][3] = std::clamp(out[i][3], -1.0f, 1.0f);
  }
  return out;
}

std::vector<PredictedFrame> ToPredictedFrames(const torch::Tensor& pixels, const std::vector<int>& horizons,
                                              PredictionKind kind) {
  const auto hwc = pixels.contiguous();
  std::vector<PredictedFrame> out;
  for (int64_t k = 0; k < hwc.size(0); ++k) {
    PredictedFrame f;
    f.horizon = horizons[size_t(k)];
    f.kind = kind;
    f.rgb = Image(int(hwc.size(1)), int(hwc.size(2)));
    std::memcpy(f.rgb.data(), hwc[k].data_ptr<uint8_t>(), f.rgb.pixels.size());
    out.push_back(std::move(f));
  }
  return out;
}

ActionKind ParseActionKind(const std::string& name, std::string_view policy) {
  if (name == "delta") return ActionKind::kDelta;
  if (name == "waypoints") return ActionKind::kWaypoint;
  throw Error(fmt::format("{} config: actions must be delta or waypoints, got '{}'", policy, name));
}

void ObservationWindow::Push(const Observation& obs) {
  history_.push_back(obs);
  while (int(history_.size()) > horizon_) history_.pop_front();
}

void ObservationWindow::Ensure(const Observation& obs) {
  if (history_.empty() || history_.back().step != obs.step) Push(obs);
}

ObservationWindow::Tensors ObservationWindow::ToTensors(const std::string& camera, int size,
                                                        std::string_view policy) const {
  if (history_.empty()) throw Error(fmt::format("{}: no observation yet", policy));
  std::vector<torch::Tensor> images, proprio;
  for (int k = 0; k < horizon_; ++k) {
    const Observation& o = history_[std::max(0, int(history_.size()) - horizon_ + k)];
    images.push_back(ImageTensor(o, camera, size, policy));
    proprio.push_back(ProprioTensor(o));
  }
  return {torch::stack(images).unsqueeze(0), torch::stack(proprio).unsqueeze(0)};
}

void ThrowMixedBatch(std::string_view policy, std::string_view other) {
  throw Error(fmt::format("{}: a batched Act got a row of another policy ({})", policy, other));
}

torch::Tensor StackRows(const std::vector<torch::Tensor>& rows) {
  const auto first = std::find_if(rows.begin(), rows.end(), [](const torch::Tensor& t) { return t.defined(); });
  if (first == rows.end()) throw Error("a batched Act with no acting row");
  std::vector<torch::Tensor> filled;
  for (const torch::Tensor& t : rows) filled.push_back(t.defined() ? t : *first);
  return filled.size() == 1 ? filled[0] : torch::cat(filled, 0);
}

torch::Tensor RowNoise(const std::vector<at::Generator*>& generators, std::vector<int64_t> row_shape) {
  std::vector<torch::Tensor> rows;
  for (at::Generator* g : generators) {
    rows.push_back(g ? torch::randn(row_shape, *g, torch::kFloat) : torch::zeros(row_shape, torch::kFloat));
  }
  return rows.size() == 1 ? rows[0] : torch::cat(rows, 0);
}

void WindowEpisode::Reset(const EpisodeInfo& episode, std::string_view family) {
  instruction = episode.instruction;
  generator = at::detail::createCPUGenerator(Mix64(episode.seed ^ HashName(family)));
  window.Clear();
}

WindowBatch StackWindows(const std::vector<WindowEpisode*>& rows, const std::vector<const Observation*>& obs,
                         const std::string& camera, int size, std::string_view policy) {
  const size_t n = rows.size();
  std::vector<torch::Tensor> images(n), proprio(n);
  WindowBatch out;
  out.instructions.resize(n);
  out.generators.assign(n, nullptr);
  for (size_t i = 0; i < n; ++i) {
    if (!rows[i]) continue;
    rows[i]->window.Ensure(*obs[i]);
    const ObservationWindow::Tensors window = rows[i]->window.ToTensors(camera, size, policy);
    images[i] = window.images;
    proprio[i] = window.proprio;
    out.instructions[i] = rows[i]->instruction;
    out.generators[i] = &rows[i]->generator;
  }
  FillPaddingRows(rows, out.instructions);
  out.images = StackRows(images);
  out.proprio = StackRows(proprio);
  return out;
}

}  // namespace padbench::nn
