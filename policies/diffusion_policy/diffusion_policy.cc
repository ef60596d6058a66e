// Diffusion Policy as a padbench policy family (spec `diffusion_policy=<checkpoint dir>`).
#include <chrono>

#include <fmt/format.h>

#include "policies/diffusion_policy/model.h"
#include "policies/family.h"
#include "policies/learned.h"
#include "policies/nn/io.h"
#include "sim/error.h"

namespace padbench {
namespace {

class DiffusionPolicy final : public Policy {
 public:
  explicit DiffusionPolicy(dp::Model model) : model_(std::move(model)), episode_(model_->config().obs_horizon) {
    if (model_->config().goal_horizon > 0) {
      throw Error("this diffusion_policy checkpoint is goal-conditioned: it acts towards goal images, as the "
                  "low level of an image_goal checkpoint");
    }
    model_->eval();
  }

  std::string_view Name() const override { return dp::kName; }
  PolicyInputs Inputs() const override {
    PolicyInputs in;
    in.cameras = {model_->config().camera};
    in.image_size = model_->config().image_size;
    return in;
  }
  void Reset(const EpisodeInfo& episode) override { episode_.Reset(episode, dp::kName); }
  void Observe(const Observation& obs) override { episode_.window.Push(obs); }
  void SetDenoiseCallback(DenoiseCallback callback) override { callback_ = std::move(callback); }

  PolicyOutput Act(const Observation& obs) override { return std::move(ActBatch({this}, {&obs})[0]); }

  std::vector<PolicyOutput> ActBatch(const std::vector<Policy*>& rows,
                                     const std::vector<const Observation*>& obs) override {
    const auto start = std::chrono::steady_clock::now();
    const std::vector<DiffusionPolicy*> batch = nn::BatchRows<DiffusionPolicy>(rows, dp::kName);
    const dp::Config& c = model_->config();
    c10::InferenceMode inference;  // no autograd bookkeeping at all, not just no gradients
    const size_t n = rows.size();
    std::vector<nn::WindowEpisode*> episodes(n, nullptr);
    for (size_t i = 0; i < n; ++i)
      if (batch[i]) episodes[i] = &batch[i]->episode_;
    const nn::WindowBatch in = nn::StackWindows(episodes, obs, c.camera, c.image_size, dp::kName);
    auto cond = model_->Condition(in.images, in.proprio, in.instructions, nullptr);
    const auto encoded = std::chrono::steady_clock::now();
    std::function<void(int, const torch::Tensor&)> on_step;
    if (n == 1 && batch[0]->callback_) {
      on_step = [&](int step, const torch::Tensor& x0) {
        DenoiseSample sample;
        sample.step = step;
        sample.total_steps = c.ddim_steps;
        sample.actions = nn::ToActions(x0[0], 0, c.pred_horizon);
        batch[0]->callback_(sample);
      };
    }
    const auto actions = model_->Sample(cond, in.generators, on_step);
    const auto end = std::chrono::steady_clock::now();
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    std::vector<PolicyOutput> outputs(n);
    for (size_t i = 0; i < n; ++i) {
      if (!batch[i]) continue;
      // Actions are aligned with the observation window: execute from the current step (To - 1).
      outputs[i].actions = nn::ToActions(actions[int64_t(i)], c.obs_horizon - 1, c.action_horizon);
      outputs[i].timings_ms = {{"encode", ms(start, encoded)},  // the vision encoder on the observed frames
                               {"denoise", ms(encoded, end)},   // the DDIM steps of the U-Net
                               {"total", ms(start, end)}};
    }
    return outputs;
  }

 private:
  dp::Model model_;
  nn::WindowEpisode episode_;
  DenoiseCallback callback_;
};

}  // namespace

Family DiffusionPolicyFamily() {
  FamilyTrainer trainer;
  trainer.make = [](const nlohmann::json& overrides, const train::DemoData& data) {
    const dp::Config config = dp::Config::FromJson(overrides);
    train::CheckImageSize(data, config.image_size);
    return train::MakeModelTrainable(dp::Model(config, nn::Normalizer::Fit(data.AllProprio()),
                                               nn::Normalizer::Fit(data.AllActions()),
                                               train::TrainingVocabulary(data)));
  };
  trainer.from_checkpoint = [](const nlohmann::json& checkpoint) {
    return train::MakeModelTrainable(dp::ModelFromCheckpoint(checkpoint));
  };
  trainer.tiny_config = R"({"vision_channels": [8, 16], "vision_keypoints": 8, "vision_dim": 16,
                            "down_dims": [16, 32], "text_dim": 8, "ddim_steps": 2})";
  Family f;
  f.name = dp::kName;
  f.help = "Diffusion Policy (CNN U-Net) from a checkpoint folder";
  f.takes_path = true;
  f.make = [](const std::string& dir) {
    return std::make_unique<DiffusionPolicy>(LoadCheckpoint(dir, dp::kName, dp::ModelFromCheckpoint));
  };
  f.trainer = std::move(trainer);
  return f;
}

}  // namespace padbench
