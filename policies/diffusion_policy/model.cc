#include "policies/diffusion_policy/model.h"

#include <fmt/format.h>

#include "policies/checkpoint.h"
#include "policies/learned.h"
#include "policies/nn/io.h"
#include "sim/error.h"

namespace padbench::dp {

namespace {

// config.json's keys, once (see WriteFields / ReadFields); the noise schedule adds its own.
constexpr auto kFields = [](auto& c, auto&& field) {
  field("obs_horizon", c.obs_horizon);
  field("pred_horizon", c.pred_horizon);
  field("action_horizon", c.action_horizon);
  field("ddim_steps", c.ddim_steps);
  field("vision_channels", c.vision.channels);
  field("vision_keypoints", c.vision.keypoints);
  field("vision_dim", c.vision.out_dim);
  field("down_dims", c.down_dims);
  field("text_dim", c.text_dim);
  field("max_words", c.max_words);
  field("shift_pad", c.shift_pad);
  field("camera", c.camera);
  field("image_size", c.image_size);
  field("text_encoder", c.text_encoder);
  field("goal_horizon", c.goal_horizon);
};

}  // namespace

nlohmann::json Config::ToJson() const {
  nlohmann::json j = WriteFields(*this, kFields);
  nn::WriteScheduleJson(schedule, j);
  return j;
}

Config Config::FromJson(const nlohmann::json& j) {
  Config c;
  const ConfigReader r(std::string(kName), j, c.ToJson());
  ReadFields(r, c, kFields);
  nn::ReadScheduleJson(r, c.schedule);
  if (c.ddim_steps < 1 || c.ddim_steps > c.schedule.train_steps) {
    throw Error(fmt::format("diffusion_policy config: ddim_steps must be in [1, {}] (the training steps), got {}",
                            c.schedule.train_steps, c.ddim_steps));
  }
  if (c.obs_horizon < 1 || c.pred_horizon < c.obs_horizon - 1 + c.action_horizon || c.action_horizon < 1) {
    throw Error(fmt::format("diffusion_policy config: need To >= 1, Ta >= 1 and Tp >= To - 1 + Ta (To={}, Tp={}, Ta={})",
                            c.obs_horizon, c.pred_horizon, c.action_horizon));
  }
  if (c.goal_horizon < 0) throw Error(fmt::format("diffusion_policy config: goal_horizon must be >= 0, got {}", c.goal_horizon));
  // The U-Net halves the horizon once per level but the last.
  const int64_t factor = int64_t(1) << (c.down_dims.size() - 1);
  if (c.down_dims.empty() || c.pred_horizon % factor != 0) {
    throw Error(fmt::format("diffusion_policy config: pred_horizon {} must be divisible by {} for {} U-Net levels",
                            c.pred_horizon, factor, c.down_dims.size()));
  }
  return c;
}

ModelImpl::ModelImpl(const Config& config, nn::Normalizer proprio, nn::Normalizer actions, nn::Vocabulary vocabulary)
    : config_(config),
      proprio_norm_(std::move(proprio)),
      action_norm_(std::move(actions)),
      vocabulary_(std::move(vocabulary)),
      schedule_(config.schedule) {
  encoder_ = register_module("encoder", nn::ResNetEncoder(config.vision));
  int64_t text_dim = config.text_dim;
  if (config.text_encoder.empty()) {
    text_ = register_module("text", nn::TextEncoder(vocabulary_.size(), config.text_dim));
  } else {
    script_text_ = std::make_shared<nn::ScriptTextEncoder>(config.text_encoder);
    text_dim = script_text_->dim();
  }
  nn::UNet1dConfig unet;
  unet.input_dim = 4;
  unet.cond_dim = config.obs_horizon * (config.vision.out_dim + 4) + text_dim +
                  (config.goal_horizon > 0 ? config.vision.out_dim : 0);
  unet.down_dims = config.down_dims;
  unet_ = register_module("unet", nn::UNet1d(unet));
}

torch::Tensor ModelImpl::Text(const std::vector<std::string>& instructions) {
  if (script_text_) {
    std::vector<torch::Tensor> rows;
    for (const auto& s : instructions) rows.push_back(script_text_->Encode(s));
    return torch::cat(rows).detach();
  }
  return text_(vocabulary_.EncodeBatch(instructions, config_.max_words));
}

torch::Tensor ModelImpl::Condition(const torch::Tensor& images, const torch::Tensor& proprio,
                                   const std::vector<std::string>& instructions, torch::Generator* augment,
                                   const torch::Tensor& goal) {
  const int64_t b = images.size(0), to = images.size(1);
  const bool with_goal = config_.goal_horizon > 0;
  PADBENCH_CHECK(with_goal == goal.defined(), with_goal ? "a goal-conditioned model needs a goal image"
                                                        : "this model is not goal-conditioned");
  // The goal is encoded in the same pass as the observations (one encoder, as the reference
  // stacks goal and observation).
  auto flat = images.reshape({b * to, images.size(2), images.size(3), images.size(4)});
  if (with_goal) flat = torch::cat({flat, goal});
  flat = flat.to(torch::kFloat);
  if (augment) flat = nn::RandomShift(flat, config_.shift_pad, *augment);
  auto encoded = encoder_(flat);
  auto features = encoded.slice(0, 0, b * to).reshape({b, -1});
  auto state = proprio_norm_.Normalize(proprio).view({b, -1});
  if (!with_goal) return torch::cat({features, state, Text(instructions)}, 1);
  return torch::cat({features, state, Text(instructions), encoded.slice(0, b * to)}, 1);
}

torch::Tensor ModelImpl::Loss(const train::Batch& batch, torch::Generator& generator) {
  auto cond = Condition(batch.images, batch.proprio, batch.instructions, &generator,
                        config_.goal_horizon > 0 ? batch.goal : torch::Tensor());
  auto x0 = action_norm_.Normalize(batch.actions);
  const int64_t b = x0.size(0);
  auto eps = torch::randn(x0.sizes(), generator, torch::kFloat);
  auto t = torch::randint(0, schedule_.train_steps(), {b}, generator, torch::kLong);
  auto pred = unet_(schedule_.AddNoise(x0, eps, t), t, cond);
  auto per_sample = (pred - eps).pow(2).mean({1, 2});
  auto mask = batch.has_actions.to(torch::kFloat);
  return (per_sample * mask).sum() / mask.sum().clamp_min(1.0);
}

void ModelImpl::train(bool on) {
  fused_.reset();
  torch::nn::Module::train(on);
}

torch::Tensor ModelImpl::Sample(const torch::Tensor& cond, const std::vector<torch::Generator*>& generators,
                                const std::function<void(int, const torch::Tensor&)>& on_step) {
  const int64_t b = cond.size(0);
  torch::Tensor x;
  if (generators.size() == 1) {
    x = torch::randn({b, config_.pred_horizon, 4}, *generators[0], torch::kFloat);
  } else if (int64_t(generators.size()) == b) {
    x = nn::RowNoise(generators, {1, config_.pred_horizon, 4});
  } else {
    throw Error(fmt::format("diffusion_policy: {} generators for {} samples", generators.size(), b));
  }
  const auto steps = schedule_.DdimTimesteps(config_.ddim_steps);
  // Every step's FiLM at once: rows s * B .. s * B + B - 1 are step s's.
  const int64_t s = int64_t(steps.size());
  const auto t_all = torch::tensor(std::vector<int64_t>(steps.begin(), steps.end()), torch::kLong).repeat_interleave(b);
  const auto films = unet_->Films(t_all, cond.repeat({s, 1}));
  const bool fused = fused_allowed_ && !is_training();
  if (fused && !fused_) fused_ = std::make_unique<nn::FusedUNet1d>(*unet_);
  for (size_t i = 0; i < steps.size(); ++i) {
    const int t = steps[i], t_prev = i + 1 < steps.size() ? steps[i + 1] : -1;
    auto eps = fused ? fused_->Denoise(x, films, int64_t(i) * b) : unet_->Denoise(x, films, int64_t(i) * b);
    if (on_step) on_step(int(i) + 1, action_norm_.Unnormalize(schedule_.PredictX0(x, eps, t)));
    x = schedule_.DdimStep(x, eps, t, t_prev);
  }
  return action_norm_.Unnormalize(x);
}

nlohmann::json ModelImpl::Checkpoint() const {
  return WriteCheckpointParts(kName, {config_.ToJson(), proprio_norm_, action_norm_, vocabulary_});
}

train::DataSpec ModelImpl::data_spec() const {
  train::DataSpec spec;
  spec.cameras = {config_.camera};
  spec.obs_offsets = train::Range(1 - config_.obs_horizon, 1);
  spec.action_offsets = train::Range(1 - config_.obs_horizon, 1 - config_.obs_horizon + config_.pred_horizon);
  if (config_.goal_horizon > 0) {
    spec.goal_min = 0;
    spec.goal_max = config_.goal_horizon;
  }
  return spec;
}

Model ModelFromCheckpoint(const nlohmann::json& checkpoint) {
  const CheckpointParts parts = ReadCheckpointParts(checkpoint, kName);
  return Model(Config::FromJson(parts.config), parts.proprio, parts.actions, parts.vocabulary);
}

}  // namespace padbench::dp
