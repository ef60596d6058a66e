#include "policies/train/demo_data.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "sim/dataset.h"
#include "sim/error.h"

namespace padbench::train {

std::vector<int> Range(int first, int last) {
  std::vector<int> out;
  for (int i = first; i < last; ++i) out.push_back(i);
  return out;
}

DemoData DemoData::Load(const std::vector<std::string>& paths, const std::vector<std::string>& cameras,
                        double val_fraction, uint64_t seed) {
  DemoData data;
  data.cameras_ = cameras;
  std::vector<Episode> all;
  int64_t frames = 0;
  for (const std::string& path : paths) {
    auto reader = DatasetReader::Open(path);
    const auto available = reader->Cameras();
    if (data.cameras_.empty()) data.cameras_ = available;  // every camera of the first file
    for (const std::string& camera : data.cameras_) {
      if (std::find(available.begin(), available.end(), camera) == available.end()) {
        throw Error(fmt::format("{} has no camera '{}' (it has: {})", path, camera, fmt::join(available, ", ")));
      }
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
      for (const std::string& camera : data.cameras_) {
        e.images[camera] =
            torch::from_blob(const_cast<uint8_t*>(ep.images.at(camera).data()), {T, s, s, 3}, torch::kUInt8)
                .permute({0, 3, 1, 2})
                .contiguous();
      }
      auto ee = torch::from_blob(const_cast<float*>(ep.ee_pos.data()), {T, 3}, torch::kFloat);
      auto grip = torch::from_blob(const_cast<float*>(ep.gripper.data()), {T, 1}, torch::kFloat);
      e.proprio = torch::cat({ee, grip}, 1).clone();
      if (!ep.actions.empty()) {
        e.actions = torch::from_blob(const_cast<float*>(ep.actions.data()), {T, 4}, torch::kFloat).clone();
        const auto next = torch::arange(1, T + 1, torch::kLong).clamp_max(T - 1);
        e.waypoints = torch::cat({e.proprio.index_select(0, next).slice(1, 0, 3), e.actions.slice(1, 3, 4)}, 1);
      }
      for (const auto& [field, values] : {std::pair{"obs/ee_pos + obs/gripper", &e.proprio}, std::pair{"actions", &e.actions}}) {
        if (values->defined() && !torch::isfinite(*values).all().item<bool>()) {
          throw Error(fmt::format("{}: demo_{} has a non-finite value (NaN or Inf) in {}", path, i, field));
        }
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

namespace {

// Indices t + offset for each offset, clamped to the episode.
torch::Tensor Indices(int64_t t, const std::vector<int>& offsets, int64_t length) {
  std::vector<int64_t> idx;
  for (int o : offsets) idx.push_back(std::clamp<int64_t>(t + o, 0, length - 1));
  return torch::tensor(idx, torch::kLong);
}

}  // namespace

Batch DemoData::Sample(int batch, const DataSpec& spec, bool validation, Rng& rng) const {
  const auto& episodes = validation ? val_ : train_;
  PADBENCH_CHECK(!episodes.empty(), "no episodes to sample from");
  PADBENCH_CHECK(!spec.cameras.empty() && !spec.obs_offsets.empty(), "a data spec needs a camera and an observation");
  for (const std::string& camera : spec.cameras) {
    if (std::find(cameras_.begin(), cameras_.end(), camera) == cameras_.end()) {
      throw Error(fmt::format("the model wants camera '{}', the data has: {}", camera, fmt::join(cameras_, ", ")));
    }
  }
  const std::string& camera = spec.cameras.front();
  // Uniform over steps, not episodes: draw an episode in proportion to its length.
  std::vector<int64_t> cumulative;
  int64_t total = 0;
  for (const Episode& e : episodes) cumulative.push_back(total += e.length());
  std::vector<torch::Tensor> frames, obs_images, future, goal, goal_images, goal_offset, proprio, actions;
  std::vector<uint8_t> padding;
  std::map<std::string, std::vector<torch::Tensor>> others;
  std::vector<int64_t> has;
  Batch b;
  for (int i = 0; i < batch; ++i) {
    const int64_t k = int64_t(rng.Index(uint64_t(total)));
    const size_t e = std::upper_bound(cumulative.begin(), cumulative.end(), k) - cumulative.begin();
    const Episode& ep = episodes[e];
    const int64_t T = ep.length(), t = k - (e ? cumulative[e - 1] : 0);
    const auto obs_idx = Indices(t, spec.obs_offsets, T);
    const torch::Tensor& source = latents_ ? ep.latents.at(camera) : ep.images.at(camera);
    frames.push_back(source.index_select(0, obs_idx));
    if (latents_ && spec.with_images) obs_images.push_back(ep.images.at(camera).index_select(0, obs_idx));
    for (size_t c = 1; c < spec.cameras.size(); ++c) {
      others[spec.cameras[c]].push_back(ep.images.at(spec.cameras[c]).index_select(0, obs_idx));
    }
    if (!spec.future_offsets.empty()) {
      if (spec.future_per_obs) {
        std::vector<torch::Tensor> per_obs;
        for (int o : spec.obs_offsets) {
          const int64_t ti = std::clamp<int64_t>(t + o, 0, T - 1);
          per_obs.push_back(source.index_select(0, Indices(ti, spec.future_offsets, T)));
        }
        future.push_back(torch::stack(per_obs));
      } else {
        future.push_back(source.index_select(0, Indices(t, spec.future_offsets, T)));
      }
    }
    if (spec.has_goal()) {
      const int64_t g = std::min<int64_t>(t + spec.goal_min + int64_t(rng.Index(uint64_t(spec.goal_max - spec.goal_min + 1))),
                                          T - 1);
      goal.push_back(source[g]);
      if (latents_ && spec.with_images) goal_images.push_back(ep.images.at(camera)[g]);
      goal_offset.push_back(torch::tensor(g - t, torch::kLong));
    }
    proprio.push_back(ep.proprio.index_select(0, obs_idx));
    for (int o : spec.obs_offsets) padding.push_back(t + o < 0);
    const bool with_actions = ep.actions.defined();
    const int64_t ta = int64_t(spec.action_offsets.size());
    const torch::Tensor& chunk = spec.waypoints ? ep.waypoints : ep.actions;
    actions.push_back(with_actions ? chunk.index_select(0, Indices(t, spec.action_offsets, T)) : torch::zeros({ta, 4}));
    has.push_back(with_actions);
    b.instructions.push_back(ep.instruction);
  }
  (latents_ ? b.latents : b.images) = torch::stack(frames);
  if (!obs_images.empty()) b.images = torch::stack(obs_images);
  if (!future.empty()) (latents_ ? b.future_latents : b.future) = torch::stack(future);
  if (!goal.empty()) {
    (latents_ ? b.goal_latents : b.goal) = torch::stack(goal);
    b.goal_offset = torch::stack(goal_offset);
  }
  if (!goal_images.empty()) b.goal = torch::stack(goal_images);
  for (auto& [name, rows] : others) b.other_cameras[name] = torch::stack(rows);
  b.proprio = torch::stack(proprio);
  b.obs_padding = torch::tensor(padding).to(torch::kBool).view({batch, int64_t(spec.obs_offsets.size())});
  b.actions = torch::stack(actions);
  b.has_actions = torch::tensor(has).to(torch::kBool);
  return b;
}

void DemoData::CacheLatents(const std::function<torch::Tensor(const torch::Tensor&)>& encode) {
  torch::NoGradGuard no_grad;
  for (auto* set : {&train_, &val_}) {
    for (Episode& e : *set) {
      for (const auto& [camera, images] : e.images) {
        std::vector<torch::Tensor> chunks;
        for (const auto& chunk : images.split(256)) chunks.push_back(encode(chunk));
        e.latents[camera] = torch::cat(chunks);
      }
    }
  }
  latents_ = true;
}

namespace {

// Every tensor field of a batch, once: Concat and RobotRows walk this list.
constexpr torch::Tensor Batch::*kTensorFields[] = {
    &Batch::images,         &Batch::future,      &Batch::goal,        &Batch::latents,
    &Batch::future_latents, &Batch::goal_latents, &Batch::goal_offset, &Batch::proprio,
    &Batch::obs_padding,    &Batch::actions,     &Batch::has_actions};

}  // namespace

Batch Concat(const Batch& a, const Batch& b) {
  auto cat = [](const torch::Tensor& x, const torch::Tensor& y) {
    return x.defined() && y.defined() ? torch::cat({x, y}) : torch::Tensor();
  };
  Batch out;
  for (auto field : kTensorFields) out.*field = cat(a.*field, b.*field);
  for (const auto& [name, x] : a.other_cameras) {
    if (b.other_cameras.count(name)) out.other_cameras[name] = cat(x, b.other_cameras.at(name));
  }
  out.instructions = a.instructions;
  out.instructions.insert(out.instructions.end(), b.instructions.begin(), b.instructions.end());
  return out;
}

Batch RobotRows(const Batch& batch) {
  if (batch.has_actions.all().item<bool>()) return batch;
  const auto rows = batch.has_actions.nonzero().flatten();
  auto pick = [&](const torch::Tensor& x) { return x.defined() ? x.index_select(0, rows) : torch::Tensor(); };
  Batch out;
  for (auto field : kTensorFields) out.*field = pick(batch.*field);
  for (const auto& [name, x] : batch.other_cameras) out.other_cameras[name] = pick(x);
  const auto* index = rows.data_ptr<int64_t>();
  for (int64_t i = 0; i < rows.numel(); ++i) out.instructions.push_back(batch.instructions[size_t(index[i])]);
  return out;
}

torch::Tensor DemoData::AllProprio() const {
  std::vector<torch::Tensor> rows;
  for (const Episode& e : train_) rows.push_back(e.proprio);
  return torch::cat(rows);
}

torch::Tensor DemoData::AllActions(bool waypoints) const {
  std::vector<torch::Tensor> rows;
  for (const Episode& e : train_)
    if (e.actions.defined()) rows.push_back(waypoints ? e.waypoints : e.actions);
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
    for (const Episode& e : *set) n += e.length();
  return n;
}

}  // namespace padbench::train
