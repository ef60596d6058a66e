// PAD as a padbench policy family (spec `pad=<checkpoint dir>`).
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "policies/family.h"
#include "policies/learned.h"
#include "policies/nn/io.h"
#include "policies/pad/bench.h"
#include "policies/pad/model.h"
#include "sim/assets.h"
#include "sim/error.h"

namespace padbench {
namespace {

class PadPolicy final : public Policy {
 public:
  explicit PadPolicy(pad::Model model) : model_(std::move(model)), episode_(model_->config().obs_horizon) {
    model_->eval();
  }

  std::string_view Name() const override { return pad::kName; }
  PolicyInputs Inputs() const override {
    PolicyInputs in;
    in.cameras = {camera()};
    in.image_size = model_->config().autoencoder_config.image_size;
    return in;
  }
  void Reset(const EpisodeInfo& episode) override { episode_.Reset(episode, pad::kName); }
  void Observe(const Observation& obs) override { episode_.window.Push(obs); }
  void SetDenoiseCallback(DenoiseCallback callback) override { callback_ = std::move(callback); }

  PolicyOutput Act(const Observation& obs) override { return std::move(ActBatch({this}, {&obs})[0]); }

  std::vector<PolicyOutput> ActBatch(const std::vector<Policy*>& rows,
                                     const std::vector<const Observation*>& obs) override {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const std::vector<PadPolicy*> batch = nn::BatchRows<PadPolicy>(rows, pad::kName);
    const pad::Config& c = model_->config();
    c10::InferenceMode inference;  // no autograd bookkeeping at all, not just no gradients
    const size_t n = rows.size();
    std::vector<nn::WindowEpisode*> episodes(n, nullptr);
    for (size_t i = 0; i < n; ++i)
      if (batch[i]) episodes[i] = &batch[i]->episode_;
    const nn::WindowBatch in = nn::StackWindows(episodes, obs, camera(), c.autoencoder_config.image_size, pad::kName);
    std::function<void(int, const pad::Sampled&)> on_step;
    if (n == 1 && batch[0]->callback_) {
      on_step = [&](int step, const pad::Sampled& x0) {
        DenoiseSample sample;
        sample.step = step;
        sample.total_steps = c.ddim_steps;
        sample.actions = nn::ToActions(x0.actions[0], 0, c.pred_horizon, model_->action_kind());
        sample.frames = ToFrames(x0.frames, 0);
        batch[0]->callback_(sample);
      };
    }
    const pad::Sampled sampled = model_->Sample(in.images, in.proprio, in.instructions, in.generators, on_step);
    const double total_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    std::vector<PolicyOutput> outputs(n);
    for (size_t i = 0; i < n; ++i) {
      if (!batch[i]) continue;
      PolicyOutput& out = outputs[i];
      out.actions = nn::ToActions(sampled.actions[int64_t(i)], 0, c.action_horizon, model_->action_kind());
      out.kind = model_->action_kind();
      out.predicted = ToFrames(sampled.frames, int64_t(i));
      out.timings_ms = {{"encode", sampled.encode_ms},
                        {"denoise", sampled.denoise_ms},  // the DDIM steps
                        {"decode", sampled.decode_ms},    // the predicted frames
                        {"total", total_ms}};
    }
    return outputs;
  }

 private:
  std::string camera() const { return model_->config().autoencoder_config.camera; }

  // Row `row` of frames [B,K,3,H,W] in [-1, 1] -> predicted frames at horizons interval, 2 interval, ...
  std::vector<PredictedFrame> ToFrames(const torch::Tensor& frames, int64_t row) const {
    if (!frames.defined()) return {};
    std::vector<int> horizons;
    for (int64_t k = 1; k <= frames.size(1); ++k) horizons.push_back(int(k) * model_->config().frame_interval);
    return nn::ToPredictedFrames(nn::ToUint8Hwc(frames[row]), horizons);
  }

  pad::Model model_;
  nn::WindowEpisode episode_;
  DenoiseCallback callback_;
};

}  // namespace

Family PadFamily() {
  FamilyTrainer trainer;
  trainer.make = [](const nlohmann::json& overrides, const train::DemoData& data) {
    pad::Config config = pad::Config::FromJson(overrides);
    if (config.autoencoder.empty()) config.autoencoder = AssetDir() + "/checkpoints/autoencoder";
    nn::Autoencoder autoencoder = nn::LoadAutoencoder(config.autoencoder);
    config.autoencoder_config = autoencoder->config();
    train::CheckImageSize(data, config.autoencoder_config.image_size);
    // Latent scale: 1 / std of the latents of 1024 training frames.
    const auto z = train::SampleLatents(*autoencoder, data);
    config.latent_scale = 1.0 / z.std().item<double>();
    if (config.latent_norm == "per_channel") {
      const auto mean = z.mean({0, 2, 3}).to(torch::kDouble), std = z.std({0, 2, 3}).to(torch::kDouble);
      config.latent_mean.assign(mean.data_ptr<double>(), mean.data_ptr<double>() + mean.numel());
      config.latent_std.assign(std.data_ptr<double>(), std.data_ptr<double>() + std.numel());
    }
    const bool waypoints = nn::ParseActionKind(config.actions, pad::kName) == ActionKind::kWaypoint;
    return train::MakeModelTrainable(pad::Model(config, std::move(autoencoder), nn::Normalizer::Fit(data.AllProprio()),
                                                nn::Normalizer::Fit(data.AllActions(waypoints)),
                                                train::TrainingVocabulary(data)));
  };
  trainer.from_checkpoint = [](const nlohmann::json& checkpoint) {
    return train::MakeModelTrainable(pad::ModelFromCheckpoint(checkpoint));
  };
  trainer.tiny_config = R"({"width": 32, "depth": 1, "heads": 2, "pred_horizon": 8, "action_horizon": 4,
                            "future_frames": 2, "frame_interval": 2, "ddim_steps": 2, "text_dim": 8})";
  Family f;
  f.name = pad::kName;
  f.help = "PAD: a Diffusion Transformer denoising future frames and actions jointly, from a checkpoint folder";
  f.takes_path = true;
  f.make = [](const std::string& dir) {
    return std::make_unique<PadPolicy>(LoadCheckpoint(dir, pad::kName, pad::ModelFromCheckpoint));
  };
  f.trainer = std::move(trainer);
  f.benchmark = DenoiserReport;
  return f;
}

}  // namespace padbench
