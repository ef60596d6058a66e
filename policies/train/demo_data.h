// Demonstrations in memory for training: samples built from what a model declares it needs.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "sim/rng.h"

namespace padbench::train {

// What one training sample holds, as step offsets from the sample's time t (a step drawn
// uniformly from the data), as LeRobot's delta indices: indices are clamped at the episode's
// ends, as in Diffusion Policy. The model declares it (Trainable::spec); DemoData builds it for
// robot data and action-free video alike (absent actions are zeros, masked by has_actions).
struct DataSpec {
  std::vector<std::string> cameras{"corner"};  // the first camera fills the image fields
  std::vector<int> obs_offsets{0};     // observation history (images and proprio), e.g. {-1, 0}
  std::vector<int> action_offsets;     // action chunk, e.g. {-1, ..., 14}
  std::vector<int> future_offsets;     // future frames after t, e.g. {4, 8, 12}
  // Future frames after every history step (GR-1: t_i + offset for each obs offset) instead of
  // after t only.
  bool future_per_obs = false;
  // The action chunk as absolute waypoints (Episode::waypoints) instead of delta actions.
  bool waypoints = false;
  // With cached latents, the observed frames and the goal also as images (augmentation before
  // encoding; a low level that sees pixels beside a latent model).
  bool with_images = false;
  // Hindsight goal: the frame g steps after t, g drawn uniformly from [goal_min, goal_max]
  // (clamped at the episode's end); off when goal_max < goal_min.
  int goal_min = 0, goal_max = -1;

  bool has_goal() const { return goal_max >= goal_min; }
  // Just the current frame of `camera` (and proprio): what an image autoencoder trains on.
  static DataSpec CurrentFrame(std::string camera) {
    DataSpec spec;
    spec.cameras = {std::move(camera)};
    return spec;
  }
};

// Offsets first, first + 1, ..., last - 1.
std::vector<int> Range(int first, int last);

// A training batch (raw values; models normalise). With cached latents (DemoData::CacheLatents)
// `latents`/`future_latents`/`goal_latents` replace `images`/`future`/`goal` (`images` and
// `goal` stay when the spec asks for with_images).
struct Batch {
  torch::Tensor images;          // uint8 [B, To, 3, H, W] (first camera)
  torch::Tensor future;          // uint8 [B, K, 3, H, W], or [B, To, K, 3, H, W] per obs (K = 0: undefined)
  torch::Tensor goal;            // uint8 [B, 3, H, W] (no goal: undefined)
  torch::Tensor latents;         // float [B, To, C, h, w]
  torch::Tensor future_latents;  // float [B, K, C, h, w] or [B, To, K, C, h, w]
  torch::Tensor goal_latents;    // float [B, C, h, w]
  torch::Tensor goal_offset;     // long [B]: steps from t to the goal frame (after clamping)
  std::map<std::string, torch::Tensor> other_cameras;  // uint8 [B, To, 3, H, W] of cameras after the first
  torch::Tensor proprio;      // float [B, To, 4]: ee xyz, gripper
  // bool [B, To]: true where t + the observation offset precedes the episode's start (the
  // index was clamped to its first step): a history model masks those steps as padding
  torch::Tensor obs_padding;
  torch::Tensor actions;      // float [B, Ta, 4] (zeros where has_actions is false)
  torch::Tensor has_actions;  // bool [B]: false for action-free video
  std::vector<std::string> instructions;

  int size() const { return int(instructions.size()); }
};

// The rows of `a` followed by those of `b` (co-training mixes robot and video batches).
Batch Concat(const Batch& a, const Batch& b);
// The rows of `batch` whose has_actions is true (a model part that learns only from robot data).
Batch RobotRows(const Batch& batch);

struct Episode {
  std::string task, instruction;
  std::map<std::string, torch::Tensor> images;  // per camera: uint8 [T, 3, H, W]
  torch::Tensor proprio;  // float [T, 4]
  torch::Tensor actions;  // float [T, 4], undefined for video
  // float [T, 4]: the end-effector position after step t's action (the last step's own at the
  // end) and that action's gripper effort, undefined for video
  torch::Tensor waypoints;
  std::map<std::string, torch::Tensor> latents;  // per camera: float [T, C, h, w] once cached

  int64_t length() const { return proprio.size(0); }
};

// Episodes of one or more HDF5 files, split into training and validation episodes.
class DemoData {
 public:
  // Reads every episode of `paths` with the images of `cameras` (each file must have them).
  // `val_fraction` of the episodes (at least one when there are several) are held out,
  // chosen by `seed`.
  static DemoData Load(const std::vector<std::string>& paths, const std::vector<std::string>& cameras,
                       double val_fraction, uint64_t seed);
  // `batch` samples of `spec` around uniformly drawn (episode, step) pairs. Throws
  // padbench::Error when the spec asks for a camera the data was not loaded with.
  Batch Sample(int batch, const DataSpec& spec, bool validation, Rng& rng) const;
  // Encodes every frame of every camera once (`encode`: uint8 [N,3,H,W] -> float [N,C,h,w]), so
  // batches carry latents instead of images: models with a frozen image encoder train without
  // re-running it.
  void CacheLatents(const std::function<torch::Tensor(const torch::Tensor&)>& encode);
  // All proprio, action or waypoint rows of the training episodes, for fitting normalisers.
  torch::Tensor AllProprio() const;
  torch::Tensor AllActions(bool waypoints = false) const;
  std::vector<std::string> Instructions() const;
  const std::vector<std::string>& cameras() const { return cameras_; }
  int train_episodes() const { return int(train_.size()); }
  int val_episodes() const { return int(val_.size()); }
  int64_t frames() const;
  int image_size() const { return image_size_; }
  bool has_actions() const { return has_actions_; }
  // A stable fingerprint of the data (file names, episode count, frames).
  std::string Fingerprint() const { return fingerprint_; }

 private:
  std::vector<Episode> train_, val_;
  std::vector<std::string> cameras_;
  int image_size_ = 0;
  bool has_actions_ = true;
  bool latents_ = false;
  std::string fingerprint_;
};

}  // namespace padbench::train
