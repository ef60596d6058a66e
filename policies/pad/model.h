// PAD ("Prediction with Action", Guo et al. 2024): one Diffusion Transformer denoises the
// latents of K future frames and a chunk of Tp actions jointly, from one shared diffusion
// timestep. Tokens: the current frame's latent concatenated channel-wise with the K noisy
// future latents, cut into patches (as the reference); optionally the clean latents of the
// To observed frames as tokens of their own; one proprio token (To steps); Tp noisy action
// tokens. The instruction's embedding is added to the timestep embedding. Internal to policies/.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "policies/nn/autoencoder.h"
#include "policies/nn/diffusion.h"
#include "policies/nn/dit.h"
#include "policies/nn/fused_dit.h"
#include "policies/nn/layers.h"
#include "policies/policy.h"
#include "policies/train/trainable.h"

namespace padbench::pad {

// The family's name: spec, config.json "policy", seeds.
inline constexpr std::string_view kName = "pad";

struct Config {
  int pred_horizon = 16;    // Tp actions denoised, from the current step
  int action_horizon = 8;   // Ta executed per inference
  int future_frames = 3;    // K predicted frames (0: the "no image prediction" ablation)
  int frame_interval = 4;   // control steps between predicted frames
  int ddim_steps = 10;
  nn::NoiseScheduleConfig schedule;
  int64_t width = 128, depth = 4, heads = 4, patch = 2;
  double mlp_ratio = 4.0;
  std::string conditioning = "adaln_zero";  // adaln_zero | adaln | cross_attention | in_context
  double image_loss_weight = 1.0, action_loss_weight = 1.0;
  // Over the first N training steps the action-loss weight ramps linearly from 0 to
  // action_loss_weight, so the DiT first learns to predict frames (0: no warm-up).
  int action_loss_warmup = 0;
  int64_t text_dim = 64, max_words = 12;
  // Options (issue 13), each off by default, which is the model shipped before them:
  int obs_horizon = 1;          // To observed frames and proprio steps (t - To + 1 .. t), as DP's 2
  bool clean_tokens = false;    // the To clean observed latents as tokens of their own
  // false: the reference's mask, image tokens (and the proprio and conditioning tokens they
  // read) do not attend to action tokens, so actions cannot change the predicted frames
  bool image_sees_actions = true;
  std::string latent_norm = "global";  // global: one scale | per_channel: mean and std per channel
  int64_t shift_pad = 0;        // random shift (pixels) of observed frames before encoding, in training
  // delta: the chunk is delta actions | waypoints: absolute end-effector targets and gripper
  // effort (the reference's), executed in closed loop (ActionKind::kWaypoint)
  std::string actions = "delta";
  std::string autoencoder;  // folder the frozen autoencoder was loaded from (provenance)
  nn::AutoencoderConfig autoencoder_config;
  double latent_scale = 1.0;  // global: 1 / std of the training latents (fitted)
  std::vector<double> latent_mean, latent_std;  // per_channel: fitted on the training latents

  nlohmann::json ToJson() const;
  static Config FromJson(const nlohmann::json& j);  // unknown keys and wrong types are errors
};

// The denoiser's outputs: predicted noise of the future latents and of the actions.
struct Prediction {
  torch::Tensor future;   // [B, K*C, h, w] (undefined when K = 0)
  torch::Tensor actions;  // [B, Tp, 4]
};

// What sampling returns: raw actions and decoded frames.
struct Sampled {
  torch::Tensor actions;  // raw [B, Tp, 4]
  torch::Tensor frames;   // [B, K, 3, H, W] in [-1, 1] (undefined when K = 0)
  // Where Sample's time went (ms): encoding the observed frames, the DDIM loop, decoding the
  // predicted frames; Act reports them as its stages.
  double encode_ms = 0, denoise_ms = 0, decode_ms = 0;
};

class ModelImpl : public torch::nn::Module {
 public:
  // `autoencoder` is frozen (its parameters are saved with the model but never trained).
  ModelImpl(const Config& config, nn::Autoencoder autoencoder, nn::Normalizer proprio, nn::Normalizer actions,
            nn::Vocabulary vocabulary);

  // observed: standardised latents [B,To,C,h,w] (the last is the current frame); noisy_future
  // [B,K*C,h,w]; proprio normalised [B,To,4]; noisy_actions normalised [B,Tp,4]; t [B]; text
  // [B,width] (Text()); robot_data [B] bool: false masks the proprio and action tokens out of
  // attention (action-free video).
  Prediction Denoise(const torch::Tensor& observed, const torch::Tensor& noisy_future, const torch::Tensor& proprio,
                     const torch::Tensor& noisy_actions, const torch::Tensor& t, const torch::Tensor& text,
                     const torch::Tensor& robot_data);
  // w_img * MSE(image noise) + w_act * MSE(action noise over samples with actions), with the
  // unweighted parts "image_mse" and "action_mse" for the training log.
  train::LossTerms LossTerms(const train::Batch& batch, torch::Generator& generator);
  torch::Tensor Loss(const train::Batch& batch, torch::Generator& generator) { return LossTerms(batch, generator).total; }
  // The trainer's step, for the action-loss warm-up.
  void BeginStep(int step) { train_step_ = step; }
  // The autoencoder is frozen: the trainer encodes every frame once instead of every step.
  void PrepareData(train::DemoData& data);
  // A training sample: the current frame, Tp actions from it, K future frames `frame_interval` apart.
  train::DataSpec data_spec() const;
  // DDIM sampling from uint8 images [B,To,3,H,W] and raw proprio [B,To,4]; `on_step` sees each
  // step's x0 estimate (decoding frames costs a decoder pass per step; only when asked). In eval
  // mode with adaLN-Zero and no attention mask it runs the fused path: what does not change
  // across the steps (timestep and instruction embeddings, every block's modulation, the
  // current frame's tokens) once, the blocks through nn::FusedDiTBlocks; the same samples
  // within float rounding (pad_test).
  // The noise: one generator draws the whole batch's; one per row draws that row's (a null one
  // gives a padding row zeros), so that a row gets the same numbers whatever the batch.
  Sampled Sample(const torch::Tensor& images, const torch::Tensor& proprio, const std::vector<std::string>& instructions,
                 const std::vector<torch::Generator*>& generators,
                 const std::function<void(int, const Sampled&)>& on_step = {});
  Sampled Sample(const torch::Tensor& images, const torch::Tensor& proprio, const std::vector<std::string>& instructions,
                 torch::Generator& generator, const std::function<void(int, const Sampled&)>& on_step = {}) {
    return Sample(images, proprio, instructions, std::vector<torch::Generator*>{&generator}, on_step);
  }

  torch::Tensor EncodeLatents(const torch::Tensor& images);  // uint8 -> raw latents (no grad)
  torch::Tensor Standardize(const torch::Tensor& latents) const;    // raw [..., C, h, w] -> the DiT's scale
  torch::Tensor Unstandardize(const torch::Tensor& latents) const;  // and back
  // The mask of Denoise's self-attention, true where query i must not see key j: [B, N, N].
  torch::Tensor AttentionMask(const torch::Tensor& robot_data, int64_t image_tokens, int64_t clean_tokens,
                              int64_t prefix) const;
  torch::Tensor Text(const std::vector<std::string>& instructions);
  // Multiply-adds x 2 of one Denoise call for a batch of one (linear layers and attention).
  double DenoiseFlops() const;
  const Config& config() const { return config_; }
  ActionKind action_kind() const { return action_kind_; }
  // Whether Sample may take the fused path (default true; false: every step through Denoise).
  void set_fused_inference(bool on) { fused_allowed_ = on; }
  bool fused_inference() const;
  // Training drops the fused copy of the weights; the next Sample in eval mode makes a new one.
  void train(bool on = true) override;
  // Denoise at every step of `steps` (DDIM timesteps) for one Act's standardised observed
  // latents, normalised proprio and Text(): the fused path when fused_inference(), else one
  // Denoise per call. Sample runs it; the denoiser benchmark times one call.
  using StepFn = std::function<Prediction(size_t step, const torch::Tensor& x_img, const torch::Tensor& x_act)>;
  StepFn Steps(const torch::Tensor& observed, const torch::Tensor& state, const torch::Tensor& text,
               const std::vector<int>& steps);
  nn::Autoencoder& autoencoder() { return autoencoder_; }
  nlohmann::json Checkpoint() const;

 private:
  Config config_;
  nn::Conditioning conditioning_;
  ActionKind action_kind_;
  nn::Normalizer proprio_norm_, action_norm_;
  nn::Vocabulary vocabulary_;
  nn::NoiseSchedule image_schedule_, action_schedule_;  // same betas; only actions clip x0 to [-1, 1]
  nn::Autoencoder autoencoder_{nullptr};
  nn::PatchEmbed patch_{nullptr}, clean_patch_{nullptr};
  nn::TimestepEmbed timestep_{nullptr};
  nn::TextEncoder text_{nullptr};
  torch::nn::Linear text_proj_{nullptr}, proprio_in_{nullptr}, action_in_{nullptr};
  torch::Tensor image_pos_, clean_pos_, proprio_pos_, action_pos_, cond_pos_;
  torch::Tensor latent_mean_, latent_std_;  // [1, C, 1, 1]: the standardisation
  int train_step_ = -1;  // the trainer's step (for the warm-up); -1: not training, full weights
  torch::nn::ModuleList blocks_{nullptr};
  torch::nn::LayerNorm final_norm_{nullptr};
  torch::nn::Sequential final_modulation_{nullptr};
  torch::nn::Linear image_out_{nullptr}, action_out_{nullptr};
  bool fused_allowed_ = true;
  std::unique_ptr<nn::FusedDiTBlocks> fused_;  // a copy of blocks_' weights, made by the first fused Sample
  StepFn TorchSteps(const torch::Tensor& observed, const torch::Tensor& state, const torch::Tensor& text,
                    const std::vector<int>& steps);
  StepFn FusedSteps(const torch::Tensor& observed, const torch::Tensor& state, const torch::Tensor& text,
                    const std::vector<int>& steps);
};
TORCH_MODULE(Model);

// Rebuilds a model from a checkpoint's config.json (weights, the autoencoder's included, not loaded).
Model ModelFromCheckpoint(const nlohmann::json& checkpoint);

}  // namespace padbench::pad
