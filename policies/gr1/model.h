// GR-1 (Wu et al. 2023): a GPT-style causal transformer over the last H observations. Each
// timestep contributes a proprio token and image tokens (the frozen shared autoencoder's latent
// cut into patches, optionally reduced by a one-layer Perceiver resampler), and two kinds of
// query tokens: one [ACT], whose output gives the action chunk of its step, and [OBS] queries,
// whose outputs a small MAE-style decoder turns into the latent of the frame `future_offset`
// steps after their step. One instruction token, shared by every step, opens the sequence; a
// learned timestep embedding is added to every token of a step.
//
// Attention: a step's tokens see the instruction, their own step and earlier steps; query
// tokens are nobody's keys (so dropping the queries of every step but the last, as Act does,
// changes nothing); steps before the episode's start are padding nobody attends to; the proprio
// tokens of action-free video are masked too. Internal to policies/.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "policies/nn/autoencoder.h"
#include "policies/nn/dit.h"
#include "policies/nn/layers.h"
#include "policies/train/trainable.h"

namespace padbench::gr1 {

// The family's name: spec and config.json "policy".
inline constexpr std::string_view kName = "gr1";

struct Config {
  int history = 4;         // H timesteps read, the current one last
  // Actions each [ACT] query predicts, from its own step on: GR-1's chunked variant (10, the
  // first executed) beat its one action per step on the development seed (results/gr1_selection.md).
  int action_chunk = 10;
  int execute = 1;         // of those, executed per Act (1: an Act every control step)
  int future_offset = 4;   // [OBS] predicts the frame this many steps after its step
  int64_t width = 128, depth = 4, heads = 4, patch = 2;
  double mlp_ratio = 4.0;
  int64_t image_tokens = 4;  // resampler outputs per frame (0: every latent patch is a token)
  int64_t obs_queries = 4;   // [OBS] tokens per step
  int64_t decoder_width = 64, decoder_depth = 1, decoder_heads = 2;
  // loss = frame_w * MSE(latent) + arm_w * SmoothL1(normalised arm deltas) + gripper_w * BCE(gripper sign)
  double frame_loss_weight = 1.0, arm_loss_weight = 1.0, gripper_loss_weight = 1.0;
  int64_t text_dim = 64, max_words = 12;
  std::string autoencoder;  // folder the frozen autoencoder was loaded from (provenance)
  nn::AutoencoderConfig autoencoder_config;
  double latent_scale = 1.0;  // 1 / std of the training latents (fitted)

  nlohmann::json ToJson() const;
  static Config FromJson(const nlohmann::json& j);  // unknown keys and wrong types are errors
};

// What the query tokens of the chosen steps give.
struct Outputs {
  torch::Tensor arm;      // [B, S, chunk, 3]: normalised arm deltas (tanh)
  torch::Tensor gripper;  // [B, S, chunk]: logits of "effort > 0" (close)
  torch::Tensor future;   // [B, S, C, h, w]: standardised latents `future_offset` steps ahead
};

// One Act's result.
struct Prediction {
  torch::Tensor actions;  // raw [chunk, 4], the gripper effort as its sign (+-1)
  torch::Tensor frame;    // [3, H, W] in [-1, 1]: the frame `future_offset` steps ahead
};

class ModelImpl : public torch::nn::Module {
 public:
  // `autoencoder` is frozen (saved with the model, never trained).
  ModelImpl(const Config& config, nn::Autoencoder autoencoder, nn::Normalizer proprio, nn::Normalizer actions,
            nn::Vocabulary vocabulary);

  // Standardised latents [N, C, h, w] -> the frame's tokens [N, R, width].
  torch::Tensor ImageTokens(const torch::Tensor& latents);
  // image_tokens [B, H, R, width]; proprio normalised [B, H, 4]; text [B, width] (Text());
  // padding [B, H] (true: before the episode's start); robot [B] (false: action-free video).
  // all_steps: the queries of every step (training), else of the last step only (Act).
  Outputs Forward(const torch::Tensor& image_tokens, const torch::Tensor& proprio, const torch::Tensor& text,
                  const torch::Tensor& padding, const torch::Tensor& robot, bool all_steps);
  // Forward's self-attention mask, true where query i must not see key j: [B, N, N].
  torch::Tensor AttentionMask(const torch::Tensor& padding, const torch::Tensor& robot, bool all_steps) const;
  // Over the valid (not padding) steps: frame MSE on every row; arm SmoothL1 and gripper BCE on
  // robot rows only. Parts "frame_mse", "arm_l1", "gripper_bce" for the training log.
  train::LossTerms LossTerms(const train::Batch& batch, torch::Generator& generator);
  // The autoencoder is frozen: the trainer encodes every frame once.
  void PrepareData(train::DemoData& data);
  // H observed steps; per step its action chunk and the frame future_offset ahead.
  train::DataSpec data_spec() const;

  // The action chunk and predicted frame of the last step, from the window's image tokens
  // [1, H, R, width] (ImageTokens of standardised latents), raw proprio [1, H, 4] and padding [1, H].
  Prediction Predict(const torch::Tensor& image_tokens, const torch::Tensor& proprio, const torch::Tensor& padding,
                     const std::string& instruction);
  // The same for B windows at once: actions [B, chunk, 4], frames [B, 3, H, W].
  Prediction PredictBatch(const torch::Tensor& image_tokens, const torch::Tensor& proprio, const torch::Tensor& padding,
                          const std::vector<std::string>& instructions);

  torch::Tensor EncodeLatents(const torch::Tensor& images);  // uint8 [N,3,H,W] -> raw latents (no grad)
  torch::Tensor Standardize(const torch::Tensor& latents) const { return latents * config_.latent_scale; }
  torch::Tensor Text(const std::vector<std::string>& instructions);
  const Config& config() const { return config_; }
  nlohmann::json Checkpoint() const;
  // The [ACT] head's parameters (the video-rows test reads their gradients).
  std::vector<torch::Tensor> ActionHeadParameters() const;

 private:
  // Query outputs [B, S, Q, width] -> standardised latents [B, S, C, h, w].
  torch::Tensor DecodeFuture(const torch::Tensor& obs_outputs);

  Config config_;
  nn::Normalizer proprio_norm_, action_norm_;
  nn::Vocabulary vocabulary_;
  nn::Autoencoder autoencoder_{nullptr};
  nn::TextEncoder text_{nullptr};
  torch::nn::Linear text_proj_{nullptr}, proprio_in_{nullptr};
  nn::PatchEmbed patch_{nullptr};
  torch::Tensor patch_pos_, image_pos_, step_embed_, act_query_, obs_query_;
  torch::nn::ModuleList resampler_{nullptr};  // empty when image_tokens = 0
  torch::Tensor resampler_latents_;
  torch::nn::ModuleList blocks_{nullptr};
  torch::nn::LayerNorm final_norm_{nullptr};
  torch::nn::Sequential action_mlp_{nullptr};
  torch::nn::Linear arm_out_{nullptr}, gripper_out_{nullptr};
  torch::nn::Linear decoder_in_{nullptr}, decoder_out_{nullptr};
  torch::Tensor mask_token_, decoder_pos_;
  torch::nn::ModuleList decoder_{nullptr};
  torch::nn::LayerNorm decoder_norm_{nullptr};
};
TORCH_MODULE(Model);

// Rebuilds a model from a checkpoint's config.json (weights, the autoencoder's included, not loaded).
Model ModelFromCheckpoint(const nlohmann::json& checkpoint);

}  // namespace padbench::gr1
