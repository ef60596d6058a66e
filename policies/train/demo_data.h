// Demonstrations in memory for training: windows of observations and action chunks.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "sim/rng.h"

namespace padbench::train {

// What a model trains on around a drawn step t: To observations up to t, Tp actions from the
// window's first step, and K future frames at t + interval, ..., t + K * interval (indices
// clamped at the episode's ends).
struct Window {
  int obs_horizon = 1;     // To
  int pred_horizon = 1;    // Tp
  int future_frames = 0;   // K
  int frame_interval = 1;
};

// A training batch (raw values; models normalise). With cached latents (DemoData::CacheLatents)
// `latents`/`future_latents` replace `images`/`future`.
struct Batch {
  torch::Tensor images;       // uint8 [B, To, 3, H, W]
  torch::Tensor future;       // uint8 [B, K, 3, H, W] (K = 0: undefined)
  torch::Tensor latents;         // float [B, To, C, h, w]
  torch::Tensor future_latents;  // float [B, K, C, h, w]
  torch::Tensor proprio;      // float [B, To, 4]: ee xyz, gripper
  torch::Tensor actions;      // float [B, Tp, 4] (zeros where has_actions is false)
  torch::Tensor has_actions;  // bool [B]: false for action-free video
  std::vector<std::string> instructions;

  int size() const { return int(instructions.size()); }
};

// The rows of `a` followed by those of `b` (co-training mixes robot and video batches).
Batch Concat(const Batch& a, const Batch& b);

struct Episode {
  std::string task, instruction;
  torch::Tensor images;   // uint8 [T, 3, H, W]
  torch::Tensor proprio;  // float [T, 4]
  torch::Tensor actions;  // float [T, 4], undefined for video
  torch::Tensor latents;  // float [T, C, h, w] once cached
};

// Episodes of one or more HDF5 files, split into training and validation episodes.
class DemoData {
 public:
  // Reads every episode of `paths` (camera `camera`). `val_fraction` of the episodes
  // (at least one when there are several) are held out, chosen by `seed`.
  static DemoData Load(const std::vector<std::string>& paths, const std::string& camera, double val_fraction,
                       uint64_t seed);
  // Windows around uniformly drawn (episode, step) pairs (indices clamped at the episode's
  // ends, as in Diffusion Policy).
  Batch Sample(int batch, const Window& window, bool validation, Rng& rng) const;
  // Encodes every frame once (`encode`: uint8 [N,3,H,W] -> float [N,C,h,w]), so batches carry
  // latents instead of images: models with a frozen image encoder train without re-running it.
  void CacheLatents(const std::function<torch::Tensor(const torch::Tensor&)>& encode);
  // All proprio and action rows of the training episodes, for fitting normalisers.
  torch::Tensor AllProprio() const;
  torch::Tensor AllActions() const;
  std::vector<std::string> Instructions() const;
  int train_episodes() const { return int(train_.size()); }
  int val_episodes() const { return int(val_.size()); }
  int64_t frames() const;
  int image_size() const { return image_size_; }
  bool has_actions() const { return has_actions_; }
  // A stable fingerprint of the data (file names, episode count, frames).
  std::string Fingerprint() const { return fingerprint_; }

 private:
  std::vector<Episode> train_, val_;
  int image_size_ = 0;
  bool has_actions_ = true;
  bool latents_ = false;
  std::string fingerprint_;
};

}  // namespace padbench::train
