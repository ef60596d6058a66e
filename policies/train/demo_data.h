// Demonstrations in memory for training: windows of observations and action chunks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "sim/rng.h"

namespace padbench::train {

// A training batch (raw values; models normalise).
struct Batch {
  torch::Tensor images;       // uint8 [B, To, 3, H, W]
  torch::Tensor proprio;      // float [B, To, 4]: ee xyz, gripper
  torch::Tensor actions;      // float [B, Tp, 4] (zeros where has_actions is false)
  torch::Tensor has_actions;  // bool [B]: false for action-free video
  std::vector<std::string> instructions;
};

struct Episode {
  std::string task, instruction;
  torch::Tensor images;   // uint8 [T, 3, H, W]
  torch::Tensor proprio;  // float [T, 4]
  torch::Tensor actions;  // float [T, 4], undefined for video
};

// Episodes of one or more HDF5 files, split into training and validation episodes.
class DemoData {
 public:
  // Reads every episode of `paths` (camera `camera`). `val_fraction` of the episodes
  // (at least one when there are several) are held out, chosen by `seed`.
  static DemoData Load(const std::vector<std::string>& paths, const std::string& camera, double val_fraction,
                       uint64_t seed);
  // Windows ending at a uniformly drawn (episode, step): To frames up to that step and Tp
  // actions from the window's first step (indices clamped at the episode's ends, as in
  // Diffusion Policy).
  Batch Sample(int batch, int obs_horizon, int pred_horizon, bool validation, Rng& rng) const;
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
  std::string fingerprint_;
};

}  // namespace padbench::train
