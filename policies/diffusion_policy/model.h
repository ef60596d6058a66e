// Diffusion Policy (Chi et al. 2023), CNN variant: a conditional 1-D temporal U-Net denoises a
// chunk of Tp future actions conditioned (FiLM) on To observations (image features, proprio)
// and the instruction. Internal to policies/ (pulls in torch).
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "policies/nn/diffusion.h"
#include "policies/nn/fused_unet.h"
#include "policies/nn/layers.h"
#include "policies/train/trainable.h"

namespace padbench::dp {

// The family's name: spec, config.json "policy", seeds.
inline constexpr std::string_view kName = "diffusion_policy";

struct Config {
  int obs_horizon = 2;       // To
  int pred_horizon = 16;     // Tp
  int action_horizon = 8;    // Ta: actions executed per inference
  int ddim_steps = 10;       // inference denoising steps
  nn::NoiseScheduleConfig schedule;
  // Sized for two CPU cores and a < 16 MB checkpoint (3.2M parameters, ~3.4 training it/s at batch 64).
  nn::ResNetEncoderConfig vision{{16, 32, 64}, 8, 32, 64};
  std::vector<int64_t> down_dims{48, 96, 192};
  int64_t text_dim = 32;
  int64_t max_words = 12;
  int64_t shift_pad = 4;     // random-shift augmentation (pixels)
  std::string camera = "corner";
  int image_size = 64;
  std::string text_encoder;  // optional TorchScript text encoder (frozen); empty: learned embeddings
  // > 0: goal-conditioned (the image-goal family's low level): the features of a goal image, by
  // the observation encoder, join the condition; trained on hindsight goals, the frame 0 ..
  // goal_horizon steps after the current one (DataSpec::goal_min/max).
  int goal_horizon = 0;

  nlohmann::json ToJson() const;
  // Starts from the defaults; unknown keys or wrong types are errors naming the key.
  static Config FromJson(const nlohmann::json& j);
};

class ModelImpl : public torch::nn::Module {
 public:
  ModelImpl(const Config& config, nn::Normalizer proprio, nn::Normalizer actions, nn::Vocabulary vocabulary);

  // Observation features [B, cond_dim] from images uint8 [B,To,3,H,W], raw proprio [B,To,4] and,
  // when goal-conditioned, goal images uint8 [B,3,H,W].
  torch::Tensor Condition(const torch::Tensor& images, const torch::Tensor& proprio,
                          const std::vector<std::string>& instructions, torch::Generator* augment,
                          const torch::Tensor& goal = {});
  // Epsilon-prediction loss on the batch's action chunks (goal-conditioned: on batch.goal).
  torch::Tensor Loss(const train::Batch& batch, torch::Generator& generator);
  // DDIM sampling of raw actions [B,Tp,4]; `on_step(step, x0_estimate_raw)` sees each step. In
  // eval mode the U-Net runs through nn::FusedUNet1d (the same samples within float rounding).
  // The noise: one generator draws the whole batch's; one per row draws that row's (a null one
  // gives a padding row zeros).
  torch::Tensor Sample(const torch::Tensor& cond, const std::vector<torch::Generator*>& generators,
                       const std::function<void(int, const torch::Tensor&)>& on_step = {});
  torch::Tensor Sample(const torch::Tensor& cond, torch::Generator& generator,
                       const std::function<void(int, const torch::Tensor&)>& on_step = {}) {
    return Sample(cond, std::vector<torch::Generator*>{&generator}, on_step);
  }
  // Whether Sample may take the fused path (default true).
  void set_fused_inference(bool on) { fused_allowed_ = on; }
  // Training drops the fused copy of the weights; the next Sample in eval mode makes a new one.
  void train(bool on = true) override;

  const Config& config() const { return config_; }
  nlohmann::json Checkpoint() const;
  // A training sample: To observations up to the sample's step, Tp actions from the first of
  // them, and the hindsight goal when goal-conditioned.
  train::DataSpec data_spec() const;

 private:
  torch::Tensor Text(const std::vector<std::string>& instructions);

  Config config_;
  nn::Normalizer proprio_norm_, action_norm_;
  nn::Vocabulary vocabulary_;
  nn::NoiseSchedule schedule_;
  nn::ResNetEncoder encoder_{nullptr};
  nn::TextEncoder text_{nullptr};
  std::shared_ptr<nn::ScriptTextEncoder> script_text_;
  nn::UNet1d unet_{nullptr};
  bool fused_allowed_ = true;
  std::unique_ptr<nn::FusedUNet1d> fused_;  // a copy of unet_'s weights, made by the first fused Sample
};
TORCH_MODULE(Model);

// Rebuilds a model from a checkpoint's config.json (weights not loaded).
Model ModelFromCheckpoint(const nlohmann::json& checkpoint);

}  // namespace padbench::dp
