// Two-stage image-goal policies: a latent diffusion model predicts where the scene should be,
// a low-level policy acts towards it.
//
// - susie (SuSIE, Black et al. 2023): the high level edits the current frame into the goal, the
//   frame `goal_horizon` steps ahead (a DiT on the shared autoencoder's latents, the current
//   latent concatenated channel-wise with the noisy goal latent, classifier-free guidance with
//   an image and a text weight as InstructPix2Pix); the low level is a goal-conditioned
//   Diffusion Policy trained on hindsight goals 0 .. goal_horizon steps ahead.
// - unipi (UniPi, Du et al. 2023): the high level predicts a video plan of `plan_frames` frames
//   `frame_interval` apart (the same DiT, K target latents); an inverse-dynamics model maps the
//   current frame and the next plan frame to the `frame_interval` actions between them.
//
// Both levels train in one `padbench train` run (the loss is their sum; they share no weights):
// the high level on every row, robot and action-free video alike, the low level on the robot
// rows. `high_level_from` / `low_level_from` take one level, frozen, from another image_goal
// checkpoint and train only the other (an ablation that changes one level). Internal to policies/.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "policies/diffusion_policy/model.h"
#include "policies/nn/autoencoder.h"
#include "policies/nn/diffusion.h"
#include "policies/nn/dit.h"
#include "policies/nn/layers.h"
#include "policies/train/trainable.h"

namespace padbench::image_goal {

// The family's name: spec, config.json "policy", seeds.
inline constexpr std::string_view kName = "image_goal";

enum class Variant { kSusie, kUnipi };

struct Config {
  std::string variant = "susie";  // susie | unipi
  int goal_horizon = 16;          // susie: the goal is the frame this many control steps ahead
  int plan_frames = 3;            // unipi: K plan frames ...
  int frame_interval = 4;         // ... this many steps apart (also the inverse dynamics' chunk)
  int replan_every = 12;          // N: a new goal (plan) every N control steps
  // High level: the image DiT and its sampler.
  int ddim_steps = 10;
  nn::NoiseScheduleConfig schedule;
  int64_t width = 128, depth = 4, heads = 4, patch = 2;
  double mlp_ratio = 4.0;
  int64_t text_dim = 64, max_words = 12;
  // Classifier-free guidance (InstructPix2Pix's two weights, written as w = s - 1 so that 0 is the
  // plain conditional prediction): eps = eps(I,T) + w_image (eps(I,0) - eps(0,0)) + w_text (eps(I,T) - eps(I,0)).
  // Defaults: SuSIE's CALVIN image weight (1.5 in its form), a milder text weight than its 7.5.
  double image_guidance = 0.5, text_guidance = 1.0;
  double drop_image = 0.1, drop_text = 0.1;  // training: each condition dropped with this probability
  // The low level trains on autoencoder reconstructions of its goal frames (what the high level
  // produces) instead of the rendered frames; oracle goals go through the autoencoder too.
  bool decoded_goals = true;
  // susie: the goal-conditioned Diffusion Policy's config (diffusion_policy keys; goal_horizon
  // is set from this config's); on a checkpoint, the low level's whole checkpoint JSON.
  nlohmann::json low_level = nlohmann::json::object();
  std::string execution = "chunk";  // susie: chunk (the engine executes Ta) | ensemble (ACT's temporal ensembling)
  double ensemble_decay = 0.1;      // ensemble: weight exp(-decay * i), i = 0 the oldest prediction
  // unipi: the inverse-dynamics model.
  nn::ResNetEncoderConfig inverse_vision{{16, 32, 64}, 8, 32, 64};
  std::vector<int64_t> inverse_hidden{256, 256};
  int64_t shift_pad = 4;  // random shift of the inverse dynamics' frames in training
  // Composition and provenance.
  std::string autoencoder;  // folder of the frozen autoencoder
  nn::AutoencoderConfig autoencoder_config;
  double latent_scale = 1.0;  // 1 / std of the training latents (fitted)
  std::string high_level_from, low_level_from;  // image_goal checkpoints a frozen level came from

  Variant kind() const { return variant == "unipi" ? Variant::kUnipi : Variant::kSusie; }
  // Steps from the current frame to each frame the high level predicts: {goal_horizon} or
  // {interval, 2 interval, ..., K interval}.
  std::vector<int> target_offsets() const;
  nlohmann::json ToJson() const;
  static Config FromJson(const nlohmann::json& j);  // unknown keys and wrong types are errors
};

// The high level: a DiT that denoises K target latents [B,K*C,h,w] from the current latent
// [B,C,h,w] (zeros: the image condition dropped), the timestep and the instruction's embedding
// [B,width] (zeros: dropped).
class ImageDenoiserImpl : public torch::nn::Module {
 public:
  ImageDenoiserImpl(const Config& config, int64_t vocabulary_size);
  torch::Tensor forward(const torch::Tensor& noisy, const torch::Tensor& current, const torch::Tensor& t,
                        const torch::Tensor& text);
  torch::Tensor Text(const torch::Tensor& ids);  // token ids [B,L] -> [B,width]

 private:
  int64_t targets_, channels_, grid_, patch_;
  nn::PatchEmbed patch_embed_{nullptr};
  nn::TimestepEmbed timestep_{nullptr};
  nn::TextEncoder text_{nullptr};
  torch::nn::Linear text_proj_{nullptr}, out_{nullptr};
  torch::Tensor pos_;
  torch::nn::ModuleList blocks_{nullptr};
  torch::nn::LayerNorm final_norm_{nullptr};
  torch::nn::Sequential final_modulation_{nullptr};
};
TORCH_MODULE(ImageDenoiser);

// UniPi's inverse dynamics: the current frame and the next plan frame (uint8 [B,3,H,W]) and
// normalised proprio [B,4] -> the normalised actions between them [B,chunk,4].
class InverseDynamicsImpl : public torch::nn::Module {
 public:
  InverseDynamicsImpl(const nn::ResNetEncoderConfig& vision, const std::vector<int64_t>& hidden, int chunk);
  torch::Tensor forward(const torch::Tensor& current, const torch::Tensor& target, const torch::Tensor& proprio,
                        torch::Generator* augment, int64_t shift_pad);

 private:
  int chunk_;
  nn::ResNetEncoder encoder_{nullptr};
  torch::nn::Sequential mlp_{nullptr};
};
TORCH_MODULE(InverseDynamics);

class ModelImpl : public torch::nn::Module {
 public:
  // `low` is the susie low level (undefined for unipi); `proprio`/`actions` normalise the
  // inverse dynamics (unipi). The autoencoder is frozen; so is a level taken from another
  // checkpoint (Config::high_level_from / low_level_from).
  ModelImpl(const Config& config, nn::Autoencoder autoencoder, nn::Vocabulary vocabulary, dp::Model low,
            nn::Normalizer proprio, nn::Normalizer actions);

  // High-level epsilon-prediction MSE (every row, conditions dropped at random) + the low level's
  // loss (robot rows): "image_mse" and "action_mse" (susie: the low level's epsilon MSE; unipi:
  // the inverse dynamics' MSE on normalised actions).
  train::LossTerms LossTerms(const train::Batch& batch, torch::Generator& generator);
  void PrepareData(train::DemoData& data);  // caches latents of the frozen autoencoder
  train::DataSpec data_spec() const;

  // The guided noise prediction for standardised target latents `x` [B,K*C,h,w] given the
  // current latent and text; passes that a zero weight does not need are skipped.
  torch::Tensor GuidedNoise(const torch::Tensor& x, const torch::Tensor& current, const torch::Tensor& t,
                            const torch::Tensor& text, double image_weight, double text_weight);
  // DDIM sampling of the targets from the current frame uint8 [B,3,H,W]: decoded frames
  // [B,K,3,H,W] in [-1, 1]; `on_step(step, frames_x0)` sees each step's decoded x0 estimate.
  torch::Tensor SampleTargets(const torch::Tensor& current, const std::vector<std::string>& instructions,
                              torch::Generator& generator,
                              const std::function<void(int, const torch::Tensor&)>& on_step = {});
  // Frames in [-1, 1] or uint8 -> what the low level sees as a goal: uint8 [B,3,H,W] (through the
  // autoencoder when decoded_goals).
  torch::Tensor LowLevelGoal(const torch::Tensor& frames);
  // unipi: raw actions [B,interval,4] from the current frame, the next plan frame and raw proprio.
  torch::Tensor InverseActions(const torch::Tensor& current, const torch::Tensor& target, const torch::Tensor& proprio);

  torch::Tensor Text(const std::vector<std::string>& instructions);
  torch::Tensor EncodeLatents(const torch::Tensor& images);  // uint8 -> standardised latents (no grad)
  const Config& config() const { return config_; }
  dp::Model& low() { return low_; }
  ImageDenoiser& high() { return high_; }
  InverseDynamics& inverse() { return inverse_; }
  nn::Autoencoder& autoencoder() { return autoencoder_; }
  const nn::Vocabulary& vocabulary() const { return vocabulary_; }
  const nn::Normalizer& proprio_norm() const { return proprio_norm_; }
  const nn::Normalizer& action_norm() const { return action_norm_; }
  nlohmann::json Checkpoint() const;

 private:
  torch::Tensor Decode(const torch::Tensor& standardised);  // [N,C,h,w] -> [N,3,H,W] in [-1, 1]
  bool trains_high() const { return config_.high_level_from.empty(); }
  bool trains_low() const { return config_.low_level_from.empty(); }

  Config config_;
  nn::Vocabulary vocabulary_;
  nn::Normalizer proprio_norm_, action_norm_;
  nn::NoiseSchedule schedule_;
  nn::Autoencoder autoencoder_{nullptr};
  ImageDenoiser high_{nullptr};
  dp::Model low_{nullptr};
  InverseDynamics inverse_{nullptr};
};
TORCH_MODULE(Model);

// Rebuilds a model from a checkpoint's config.json (weights not loaded).
Model ModelFromCheckpoint(const nlohmann::json& checkpoint);

// [-1, 1] float images [..., 3, H, W] -> uint8 (rounded, clamped), channels first.
torch::Tensor ToUint8Chw(const torch::Tensor& images);

}  // namespace padbench::image_goal
