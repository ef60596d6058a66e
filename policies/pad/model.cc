#include "policies/pad/model.h"

#include <chrono>

#include <fmt/format.h>

#include "policies/checkpoint.h"
#include "policies/learned.h"
#include "policies/nn/io.h"
#include "sim/error.h"

namespace padbench::pad {

namespace {

// config.json's keys, once (see WriteFields / ReadFields); the noise schedule and the nested
// autoencoder config add their own.
constexpr auto kFields = [](auto& c, auto&& field) {
  field("pred_horizon", c.pred_horizon);
  field("action_horizon", c.action_horizon);
  field("future_frames", c.future_frames);
  field("frame_interval", c.frame_interval);
  field("ddim_steps", c.ddim_steps);
  field("width", c.width);
  field("depth", c.depth);
  field("heads", c.heads);
  field("patch", c.patch);
  field("mlp_ratio", c.mlp_ratio);
  field("conditioning", c.conditioning);
  field("image_loss_weight", c.image_loss_weight);
  field("action_loss_weight", c.action_loss_weight);
  field("action_loss_warmup", c.action_loss_warmup);
  field("text_dim", c.text_dim);
  field("max_words", c.max_words);
  field("obs_horizon", c.obs_horizon);
  field("clean_tokens", c.clean_tokens);
  field("image_sees_actions", c.image_sees_actions);
  field("latent_norm", c.latent_norm);
  field("shift_pad", c.shift_pad);
  field("actions", c.actions);
  field("autoencoder", c.autoencoder);
  field("latent_scale", c.latent_scale);
  field("latent_mean", c.latent_mean);
  field("latent_std", c.latent_std);
};

}  // namespace

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
  if (c.ddim_steps < 1 || c.ddim_steps > c.schedule.train_steps) {
    throw Error(fmt::format("pad config: ddim_steps must be in [1, {}] (the training steps), got {}",
                            c.schedule.train_steps, c.ddim_steps));
  }
  nn::ParseConditioning(c.conditioning);  // validates
  nn::ParseActionKind(c.actions, kName);
  if (j.contains("autoencoder_config")) c.autoencoder_config = nn::AutoencoderConfig::FromJson(j.at("autoencoder_config"));
  if (c.pred_horizon < 1 || c.action_horizon < 1 || c.action_horizon > c.pred_horizon || c.future_frames < 0 ||
      c.frame_interval < 1) {
    throw Error(fmt::format("pad config: need 1 <= action_horizon <= pred_horizon, future_frames >= 0 and "
                            "frame_interval >= 1 (Tp={}, Ta={}, K={}, interval={})",
                            c.pred_horizon, c.action_horizon, c.future_frames, c.frame_interval));
  }
  if (c.obs_horizon < 1 || c.shift_pad < 0) {
    throw Error(fmt::format("pad config: need obs_horizon >= 1 and shift_pad >= 0 (got {} and {})", c.obs_horizon,
                            c.shift_pad));
  }
  if (c.latent_norm != "global" && c.latent_norm != "per_channel") {
    throw Error(fmt::format("pad config: latent_norm must be global or per_channel, got '{}'", c.latent_norm));
  }
  const size_t channels = size_t(c.autoencoder_config.latent_channels);
  if (c.latent_norm == "per_channel" && !c.latent_mean.empty() &&
      (c.latent_mean.size() != channels || c.latent_std.size() != channels)) {
    throw Error(fmt::format("pad config: latent_mean and latent_std need {} values (one per latent channel)", channels));
  }
  if (c.width < 1 || c.depth < 1 || c.patch < 1 || c.autoencoder_config.latent_size() % c.patch != 0) {
    throw Error(fmt::format("pad config: width and depth must be >= 1 and patch {} must divide the {}x{} latent",
                            c.patch, c.autoencoder_config.latent_size(), c.autoencoder_config.latent_size()));
  }
  return c;
}

ModelImpl::ModelImpl(const Config& config, nn::Autoencoder autoencoder, nn::Normalizer proprio,
                     nn::Normalizer actions, nn::Vocabulary vocabulary)
    : config_(config),
      conditioning_(nn::ParseConditioning(config.conditioning)),
      action_kind_(nn::ParseActionKind(config.actions, kName)),
      proprio_norm_(std::move(proprio)),
      action_norm_(std::move(actions)),
      vocabulary_(std::move(vocabulary)),
      image_schedule_([&] {
        auto s = config.schedule;
        s.clip_sample = false;  // latents are unit-variance, not bounded
        return s;
      }()),
      action_schedule_(config.schedule) {
  const auto& ae = config.autoencoder_config;
  const int64_t w = config.width, c = ae.latent_channels, grid = ae.latent_size() / config.patch;
  autoencoder_ = register_module("autoencoder", std::move(autoencoder));
  for (auto& p : autoencoder_->parameters()) p.set_requires_grad(false);
  patch_ = register_module("patch", nn::PatchEmbed(c * (1 + config.future_frames), w, config.patch));
  if (config.clean_tokens) {
    clean_patch_ = register_module("clean_patch", nn::PatchEmbed(c, w, config.patch));
    clean_pos_ = register_parameter("clean_pos", torch::randn({1, config.obs_horizon * grid * grid, w}) * 0.02);
  }
  // The standardisation, from the fitted values in the config (not weights: checkpoints from
  // before the option load unchanged).
  auto mean = torch::zeros({1, c, 1, 1}), std = torch::full({1, c, 1, 1}, 1.0 / config.latent_scale);
  if (config.latent_norm == "per_channel" && !config.latent_mean.empty()) {
    mean = torch::tensor(config.latent_mean, torch::kDouble).to(torch::kFloat).view({1, c, 1, 1});
    std = torch::tensor(config.latent_std, torch::kDouble).to(torch::kFloat).view({1, c, 1, 1});
  }
  latent_mean_ = mean;
  latent_std_ = std;
  timestep_ = register_module("timestep", nn::TimestepEmbed(w));
  text_ = register_module("text", nn::TextEncoder(vocabulary_.size(), config.text_dim));
  text_proj_ = register_module("text_proj", torch::nn::Linear(config.text_dim, w));
  proprio_in_ = register_module("proprio_in", torch::nn::Linear(4 * config.obs_horizon, w));
  action_in_ = register_module("action_in", torch::nn::Linear(4, w));
  image_pos_ = register_parameter("image_pos", torch::randn({1, grid * grid, w}) * 0.02);
  proprio_pos_ = register_parameter("proprio_pos", torch::randn({1, 1, w}) * 0.02);
  action_pos_ = register_parameter("action_pos", torch::randn({1, config.pred_horizon, w}) * 0.02);
  cond_pos_ = register_parameter("cond_pos", torch::randn({1, 2, w}) * 0.02);
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < config.depth; ++i) blocks_->push_back(nn::DiTBlock(w, config.heads, conditioning_, config.mlp_ratio));
  const bool adaptive = conditioning_ == nn::Conditioning::kAdaLnZero || conditioning_ == nn::Conditioning::kAdaLn;
  final_norm_ = register_module(
      "final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({w}).elementwise_affine(!adaptive).eps(1e-6)));
  if (adaptive) {
    final_modulation_ = register_module(
        "final_modulation",
        torch::nn::Sequential(torch::nn::SiLU(), conditioning_ == nn::Conditioning::kAdaLnZero
                                                     ? nn::ZeroLinear(w, 2 * w)
                                                     : torch::nn::Linear(w, 2 * w)));
  }
  // Zero-initialised heads (as DiT): the first prediction is 0, the mean of the noise.
  if (config.future_frames > 0) {
    image_out_ = register_module("image_out", nn::ZeroLinear(w, config.patch * config.patch * c * config.future_frames));
  }
  action_out_ = register_module("action_out", nn::ZeroLinear(w, 4));
}

torch::Tensor ModelImpl::Text(const std::vector<std::string>& instructions) {
  return text_proj_(text_(vocabulary_.EncodeBatch(instructions, config_.max_words)));
}

torch::Tensor ModelImpl::EncodeLatents(const torch::Tensor& images) {
  torch::NoGradGuard no_grad;
  return autoencoder_->Encode(images);
}

torch::Tensor ModelImpl::Standardize(const torch::Tensor& latents) const {
  return (latents - latent_mean_) / latent_std_;
}

torch::Tensor ModelImpl::Unstandardize(const torch::Tensor& latents) const {
  return latents * latent_std_ + latent_mean_;
}

torch::Tensor ModelImpl::AttentionMask(const torch::Tensor& robot_data, int64_t image_tokens, int64_t clean_tokens,
                                       int64_t prefix) const {
  using torch::indexing::Slice;
  const int64_t b = robot_data.size(0), tp = config_.pred_horizon;
  const int64_t images_end = prefix + image_tokens + clean_tokens, proprio = images_end, actions = proprio + 1,
                n = actions + tp;
  auto mask = torch::zeros({b, n, n}, torch::kBool);
  // Action-free samples: proprio and action tokens are keys nobody attends to.
  mask.index_put_({Slice(), Slice(), Slice(proprio, n)}, (~robot_data).view({b, 1, 1}).expand({b, n, n - proprio}));
  // The reference's mask: image tokens do not attend to action tokens, and neither do the
  // tokens they read (proprio, in-context conditioning), or the actions would reach the image
  // outputs one block later.
  if (!config_.image_sees_actions) mask.index_put_({Slice(), Slice(0, actions), Slice(actions, n)}, true);
  return mask;
}

Prediction ModelImpl::Denoise(const torch::Tensor& observed, const torch::Tensor& noisy_future,
                              const torch::Tensor& proprio, const torch::Tensor& noisy_actions, const torch::Tensor& t,
                              const torch::Tensor& text, const torch::Tensor& robot_data) {
  const int64_t b = observed.size(0), k = config_.future_frames, tp = config_.pred_horizon;
  const auto current = observed.select(1, -1);
  auto image_in = k > 0 ? torch::cat({current, noisy_future}, 1) : current;
  auto image_tokens = patch_(image_in) + image_pos_;
  const int64_t ni = image_tokens.size(1);
  std::vector<torch::Tensor> tokens = {image_tokens};
  int64_t nc = 0;
  if (clean_patch_) {
    auto clean = clean_patch_(observed.flatten(0, 1));  // [B*To, ni, w]
    tokens.push_back(clean.reshape({b, -1, clean.size(2)}) + clean_pos_);
    nc = tokens.back().size(1);
  }
  tokens.push_back(proprio_in_(proprio.flatten(1)).unsqueeze(1) + proprio_pos_);
  tokens.push_back(action_in_(noisy_actions) + action_pos_);
  auto x = torch::cat(tokens, 1);
  const auto t_embed = timestep_(t);
  const auto adaptive_cond = t_embed + text;  // what the adaLN variants regress their modulation from
  torch::Tensor cond = adaptive_cond;
  int64_t prefix = 0;
  if (conditioning_ == nn::Conditioning::kCrossAttention || conditioning_ == nn::Conditioning::kInContext) {
    auto cond_tokens = torch::stack({t_embed, text}, 1) + cond_pos_;  // [B,2,w]
    if (conditioning_ == nn::Conditioning::kInContext) {
      x = torch::cat({cond_tokens, x}, 1);
      prefix = 2;
    }
    cond = cond_tokens;
  }
  // No mask at all when nothing is masked (the common inference case): the same result, cheaper.
  torch::Tensor mask;
  if (!config_.image_sees_actions || !robot_data.all().item<bool>()) mask = AttentionMask(robot_data, ni, nc, prefix);
  for (const auto& block : *blocks_) x = block->as<nn::DiTBlock>()->forward(x, cond, mask);
  x = final_norm_(x.slice(1, prefix));
  if (final_modulation_) {
    auto mod = final_modulation_->forward(adaptive_cond).unsqueeze(1).chunk(2, -1);
    x = x * (1 + mod[1]) + mod[0];
  }
  Prediction out;
  out.actions = action_out_(x.slice(1, x.size(1) - tp));
  if (k > 0) {
    const int64_t c = config_.autoencoder_config.latent_channels * k, p = config_.patch,
                  grid = config_.autoencoder_config.latent_size() / p;
    out.future = nn::Unpatchify(image_out_(x.slice(1, 0, ni)), grid, p, c);
  }
  return out;
}

train::LossTerms ModelImpl::LossTerms(const train::Batch& batch, torch::Generator& generator) {
  const int64_t b = batch.size(), k = config_.future_frames;
  // Observed frames: the cached latents, else encoded now (always when augmenting: a random shift
  // before the frozen encoder).
  const bool shift = is_training() && config_.shift_pad > 0;
  torch::Tensor observed = batch.latents;
  if (shift || !observed.defined()) {
    auto frames = batch.images.flatten(0, 1);
    if (shift) frames = nn::RandomShift(frames.to(torch::kFloat), config_.shift_pad, generator).to(torch::kUInt8);
    const auto z = EncodeLatents(frames);
    observed = z.view({b, -1, z.size(1), z.size(2), z.size(3)});
  }
  observed = Standardize(observed.flatten(0, 1)).view(observed.sizes());
  torch::Tensor future;
  if (k > 0) {
    auto f = batch.future_latents.defined()
                 ? batch.future_latents
                 : EncodeLatents(batch.future.flatten(0, 1)).view({b, k, -1, observed.size(3), observed.size(4)});
    future = Standardize(f.flatten(0, 1)).view(f.sizes()).flatten(1, 2);
  }
  auto proprio = proprio_norm_.Normalize(batch.proprio);
  auto actions = action_norm_.Normalize(batch.actions);
  auto t = torch::randint(0, action_schedule_.train_steps(), {b}, generator, torch::kLong);
  auto eps_act = torch::randn(actions.sizes(), generator, torch::kFloat);
  torch::Tensor eps_img, noisy_future;
  if (k > 0) {
    eps_img = torch::randn(future.sizes(), generator, torch::kFloat);
    noisy_future = image_schedule_.AddNoise(future, eps_img, t);
  }
  auto pred = Denoise(observed, noisy_future, proprio, action_schedule_.AddNoise(actions, eps_act, t), t,
                      Text(batch.instructions), batch.has_actions);
  auto mask = batch.has_actions.to(torch::kFloat);
  auto action_loss = ((pred.actions - eps_act).pow(2).mean({1, 2}) * mask).sum() / mask.sum().clamp_min(1.0);
  double action_weight = config_.action_loss_weight;
  if (train_step_ >= 0 && train_step_ < config_.action_loss_warmup) {
    action_weight *= double(train_step_) / config_.action_loss_warmup;
  }
  train::LossTerms terms;
  terms.total = action_weight * action_loss;
  if (k > 0) {
    auto image_loss = (pred.future - eps_img).pow(2).mean();
    terms.total = terms.total + config_.image_loss_weight * image_loss;
    terms.parts.emplace_back("image_mse", image_loss.detach());
  }
  terms.parts.emplace_back("action_mse", action_loss.detach());
  return terms;
}

Sampled ModelImpl::Sample(const torch::Tensor& images, const torch::Tensor& proprio,
                          const std::vector<std::string>& instructions,
                          const std::vector<torch::Generator*>& generators,
                          const std::function<void(int, const Sampled&)>& on_step) {
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
  const auto start = Clock::now();
  const int64_t b = images.size(0), k = config_.future_frames;
  const auto z = EncodeLatents(images.flatten(0, 1));
  const auto observed = Standardize(z).view({b, -1, z.size(1), z.size(2), z.size(3)});
  const auto current = observed.select(1, -1);
  const auto state = proprio_norm_.Normalize(proprio);
  const auto text = Text(instructions);
  auto decode = [&](const torch::Tensor& latents) {
    if (k == 0) return torch::Tensor();
    auto flat = Unstandardize(latents.view({b * k, -1, latents.size(2), latents.size(3)}));
    auto frames = autoencoder_->Decode(flat);
    return frames.view({b, k, 3, frames.size(2), frames.size(3)});
  };
  auto noise = [&](std::vector<int64_t> shape) {
    if (generators.size() == 1) return torch::randn(shape, *generators[0], torch::kFloat);
    if (int64_t(generators.size()) != b) throw Error(fmt::format("pad: {} generators for {} samples", generators.size(), b));
    shape[0] = 1;
    return nn::RowNoise(generators, shape);
  };
  auto x_act = noise({b, config_.pred_horizon, 4});
  torch::Tensor x_img;
  if (k > 0) x_img = noise({b, current.size(1) * k, current.size(2), current.size(3)});
  const auto steps = action_schedule_.DdimTimesteps(config_.ddim_steps);
  const auto encoded = Clock::now();
  const StepFn denoise = Steps(observed, state, text, steps);
  for (size_t i = 0; i < steps.size(); ++i) {
    const int t = steps[i], t_prev = i + 1 < steps.size() ? steps[i + 1] : -1;
    const auto pred = denoise(i, x_img, x_act);
    if (on_step) {
      on_step(int(i) + 1, {action_norm_.Unnormalize(action_schedule_.PredictX0(x_act, pred.actions, t)),
                           k > 0 ? decode(image_schedule_.PredictX0(x_img, pred.future, t)) : torch::Tensor()});
    }
    x_act = action_schedule_.DdimStep(x_act, pred.actions, t, t_prev);
    if (k > 0) x_img = image_schedule_.DdimStep(x_img, pred.future, t, t_prev);
  }
  const auto denoised = Clock::now();
  Sampled out{action_norm_.Unnormalize(x_act), decode(x_img)};
  out.encode_ms = ms(start, encoded);
  out.denoise_ms = ms(encoded, denoised);
  out.decode_ms = ms(denoised, Clock::now());
  return out;
}

bool ModelImpl::fused_inference() const {
  // The fused blocks know adaLN-Zero and no attention mask (inference: every sample a robot's).
  return fused_allowed_ && !is_training() && conditioning_ == nn::Conditioning::kAdaLnZero &&
         config_.image_sees_actions;
}

ModelImpl::StepFn ModelImpl::Steps(const torch::Tensor& observed, const torch::Tensor& state,
                                   const torch::Tensor& text, const std::vector<int>& steps) {
  return fused_inference() ? FusedSteps(observed, state, text, steps) : TorchSteps(observed, state, text, steps);
}

void ModelImpl::train(bool on) {
  fused_.reset();
  torch::nn::Module::train(on);
}

ModelImpl::StepFn ModelImpl::TorchSteps(const torch::Tensor& observed, const torch::Tensor& state,
                                        const torch::Tensor& text, const std::vector<int>& steps) {
  const int64_t b = observed.size(0);
  const auto robot = torch::ones({b}, torch::kBool);
  return [=](size_t i, const torch::Tensor& x_img, const torch::Tensor& x_act) {
    return Denoise(observed, x_img, state, x_act, torch::full({b}, steps[i], torch::kLong), text, robot);
  };
}

// Denoise for every DDIM step, with the work that does not depend on the step done here once:
// the timestep embeddings of all steps and every block's modulation from them (one batched
// product per block instead of one per step), the current frame's share of the patch
// embedding (a convolution is linear in its input channels), the proprio and clean tokens.
ModelImpl::StepFn ModelImpl::FusedSteps(const torch::Tensor& observed, const torch::Tensor& state,
                                        const torch::Tensor& text, const std::vector<int>& steps) {
  if (!fused_) fused_ = std::make_unique<nn::FusedDiTBlocks>(blocks_, config_.width, config_.heads);
  const int64_t b = observed.size(0), k = config_.future_frames, tp = config_.pred_horizon, w = config_.width,
                s = int64_t(steps.size());
  const auto t = torch::tensor(std::vector<int64_t>(steps.begin(), steps.end()), torch::kLong);
  const auto cond = (timestep_(t).unsqueeze(1) + text.unsqueeze(0)).flatten(0, 1);  // [S*B, w]
  const auto modulations = fused_->Modulations(cond);                                // [S*B, depth, 6w]
  const auto final_mod = final_modulation_->forward(cond).view({s, b, 1, 2 * w}).chunk(2, -1);
  // The image tokens: cat(current, noisy future) through the patch convolution, split by channel.
  const auto& conv = patch_->proj();
  const int64_t c = observed.size(2), p = config_.patch;
  auto tokens = [](const torch::Tensor& maps) { return maps.flatten(2).transpose(1, 2); };
  const auto current =
      tokens(torch::conv2d(observed.select(1, -1), conv->weight.slice(1, 0, c), conv->bias, p)) + image_pos_;
  const torch::Tensor future_weight = k > 0 ? conv->weight.slice(1, c).contiguous() : torch::Tensor();
  std::vector<torch::Tensor> fixed;  // the tokens between the image and the action tokens
  if (clean_patch_) {
    auto clean = clean_patch_(observed.flatten(0, 1));
    fixed.push_back(clean.reshape({b, -1, clean.size(2)}) + clean_pos_);
  }
  fixed.push_back(proprio_in_(state.flatten(1)).unsqueeze(1) + proprio_pos_);
  const int64_t ni = current.size(1);
  return [=](size_t i, const torch::Tensor& x_img, const torch::Tensor& x_act) {
    std::vector<torch::Tensor> parts = {k > 0 ? current + tokens(torch::conv2d(x_img, future_weight, {}, p)) : current};
    parts.insert(parts.end(), fixed.begin(), fixed.end());
    parts.push_back(action_in_(x_act) + action_pos_);
    auto x = torch::cat(parts, 1).contiguous();
    std::vector<const float*> mod(static_cast<size_t>(b));  // rows of [S*B, depth, 6w], no tensor indexing
    const int64_t row = modulations.size(1) * modulations.size(2);
    for (int64_t j = 0; j < b; ++j) mod[size_t(j)] = modulations.data_ptr<float>() + (int64_t(i) * b + j) * row;
    fused_->Forward(x.data_ptr<float>(), b, x.size(1), mod.data());
    x = final_norm_(x) * (1 + final_mod[1][int64_t(i)]) + final_mod[0][int64_t(i)];
    Prediction out;
    out.actions = action_out_(x.slice(1, x.size(1) - tp));
    if (k > 0) {
      const int64_t grid = config_.autoencoder_config.latent_size() / p;
      out.future = nn::Unpatchify(image_out_(x.slice(1, 0, ni)), grid, p, c * k);
    }
    return out;
  };
}

double ModelImpl::DenoiseFlops() const {
  const double w = double(config_.width), tp = config_.pred_horizon, k = config_.future_frames,
               c = double(config_.autoencoder_config.latent_channels), p = double(config_.patch);
  const double grid = double(config_.autoencoder_config.latent_size()) / p, ni = grid * grid;
  const bool in_context = conditioning_ == nn::Conditioning::kInContext;
  const double to = config_.obs_horizon, clean = config_.clean_tokens ? to * ni : 0;
  const double n = ni + clean + 1 + tp + (in_context ? 2 : 0);
  double macs = ni * c * (1 + k) * p * p * w + clean * c * p * p * w  // patch embeddings
                + 4 * to * w + 4 * tp * w                           // proprio and action inputs
                + 256 * w + w * w;                                   // timestep MLP
  double block = 4 * n * w * w + 2 * n * n * w + 2 * config_.mlp_ratio * n * w * w;
  switch (conditioning_) {
    case nn::Conditioning::kAdaLnZero: block += 6 * w * w; break;
    case nn::Conditioning::kAdaLn: block += 4 * w * w; break;
    case nn::Conditioning::kCrossAttention: block += 2 * n * w * w + 2 * 2 * w * w + 2 * 2 * n * w; break;
    case nn::Conditioning::kInContext: break;
  }
  macs += config_.depth * block + ni * w * p * p * c * k + tp * w * 4;
  return 2 * macs;
}

nlohmann::json ModelImpl::Checkpoint() const {
  return WriteCheckpointParts(kName, {config_.ToJson(), proprio_norm_, action_norm_, vocabulary_});
}

void ModelImpl::PrepareData(train::DemoData& data) {
  data.CacheLatents([this](const torch::Tensor& images) { return EncodeLatents(images); });
}

train::DataSpec ModelImpl::data_spec() const {
  train::DataSpec spec;
  spec.cameras = {config_.autoencoder_config.camera};
  spec.obs_offsets = train::Range(1 - config_.obs_horizon, 1);
  spec.with_images = config_.shift_pad > 0;  // augmentation encodes the observed frames itself
  spec.action_offsets = train::Range(0, config_.pred_horizon);
  spec.waypoints = action_kind_ == ActionKind::kWaypoint;
  for (int k = 1; k <= config_.future_frames; ++k) spec.future_offsets.push_back(k * config_.frame_interval);
  return spec;
}

Model ModelFromCheckpoint(const nlohmann::json& checkpoint) {
  const CheckpointParts parts = ReadCheckpointParts(checkpoint, kName);
  const Config config = Config::FromJson(parts.config);
  return Model(config, nn::Autoencoder(config.autoencoder_config), parts.proprio, parts.actions, parts.vocabulary);
}

}  // namespace padbench::pad
