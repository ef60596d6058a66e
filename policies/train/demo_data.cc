#include "policies/train/demo_data.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "sim/dataset.h"
#include "sim/error.h"

namespace padbench::train {

DemoData DemoData::Load(const std::vector<std::string>& paths, const std::string& camera, double val_fraction,
                        uint64_t seed) {
  DemoData data;
  std::vector<Episode> all;
  int64_t frames = 0;
  for (const std::string& path : paths) {
    auto reader = DatasetReader::Open(path);
    const auto cameras = reader->Cameras();
    if (std::find(cameras.begin(), cameras.end(), camera) == cameras.end()) {
      throw Error(fmt::format("{} has no camera '{}' (it has: {})", path, camera, fmt::join(cameras, ", ")));
    }
    if (!reader->HasActions()) data.has_actions_ = false;
    for (int i = 0; i < reader->NumEpisodes(); ++i) {
      const EpisodeData ep = reader->Read(i);
      if (data.image_size_ == 0) data.image_size_ = ep.image_height;
      if (ep.image_height != data.image_size_ || ep.image_width != data.image_size_) {
        throw Error(fmt::format("{}: episode {} has {}x{} images, the others {}x{}", path, i, ep.image_height,
                                ep.image_width, data.image_size_, data.image_size_));
      }
      const int64_t T = ep.length, s = data.image_size_;
      Episode e;
      e.task = ep.task;
      e.instruction = ep.instruction;
      e.images = torch::from_blob(const_cast<uint8_t*>(ep.images.at(camera).data()), {T, s, s, 3}, torch::kUInt8)
                     .permute({0, 3, 1, 2})
                     .contiguous();
      auto ee = torch::from_blob(const_cast<float*>(ep.ee_pos.data()), {T, 3}, torch::kFloat);
      auto grip = torch::from_blob(const_cast<float*>(ep.gripper.data()), {T, 1}, torch::kFloat);
      e.proprio = torch::cat({ee, grip}, 1).clone();
      if (!ep.actions.empty()) {
        e.actions = torch::from_blob(const_cast<float*>(ep.actions.data()), {T, 4}, torch::kFloat).clone();
      }
      frames += T;
      all.push_back(std::move(e));
    }
    data.fingerprint_ += fmt::format("{}{}:{}", data.fingerprint_.empty() ? "" : ",",
                                     std::filesystem::path(path).filename().string(), reader->NumEpisodes());
  }
  if (all.empty()) throw Error("no episodes in the training data");
  data.fingerprint_ += fmt::format(";frames={}", frames);
  // Hold out whole episodes, spread over the data.
  const int n = int(all.size());
  const int n_val = n < 2 ? 0 : std::max(1, int(val_fraction * n));
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  Rng rng(Mix64(seed ^ 0x5EED));
  for (int i = n - 1; i > 0; --i) std::swap(order[i], order[rng.Index(i + 1)]);
  std::set<int> val(order.begin(), order.begin() + n_val);
  for (int i = 0; i < n; ++i) (val.count(i) ? data.val_ : data.train_).push_back(std::move(all[i]));
  return data;
}

Batch DemoData::Sample(int batch, const Window& window, bool validation, Rng& rng) const {
  const auto& episodes = validation ? val_ : train_;
  PADBENCH_CHECK(!episodes.empty(), "no episodes to sample from");
  // Uniform over steps, not episodes: draw an episode in proportion to its length.
  std::vector<int64_t> cumulative;
  int64_t total = 0;
  for (const Episode& e : episodes) cumulative.push_back(total += e.images.size(0));
  std::vector<torch::Tensor> frames, future, proprio, actions;
  std::vector<int64_t> has;
  Batch b;
  for (int i = 0; i < batch; ++i) {
    const int64_t k = int64_t(rng.Index(uint64_t(total)));
    const size_t e = std::upper_bound(cumulative.begin(), cumulative.end(), k) - cumulative.begin();
    const Episode& ep = episodes[e];
    const int64_t T = ep.images.size(0), t = k - (e ? cumulative[e - 1] : 0);
    const int64_t start = t - window.obs_horizon + 1;
    auto obs_idx = torch::arange(start, t + 1, torch::kLong).clamp(0, T - 1);
    auto act_idx = torch::arange(start, start + window.pred_horizon, torch::kLong).clamp(0, T - 1);
    const torch::Tensor& source = latents_ ? ep.latents : ep.images;
    frames.push_back(source.index_select(0, obs_idx));
    if (window.future_frames > 0) {
      auto future_idx = (torch::arange(1, window.future_frames + 1, torch::kLong) * window.frame_interval + t)
                            .clamp(0, T - 1);
      future.push_back(source.index_select(0, future_idx));
    }
    proprio.push_back(ep.proprio.index_select(0, obs_idx));
    const bool with_actions = ep.actions.defined();
    actions.push_back(with_actions ? ep.actions.index_select(0, act_idx) : torch::zeros({window.pred_horizon, 4}));
    has.push_back(with_actions);
    b.instructions.push_back(ep.instruction);
  }
  (latents_ ? b.latents : b.images) = torch::stack(frames);
  if (!future.empty()) (latents_ ? b.future_latents : b.future) = torch::stack(future);
  b.proprio = torch::stack(proprio);
  b.actions = torch::stack(actions);
  b.has_actions = torch::tensor(has).to(torch::kBool);
  return b;
}

void DemoData::CacheLatents(const std::function<torch::Tensor(const torch::Tensor&)>& encode) {
  torch::NoGradGuard no_grad;
  for (auto* set : {&train_, &val_}) {
    for (Episode& e : *set) {
      std::vector<torch::Tensor> chunks;
      for (const auto& chunk : e.images.split(256)) chunks.push_back(encode(chunk));
      e.latents = torch::cat(chunks);
    }
  }
  latents_ = true;
}

Batch Concat(const Batch& a, const Batch& b) {
  auto cat = [](const torch::Tensor& x, const torch::Tensor& y) {
    return x.defined() && y.defined() ? torch::cat({x, y}) : torch::Tensor();
  };
  Batch out;
  out.images = cat(a.images, b.images);
  out.future = cat(a.future, b.future);
  out.latents = cat(a.latents, b.latents);
  out.future_latents = cat(a.future_latents, b.future_latents);
  out.proprio = cat(a.proprio, b.proprio);
  out.actions = cat(a.actions, b.actions);
  out.has_actions = cat(a.has_actions, b.has_actions);
  out.instructions = a.instructions;
  out.instructions.insert(out.instructions.end(), b.instructions.begin(), b.instructions.end());
  return out;
}

torch::Tensor DemoData::AllProprio() const {
  std::vector<torch::Tensor> rows;
  for (const Episode& e : train_) rows.push_back(e.proprio);
  return torch::cat(rows);
}

torch::Tensor DemoData::AllActions() const {
  std::vector<torch::Tensor> rows;
  for (const Episode& e : train_)
    if (e.actions.defined()) rows.push_back(e.actions);
  if (rows.empty()) return torch::zeros({1, 4});
  return torch::cat(rows);
}

std::vector<std::string> DemoData::Instructions() const {
  std::vector<std::string> out;
  for (const auto* set : {&train_, &val_})
    for (const Episode& e : *set) out.push_back(e.instruction);
  return out;
}

int64_t DemoData::frames() const {
  int64_t n = 0;
  for (const auto* set : {&train_, &val_})
    for (const Episode& e : *set) n += e.images.size(0);
  return n;
}

}  // namespace padbench::train
