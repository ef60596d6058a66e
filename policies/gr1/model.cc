#include "policies/gr1/model.h"

#include <fmt/format.h>

#include "policies/checkpoint.h"
#include "policies/learned.h"
#include "sim/error.h"

namespace padbench::gr1 {

namespace {

using torch::indexing::Slice;

// config.json's keys, once (see WriteFields / ReadFields); the nested autoencoder config adds its own.
constexpr auto kFields = [](auto& c, auto&& field) {
  field("history", c.history);
  field("action_chunk", c.action_chunk);
  field("execute", c.execute);
  field("future_offset", c.future_offset);
  field("width", c.width);
  field("depth", c.depth);
  field("heads", c.heads);
  field("patch", c.patch);
  field("mlp_ratio", c.mlp_ratio);
  field("image_tokens", c.image_tokens);
  field("obs_queries", c.obs_queries);
  field("decoder_width", c.decoder_width);
  field("decoder_depth", c.decoder_depth);
  field("decoder_heads", c.decoder_heads);
  field("frame_loss_weight", c.frame_loss_weight);
  field("arm_loss_weight", c.arm_loss_weight);
  field("gripper_loss_weight", c.gripper_loss_weight);
  field("text_dim", c.text_dim);
  field("max_words", c.max_words);
  field("autoencoder", c.autoencoder);
  field("latent_scale", c.latent_scale);
};

// One Perceiver-resampler layer: learned latents cross-attend to a frame's patch tokens, then an MLP.
class ResamplerLayerImpl : public torch::nn::Module {
 public:
  ResamplerLayerImpl(int64_t width, int64_t heads, double mlp_ratio) {
    auto ln = [&](const char* name) {
      return register_module(name, torch::nn::LayerNorm(torch::nn::LayerNormOptions({width}).eps(1e-6)));
    };
    norm_latents_ = ln("norm_latents");
    norm_patches_ = ln("norm_patches");
    norm_mlp_ = ln("norm_mlp");
    attn_ = register_module("attn", nn::Attention(width, heads));
    const int64_t hidden = int64_t(width * mlp_ratio);
    mlp_ = register_module("mlp", torch::nn::Sequential(torch::nn::Linear(width, hidden), torch::nn::GELU(),
                                                         torch::nn::Linear(hidden, width)));
  }
  torch::Tensor forward(const torch::Tensor& latents, const torch::Tensor& patches) {
    auto x = latents + attn_(norm_latents_(latents), norm_patches_(patches));
    return x + mlp_->forward(norm_mlp_(x));
  }

 private:
  torch::nn::LayerNorm norm_latents_{nullptr}, norm_patches_{nullptr}, norm_mlp_{nullptr};
  nn::Attention attn_{nullptr};
  torch::nn::Sequential mlp_{nullptr};
};
TORCH_MODULE(ResamplerLayer);

}  // namespace

nlohmann::json Config::ToJson() const {
  nlohmann::json j = WriteFields(*this, kFields);
  j["autoencoder_config"] = autoencoder_config.ToJson();
  return j;
}

Config Config::FromJson(const nlohmann::json& j) {
  Config c;
  const ConfigReader r(std::string(kName), j, c.ToJson());
  ReadFields(r, c, kFields);
  if (j.contains("autoencoder_config")) c.autoencoder_config = nn::AutoencoderConfig::FromJson(j.at("autoencoder_config"));
  if (c.history < 1 || c.action_chunk < 1 || c.execute < 1 || c.execute > c.action_chunk || c.future_offset < 1) {
    throw Error(fmt::format("gr1 config: need history >= 1, 1 <= execute <= action_chunk and future_offset >= 1 "
                            "(history={}, action_chunk={}, execute={}, future_offset={})",
                            c.history, c.action_chunk, c.execute, c.future_offset));
  }
  if (c.width < 1 || c.depth < 1 || c.heads < 1 || c.width % c.heads != 0 || c.decoder_width < 1 ||
      c.decoder_depth < 1 || c.decoder_heads < 1 || c.decoder_width % c.decoder_heads != 0) {
    throw Error(fmt::format("gr1 config: width {} and decoder_width {} must be positive multiples of heads {} and "
                            "decoder_heads {}, depths >= 1",
                            c.width, c.decoder_width, c.heads, c.decoder_heads));
  }
  if (c.patch < 1 || c.autoencoder_config.latent_size() % c.patch != 0 || c.image_tokens < 0 || c.obs_queries < 1) {
    throw Error(fmt::format("gr1 config: patch {} must divide the {}x{} latent, image_tokens >= 0, obs_queries >= 1",
                            c.patch, c.autoencoder_config.latent_size(), c.autoencoder_config.latent_size()));
  }
  return c;
}

ModelImpl::ModelImpl(const Config& config, nn::Autoencoder autoencoder, nn::Normalizer proprio,
                     nn::Normalizer actions, nn::Vocabulary vocabulary)
    : config_(config),
      proprio_norm_(std::move(proprio)),
      action_norm_(std::move(actions)),
      vocabulary_(std::move(vocabulary)) {
  const auto& ae = config.autoencoder_config;
  const int64_t w = config.width, c = ae.latent_channels, grid = ae.latent_size() / config.patch,
                patches = grid * grid, r = config.image_tokens > 0 ? config.image_tokens : patches;
  auto small = [](std::vector<int64_t> shape) { return torch::randn(shape) * 0.02; };
  autoencoder_ = register_module("autoencoder", std::move(autoencoder));
  for (auto& p : autoencoder_->parameters()) p.set_requires_grad(false);
  text_ = register_module("text", nn::TextEncoder(vocabulary_.size(), config.text_dim));
  text_proj_ = register_module("text_proj", torch::nn::Linear(config.text_dim, w));
  proprio_in_ = register_module("proprio_in", torch::nn::Linear(4, w));
  patch_ = register_module("patch", nn::PatchEmbed(c, w, config.patch));
  patch_pos_ = register_parameter("patch_pos", small({1, patches, w}));
  resampler_ = register_module("resampler", torch::nn::ModuleList());
  if (config.image_tokens > 0) {
    resampler_->push_back(ResamplerLayer(w, config.heads, config.mlp_ratio));
    resampler_latents_ = register_parameter("resampler_latents", small({1, config.image_tokens, w}));
  }
  image_pos_ = register_parameter("image_pos", small({1, 1, r, w}));
  step_embed_ = register_parameter("step_embed", small({1, config.history, w}));
  act_query_ = register_parameter("act_query", small({1, 1, w}));
  obs_query_ = register_parameter("obs_query", small({1, config.obs_queries, w}));
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < config.depth; ++i) {
    blocks_->push_back(nn::DiTBlock(w, config.heads, nn::Conditioning::kInContext, config.mlp_ratio));
  }
  final_norm_ = register_module("final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({w}).eps(1e-6)));
  action_mlp_ = register_module("action_mlp", torch::nn::Sequential(torch::nn::Linear(w, w), torch::nn::GELU()));
  arm_out_ = register_module("arm_out", torch::nn::Linear(w, 3 * config.action_chunk));
  gripper_out_ = register_module("gripper_out", torch::nn::Linear(w, config.action_chunk));
  const int64_t dw = config.decoder_width;
  decoder_in_ = register_module("decoder_in", torch::nn::Linear(w, dw));
  mask_token_ = register_parameter("mask_token", small({1, 1, dw}));
  decoder_pos_ = register_parameter("decoder_pos", small({1, patches, dw}));
  decoder_ = register_module("decoder", torch::nn::ModuleList());
  for (int64_t i = 0; i < config.decoder_depth; ++i) {
    decoder_->push_back(nn::DiTBlock(dw, config.decoder_heads, nn::Conditioning::kInContext, config.mlp_ratio));
  }
  decoder_norm_ = register_module("decoder_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dw}).eps(1e-6)));
  decoder_out_ = register_module("decoder_out", torch::nn::Linear(dw, config.patch * config.patch * c));
}

torch::Tensor ModelImpl::Text(const std::vector<std::string>& instructions) {
  return text_proj_(text_(vocabulary_.EncodeBatch(instructions, config_.max_words)));
}

torch::Tensor ModelImpl::EncodeLatents(const torch::Tensor& images) {
  torch::NoGradGuard no_grad;
  return autoencoder_->Encode(images);
}

torch::Tensor ModelImpl::ImageTokens(const torch::Tensor& latents) {
  auto patches = patch_(latents) + patch_pos_;
  if (resampler_->size() == 0) return patches;
  auto x = resampler_latents_.expand({patches.size(0), int64_t(-1), int64_t(-1)});
  for (const auto& layer : *resampler_) x = layer->as<ResamplerLayer>()->forward(x, patches);
  return x;
}

torch::Tensor ModelImpl::AttentionMask(const torch::Tensor& padding, const torch::Tensor& robot, bool all_steps) const {
  const int64_t b = padding.size(0), h = config_.history, r = image_pos_.size(2), q = 1 + config_.obs_queries;
  // Each token's step (-1: the instruction) and kind, in Forward's order: the instruction, then
  // per step its proprio and image tokens, then the query tokens (of every step, or the last).
  std::vector<int64_t> step{-1};
  std::vector<uint8_t> is_query{0}, is_proprio{0};
  for (int64_t s = 0; s < h; ++s) {
    for (int64_t i = 0; i < 1 + r; ++i) {
      step.push_back(s);
      is_query.push_back(0);
      is_proprio.push_back(i == 0);
    }
  }
  for (int64_t s = all_steps ? 0 : h - 1; s < h; ++s) {
    for (int64_t i = 0; i < q; ++i) {
      step.push_back(s);
      is_query.push_back(1);
      is_proprio.push_back(0);
    }
  }
  const int64_t n = int64_t(step.size());
  const auto steps = torch::tensor(step, torch::kLong);
  const auto query_keys = torch::tensor(is_query).to(torch::kBool);
  // Causal across steps, and no query token is a key.
  const auto structure = (steps.view({1, n}) > steps.view({n, 1})) | query_keys.view({1, n});
  // Per row: keys of padding steps, and the proprio tokens of action-free video.
  const auto key_step = steps.clamp_min(0);
  auto per_row = padding.index_select(1, key_step) & (steps >= 0).view({1, n});
  per_row = per_row | (torch::tensor(is_proprio).to(torch::kBool).view({1, n}) & (~robot).view({b, 1}));
  return structure.view({1, n, n}) | per_row.view({b, 1, n});
}

Outputs ModelImpl::Forward(const torch::Tensor& image_tokens, const torch::Tensor& proprio, const torch::Tensor& text,
                           const torch::Tensor& padding, const torch::Tensor& robot, bool all_steps) {
  const int64_t b = image_tokens.size(0), h = config_.history, w = config_.width, q = config_.obs_queries;
  PADBENCH_CHECK(image_tokens.size(1) == h && proprio.size(1) == h && padding.size(1) == h,
                 "gr1: the window must hold `history` steps");
  const auto step = step_embed_.unsqueeze(2);  // [1, H, 1, w]
  // Per step: proprio, then image tokens -> [B, H*(1+R), w].
  auto context = torch::cat({proprio_in_(proprio).unsqueeze(2), image_tokens + image_pos_}, 2) + step;
  const int64_t s = all_steps ? h : 1;
  auto queries = torch::cat({act_query_, obs_query_}, 1).unsqueeze(1) + step.slice(1, h - s);  // [1, S, 1+Q, w]
  auto x = torch::cat({text.unsqueeze(1), context.flatten(1, 2), queries.expand({b, s, 1 + q, w}).flatten(1, 2)}, 1);
  const auto mask = AttentionMask(padding, robot, all_steps);
  for (const auto& block : *blocks_) x = block->as<nn::DiTBlock>()->forward(x, torch::Tensor(), mask);
  x = final_norm_(x.slice(1, x.size(1) - s * (1 + q))).view({b, s, 1 + q, w});
  Outputs out;
  const auto act = action_mlp_->forward(x.select(2, 0));
  out.arm = torch::tanh(arm_out_(act)).view({b, s, config_.action_chunk, 3});
  out.gripper = gripper_out_(act);
  out.future = DecodeFuture(x.slice(2, 1));
  return out;
}

torch::Tensor ModelImpl::DecodeFuture(const torch::Tensor& obs_outputs) {
  const int64_t b = obs_outputs.size(0), s = obs_outputs.size(1), q = config_.obs_queries,
                patches = decoder_pos_.size(1), c = config_.autoencoder_config.latent_channels,
                grid = config_.autoencoder_config.latent_size() / config_.patch;
  auto queries = decoder_in_(obs_outputs.flatten(0, 1));  // [B*S, Q, dw]
  auto x = torch::cat({queries, (mask_token_ + decoder_pos_).expand({b * s, patches, -1})}, 1);
  for (const auto& block : *decoder_) x = block->as<nn::DiTBlock>()->forward(x, torch::Tensor(), torch::Tensor());
  auto latents = nn::Unpatchify(decoder_out_(decoder_norm_(x.slice(1, q))), grid, config_.patch, c);
  return latents.view({b, s, c, latents.size(2), latents.size(3)});
}

train::LossTerms ModelImpl::LossTerms(const train::Batch& batch, torch::Generator& /*generator: no noise*/) {
  const int64_t b = batch.size(), h = config_.history, chunk = config_.action_chunk;
  // Observed latents [B, H, C, h, w]; the future one of each step [B, H, 1, C, h, w].
  torch::Tensor observed = batch.latents, future = batch.future_latents;
  if (!observed.defined()) {  // no cached latents: encode [..., 3, H, W] frames now
    auto encode = [&](const torch::Tensor& images) {
      auto z = EncodeLatents(images.flatten(0, images.dim() - 4));
      auto shape = images.sizes().vec();
      shape.resize(shape.size() - 3);
      shape.insert(shape.end(), {z.size(1), z.size(2), z.size(3)});
      return z.view(shape);
    };
    observed = encode(batch.images);
    future = encode(batch.future);
  }
  observed = Standardize(observed);
  future = Standardize(future.select(2, 0));
  const auto tokens = ImageTokens(observed.flatten(0, 1));
  const auto out = Forward(tokens.view({b, h, tokens.size(1), tokens.size(2)}), proprio_norm_.Normalize(batch.proprio),
                           Text(batch.instructions), batch.obs_padding, batch.has_actions, true);
  const auto valid = (~batch.obs_padding).to(torch::kFloat);  // [B, H]
  auto mean_over = [](const torch::Tensor& per_step, const torch::Tensor& weight) {
    return (per_step * weight).sum() / weight.sum().clamp_min(1.0);
  };
  const auto frame_loss = mean_over((out.future - future).pow(2).mean({2, 3, 4}), valid);
  // Step s's chunk: actions s .. s + chunk - 1 of the spec's 1-H .. chunk-1 offsets.
  const auto windows = batch.actions.unfold(1, chunk, 1).permute({0, 1, 3, 2});  // [B, H, chunk, 4]
  const auto arm_target = action_norm_.Normalize(windows).slice(3, 0, 3);
  const auto gripper_target = (windows.select(3, 3) > 0).to(torch::kFloat);
  const auto robot_steps = valid * batch.has_actions.to(torch::kFloat).view({b, 1});
  const auto arm_loss =
      mean_over(torch::smooth_l1_loss(out.arm, arm_target, at::Reduction::None).mean({2, 3}), robot_steps);
  const auto gripper_loss = mean_over(
      torch::binary_cross_entropy_with_logits(out.gripper, gripper_target, {}, {}, at::Reduction::None).mean(2),
      robot_steps);
  train::LossTerms terms;
  terms.total = config_.frame_loss_weight * frame_loss + config_.arm_loss_weight * arm_loss +
                config_.gripper_loss_weight * gripper_loss;
  terms.parts = {{"frame_mse", frame_loss.detach()}, {"arm_l1", arm_loss.detach()}, {"gripper_bce", gripper_loss.detach()}};
  return terms;
}

Prediction ModelImpl::Predict(const torch::Tensor& image_tokens, const torch::Tensor& proprio,
                              const torch::Tensor& padding, const std::string& instruction) {
  const Prediction p = PredictBatch(image_tokens, proprio, padding, {instruction});
  return {p.actions[0], p.frame[0]};
}

Prediction ModelImpl::PredictBatch(const torch::Tensor& image_tokens, const torch::Tensor& proprio,
                                   const torch::Tensor& padding, const std::vector<std::string>& instructions) {
  const int64_t b = image_tokens.size(0);
  const auto out = Forward(image_tokens, proprio_norm_.Normalize(proprio), Text(instructions), padding,
                           torch::ones({b}, torch::kBool), false);
  auto normalized = torch::cat({out.arm.select(1, 0), torch::zeros({b, config_.action_chunk, 1})}, 2);
  auto actions = action_norm_.Unnormalize(normalized);
  actions.select(2, 3).copy_(torch::where(out.gripper.select(1, 0) > 0, 1.0f, -1.0f));
  const auto latent = out.future.select(1, 0) / config_.latent_scale;
  return {actions, autoencoder_->Decode(latent)};
}

std::vector<torch::Tensor> ModelImpl::ActionHeadParameters() const {
  std::vector<torch::Tensor> params = action_mlp_->parameters();
  for (const auto& p : arm_out_->parameters()) params.push_back(p);
  for (const auto& p : gripper_out_->parameters()) params.push_back(p);
  return params;
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
  spec.obs_offsets = train::Range(1 - config_.history, 1);
  spec.action_offsets = train::Range(1 - config_.history, config_.action_chunk);
  spec.future_offsets = {config_.future_offset};
  spec.future_per_obs = true;
  return spec;
}

Model ModelFromCheckpoint(const nlohmann::json& checkpoint) {
  const CheckpointParts parts = ReadCheckpointParts(checkpoint, kName);
  const Config config = Config::FromJson(parts.config);
  return Model(config, nn::Autoencoder(config.autoencoder_config), parts.proprio, parts.actions, parts.vocabulary);
}

}  // namespace padbench::gr1
