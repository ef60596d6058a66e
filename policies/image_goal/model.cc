#include "policies/image_goal/model.h"

#include <fmt/format.h>

#include "policies/checkpoint.h"
#include "policies/learned.h"
#include "sim/error.h"

namespace padbench::image_goal {

namespace {

// config.json's keys, once (see WriteFields / ReadFields); the noise schedule and the nested
// autoencoder config add their own.
constexpr auto kFields = [](auto& c, auto&& field) {
  field("variant", c.variant);
  field("goal_horizon", c.goal_horizon);
  field("plan_frames", c.plan_frames);
  field("frame_interval", c.frame_interval);
  field("replan_every", c.replan_every);
  field("ddim_steps", c.ddim_steps);
  field("width", c.width);
  field("depth", c.depth);
  field("heads", c.heads);
  field("patch", c.patch);
  field("mlp_ratio", c.mlp_ratio);
  field("text_dim", c.text_dim);
  field("max_words", c.max_words);
  field("image_guidance", c.image_guidance);
  field("text_guidance", c.text_guidance);
  field("drop_image", c.drop_image);
  field("drop_text", c.drop_text);
  field("decoded_goals", c.decoded_goals);
  field("low_level", c.low_level);
  field("execution", c.execution);
  field("ensemble_decay", c.ensemble_decay);
  field("inverse_channels", c.inverse_vision.channels);
  field("inverse_keypoints", c.inverse_vision.keypoints);
  field("inverse_dim", c.inverse_vision.out_dim);
  field("inverse_hidden", c.inverse_hidden);
  field("shift_pad", c.shift_pad);
  field("autoencoder", c.autoencoder);
  field("latent_scale", c.latent_scale);
  field("high_level_from", c.high_level_from);
  field("low_level_from", c.low_level_from);
};

}  // namespace

torch::Tensor ToUint8Chw(const torch::Tensor& images) {
  return ((images + 1.0) * 127.5).round().clamp(0, 255).to(torch::kUInt8);
}

std::vector<int> Config::target_offsets() const {
  if (kind() == Variant::kSusie) return {goal_horizon};
  std::vector<int> offsets;
  for (int k = 1; k <= plan_frames; ++k) offsets.push_back(k * frame_interval);
  return offsets;
}

nlohmann::json Config::ToJson() const {
  nlohmann::json j = WriteFields(*this, kFields);
  j["autoencoder_config"] = autoencoder_config.ToJson();
  nn::WriteScheduleJson(schedule, j);
  return j;
}

Config Config::FromJson(const nlohmann::json& j) {
  Config c;
  const ConfigReader r(std::string(kName), j, c.ToJson());
  ReadFields(r, c, kFields);
  nn::ReadScheduleJson(r, c.schedule);
  if (j.contains("autoencoder_config")) c.autoencoder_config = nn::AutoencoderConfig::FromJson(j.at("autoencoder_config"));
  auto fail = [](const std::string& what) { throw Error(fmt::format("image_goal config: {}", what)); };
  if (c.variant != "susie" && c.variant != "unipi") fail(fmt::format("variant must be susie or unipi, got '{}'", c.variant));
  if (c.execution != "chunk" && c.execution != "ensemble") {
    fail(fmt::format("execution must be chunk or ensemble, got '{}'", c.execution));
  }
  if (c.goal_horizon < 1 || c.plan_frames < 1 || c.frame_interval < 1 || c.replan_every < 1) {
    fail(fmt::format("goal_horizon, plan_frames, frame_interval and replan_every must be >= 1 (got {}, {}, {}, {})",
                     c.goal_horizon, c.plan_frames, c.frame_interval, c.replan_every));
  }
  if (c.kind() == Variant::kUnipi &&
      (c.replan_every % c.frame_interval != 0 || c.replan_every > c.plan_frames * c.frame_interval)) {
    fail(fmt::format("unipi replans within its plan: replan_every {} must be a multiple of frame_interval {} and at "
                     "most plan_frames x frame_interval = {}",
                     c.replan_every, c.frame_interval, c.plan_frames * c.frame_interval));
  }
  if (c.ddim_steps < 1 || c.ddim_steps > c.schedule.train_steps) {
    fail(fmt::format("ddim_steps must be in [1, {}] (the training steps), got {}", c.schedule.train_steps, c.ddim_steps));
  }
  if (c.image_guidance < 0 || c.text_guidance < 0) fail("guidance weights must be >= 0");
  if (c.drop_image < 0 || c.drop_image >= 1 || c.drop_text < 0 || c.drop_text >= 1) {
    fail("drop_image and drop_text are probabilities in [0, 1)");
  }
  if (c.ensemble_decay < 0 || c.shift_pad < 0) fail("ensemble_decay and shift_pad must be >= 0");
  if (!c.low_level.is_object()) fail("low_level must be an object (diffusion_policy keys)");
  if (c.width < 1 || c.depth < 1 || c.patch < 1 || c.autoencoder_config.latent_size() % c.patch != 0) {
    fail(fmt::format("width and depth must be >= 1 and patch {} must divide the {}x{} latent", c.patch,
                     c.autoencoder_config.latent_size(), c.autoencoder_config.latent_size()));
  }
  return c;
}

// ---- the high level ----

ImageDenoiserImpl::ImageDenoiserImpl(const Config& config, int64_t vocabulary_size)
    : targets_(int64_t(config.target_offsets().size())),
      channels_(config.autoencoder_config.latent_channels),
      grid_(config.autoencoder_config.latent_size() / config.patch),
      patch_(config.patch) {
  const int64_t w = config.width;
  patch_embed_ = register_module("patch", nn::PatchEmbed(channels_ * (1 + targets_), w, patch_));
  pos_ = register_parameter("pos", torch::randn({1, grid_ * grid_, w}) * 0.02);
  timestep_ = register_module("timestep", nn::TimestepEmbed(w));
  text_ = register_module("text", nn::TextEncoder(vocabulary_size, config.text_dim));
  text_proj_ = register_module("text_proj", torch::nn::Linear(config.text_dim, w));
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < config.depth; ++i) {
    blocks_->push_back(nn::DiTBlock(w, config.heads, nn::Conditioning::kAdaLnZero, config.mlp_ratio));
  }
  final_norm_ = register_module("final_norm",
                                torch::nn::LayerNorm(torch::nn::LayerNormOptions({w}).elementwise_affine(false).eps(1e-6)));
  final_modulation_ =
      register_module("final_modulation", torch::nn::Sequential(torch::nn::SiLU(), nn::ZeroLinear(w, 2 * w)));
  out_ = register_module("out", nn::ZeroLinear(w, patch_ * patch_ * channels_ * targets_));
}

torch::Tensor ImageDenoiserImpl::Text(const torch::Tensor& ids) { return text_proj_(text_(ids)); }

torch::Tensor ImageDenoiserImpl::forward(const torch::Tensor& noisy, const torch::Tensor& current,
                                         const torch::Tensor& t, const torch::Tensor& text) {
  auto x = patch_embed_(torch::cat({current, noisy}, 1)) + pos_;
  const auto cond = timestep_(t) + text;
  for (const auto& block : *blocks_) x = block->as<nn::DiTBlock>()->forward(x, cond);
  const auto mod = final_modulation_->forward(cond).unsqueeze(1).chunk(2, -1);
  x = final_norm_(x) * (1 + mod[1]) + mod[0];
  return nn::Unpatchify(out_(x), grid_, patch_, channels_ * targets_);
}

// ---- UniPi's inverse dynamics ----

InverseDynamicsImpl::InverseDynamicsImpl(const nn::ResNetEncoderConfig& vision, const std::vector<int64_t>& hidden,
                                         int chunk)
    : chunk_(chunk) {
  encoder_ = register_module("encoder", nn::ResNetEncoder(vision));
  torch::nn::Sequential mlp;
  int64_t in = 2 * vision.out_dim + 4;
  for (int64_t h : hidden) {
    mlp->push_back(torch::nn::Linear(in, h));
    mlp->push_back(torch::nn::Mish());
    in = h;
  }
  mlp->push_back(torch::nn::Linear(in, int64_t(chunk) * 4));
  mlp_ = register_module("mlp", mlp);
}

torch::Tensor InverseDynamicsImpl::forward(const torch::Tensor& current, const torch::Tensor& target,
                                           const torch::Tensor& proprio, torch::Generator* augment, int64_t shift_pad) {
  const int64_t b = current.size(0);
  auto frames = torch::cat({current, target}).to(torch::kFloat);
  if (augment && shift_pad > 0) frames = nn::RandomShift(frames, shift_pad, *augment);
  const auto features = encoder_(frames);
  const auto in = torch::cat({features.slice(0, 0, b), features.slice(0, b), proprio}, 1);
  return mlp_->forward(in).view({b, chunk_, 4});
}

// ---- the two levels together ----

ModelImpl::ModelImpl(const Config& config, nn::Autoencoder autoencoder, nn::Vocabulary vocabulary, dp::Model low,
                     nn::Normalizer proprio, nn::Normalizer actions)
    : config_(config),
      vocabulary_(std::move(vocabulary)),
      proprio_norm_(std::move(proprio)),
      action_norm_(std::move(actions)),
      schedule_([&] {
        auto s = config.schedule;
        s.clip_sample = false;  // standardised latents are not bounded
        return s;
      }()) {
  autoencoder_ = register_module("autoencoder", std::move(autoencoder));
  high_ = register_module("high", ImageDenoiser(config, vocabulary_.size()));
  if (config.kind() == Variant::kSusie) {
    PADBENCH_CHECK(!low.is_empty(), "susie needs its low level");
    low_ = register_module("low", std::move(low));
    config_.low_level = low_->Checkpoint();
  } else {
    inverse_ = register_module("inverse", InverseDynamics(config.inverse_vision, config.inverse_hidden, config.frame_interval));
  }
  auto freeze = [](torch::nn::Module& m) {
    for (auto& p : m.parameters()) p.set_requires_grad(false);
  };
  freeze(*autoencoder_);
  if (!trains_high()) freeze(*high_);
  if (!trains_low()) {
    if (low_) freeze(*low_);
    if (inverse_) freeze(*inverse_);
  }
}

torch::Tensor ModelImpl::Text(const std::vector<std::string>& instructions) {
  return high_->Text(vocabulary_.EncodeBatch(instructions, config_.max_words));
}

torch::Tensor ModelImpl::EncodeLatents(const torch::Tensor& images) {
  torch::NoGradGuard no_grad;
  return autoencoder_->Encode(images) * config_.latent_scale;
}

torch::Tensor ModelImpl::Decode(const torch::Tensor& standardised) {
  torch::NoGradGuard no_grad;
  return autoencoder_->Decode(standardised / config_.latent_scale);
}

torch::Tensor ModelImpl::LowLevelGoal(const torch::Tensor& frames) {
  if (!config_.decoded_goals) return frames;
  return ToUint8Chw(Decode(EncodeLatents(frames)));
}

train::LossTerms ModelImpl::LossTerms(const train::Batch& batch, torch::Generator& generator) {
  PADBENCH_CHECK(batch.latents.defined(), "image_goal trains on cached latents (PrepareData)");
  train::LossTerms terms;
  terms.total = torch::zeros({});
  const double scale = config_.latent_scale;
  if (trains_high()) {
    const int64_t b = batch.size();
    const auto current = batch.latents.select(1, -1) * scale;
    const auto target = (batch.future_latents * scale).flatten(1, 2);
    const auto t = torch::randint(0, schedule_.train_steps(), {b}, generator, torch::kLong);
    const auto eps = torch::randn(target.sizes(), generator, torch::kFloat);
    // Each condition dropped at random (the unconditional predictions guidance needs).
    const auto keep_image = (torch::rand({b, 1, 1, 1}, generator) >= config_.drop_image).to(torch::kFloat);
    const auto keep_text = (torch::rand({b, 1}, generator) >= config_.drop_text).to(torch::kFloat);
    const auto pred = high_(schedule_.AddNoise(target, eps, t), current * keep_image, t,
                            Text(batch.instructions) * keep_text);
    const auto image_mse = (pred - eps).pow(2).mean();
    terms.total = terms.total + image_mse;
    terms.parts.emplace_back("image_mse", image_mse.detach());
  }
  if (trains_low()) {
    train::Batch robot = train::RobotRows(batch);
    // What the low level aims at: the goal frame, as the high level would draw it.
    const auto goal = config_.decoded_goals ? ToUint8Chw(Decode(robot.goal_latents * scale)) : robot.goal;
    torch::Tensor action_loss;
    if (low_) {
      robot.goal = goal;
      action_loss = low_->Loss(robot, generator);
    } else {
      const auto current = robot.images.select(1, -1);
      const auto pred = inverse_(current, goal, proprio_norm_.Normalize(robot.proprio.select(1, -1)), &generator,
                                 config_.shift_pad);
      action_loss = (pred - action_norm_.Normalize(robot.actions)).pow(2).mean();
    }
    terms.total = terms.total + action_loss;
    terms.parts.emplace_back("action_mse", action_loss.detach());
  }
  return terms;
}

torch::Tensor ModelImpl::GuidedNoise(const torch::Tensor& x, const torch::Tensor& current, const torch::Tensor& t,
                                     const torch::Tensor& text, double image_weight, double text_weight) {
  // Rows: (image, text), then (image, no text) and (no image, no text) when a weight needs them,
  // in one batched pass.
  const bool need_image_only = image_weight != 0 || text_weight != 0, need_none = image_weight != 0;
  std::vector<torch::Tensor> xs{x}, currents{current}, texts{text}, ts{t};
  if (need_image_only) {
    xs.push_back(x), currents.push_back(current), texts.push_back(torch::zeros_like(text)), ts.push_back(t);
  }
  if (need_none) {
    xs.push_back(x), currents.push_back(torch::zeros_like(current)), texts.push_back(torch::zeros_like(text)),
        ts.push_back(t);
  }
  const auto out = high_(torch::cat(xs), torch::cat(currents), torch::cat(ts), torch::cat(texts)).chunk(int64_t(xs.size()));
  auto eps = out[0];
  if (text_weight != 0) eps = eps + text_weight * (out[0] - out[1]);
  if (image_weight != 0) eps = eps + image_weight * (out[1] - out[2]);
  return eps;
}

torch::Tensor ModelImpl::SampleTargets(const torch::Tensor& current_frame, const std::vector<std::string>& instructions,
                                       torch::Generator& generator,
                                       const std::function<void(int, const torch::Tensor&)>& on_step) {
  const int64_t b = current_frame.size(0), k = int64_t(config_.target_offsets().size());
  const auto current = EncodeLatents(current_frame);
  const int64_t c = current.size(1), h = current.size(2), w = current.size(3);
  const auto text = Text(instructions);
  auto decode = [&](const torch::Tensor& x) {
    const auto frames = Decode(x.reshape({b * k, c, h, w}));
    return frames.view({b, k, 3, frames.size(2), frames.size(3)});
  };
  auto x = torch::randn({b, k * c, h, w}, generator, torch::kFloat);
  const auto steps = schedule_.DdimTimesteps(config_.ddim_steps);
  for (size_t i = 0; i < steps.size(); ++i) {
    const int t = steps[i], t_prev = i + 1 < steps.size() ? steps[i + 1] : -1;
    const auto eps = GuidedNoise(x, current, torch::full({b}, t, torch::kLong), text, config_.image_guidance,
                                 config_.text_guidance);
    if (on_step) on_step(int(i) + 1, decode(schedule_.PredictX0(x, eps, t)));
    x = schedule_.DdimStep(x, eps, t, t_prev);
  }
  return decode(x);
}

torch::Tensor ModelImpl::InverseActions(const torch::Tensor& current, const torch::Tensor& target,
                                        const torch::Tensor& proprio) {
  PADBENCH_CHECK(!inverse_.is_empty(), "only unipi has an inverse-dynamics model");
  return action_norm_.Unnormalize(inverse_(current, target, proprio_norm_.Normalize(proprio), nullptr, 0));
}

void ModelImpl::PrepareData(train::DemoData& data) {
  data.CacheLatents([this](const torch::Tensor& images) {
    torch::NoGradGuard no_grad;
    return autoencoder_->Encode(images);
  });
}

train::DataSpec ModelImpl::data_spec() const {
  train::DataSpec spec;
  if (low_) {
    spec = low_->data_spec();  // observation window, action chunk and hindsight goals 0 .. goal_horizon
  } else {
    spec.obs_offsets = {0};
    spec.action_offsets = train::Range(0, config_.frame_interval);
    spec.goal_min = spec.goal_max = config_.frame_interval;  // the next plan frame
  }
  spec.cameras = {config_.autoencoder_config.camera};
  spec.future_offsets = config_.target_offsets();
  spec.with_images = true;  // the low level reads pixels
  return spec;
}

nlohmann::json ModelImpl::Checkpoint() const {
  return WriteCheckpointParts(kName, {config_.ToJson(), proprio_norm_, action_norm_, vocabulary_});
}

Model ModelFromCheckpoint(const nlohmann::json& checkpoint) {
  const CheckpointParts parts = ReadCheckpointParts(checkpoint, kName);
  const Config config = Config::FromJson(parts.config);
  dp::Model low{nullptr};
  if (config.kind() == Variant::kSusie) low = dp::ModelFromCheckpoint(config.low_level);
  return Model(config, nn::Autoencoder(config.autoencoder_config), parts.vocabulary, std::move(low), parts.proprio,
               parts.actions);
}

}  // namespace padbench::image_goal
