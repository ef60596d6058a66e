// Diffusion Policy as a padbench policy family (spec `diffusion_policy=<checkpoint dir>`).
#include <chrono>

#include <fmt/format.h>

#include "policies/diffusion_policy/model.h"
#include "policies/family.h"
#include "policies/learned.h"
#include "policies/nn/io.h"
#include "sim/error.h"
#include "sim/rng.h"

namespace padbench {
namespace {

class DiffusionPolicy final : public Policy {
 public:
  explicit DiffusionPolicy(dp::Model model) : model_(std::move(model)), window_(model_->config().obs_horizon) {
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
  void Reset(const EpisodeInfo& episode) override {
    instruction_ = episode.instruction;
    generator_ = at::detail::createCPUGenerator(Mix64(episode.seed ^ HashName(dp::kName)));
    window_.Clear();
  }
  void Observe(const Observation& obs) override { window_.Push(obs); }
  void SetDenoiseCallback(DenoiseCallback callback) override { callback_ = std::move(callback); }

  PolicyOutput Act(const Observation& obs) override { return std::move(ActBatch({this}, {&obs})[0]); }

  std::vector<PolicyOutput> ActBatch(const std::vector<Policy*>& rows,
                                     const std::vector<const Observation*>& obs) override {
    const auto start = std::chrono::steady_clock::now();
    const std::vector<DiffusionPolicy*> batch = nn::BatchRows<DiffusionPolicy>(rows, dp::kName);
    const dp::Config& c = model_->config();
    c10::InferenceMode inference;  // no autograd bookkeeping at all, not just no gradients
    const size_t n = rows.size();
    std::vector<torch::Tensor> images(n), proprio(n);
    std::vector<std::string> instructions(n);
    std::vector<torch::Generator*> generators(n, nullptr);
    for (size_t i = 0; i < n; ++i) {
      if (DiffusionPolicy* p = batch[i]) {
        p->window_.Ensure(*obs[i]);
        const auto window = p->window_.ToTensors(c.camera, c.image_size, dp::kName);
        images[i] = window.images;
        proprio[i] = window.proprio;
        instructions[i] = p->instruction_;
        generators[i] = &p->generator_;
      }
    }
    nn::FillPaddingRows(batch, instructions);
    auto cond = model_->Condition(nn::StackRows(images), nn::StackRows(proprio), instructions, nullptr);
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
    const auto actions = model_->Sample(cond, generators, on_step);
    std::vector<PolicyOutput> outputs(n);
    for (size_t i = 0; i < n; ++i) {
      // Actions are aligned with the observation window: execute from the current step (To - 1).
      if (batch[i]) outputs[i].actions = nn::ToActions(actions[int64_t(i)], c.obs_horizon - 1, c.action_horizon);
    }
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    const auto end = std::chrono::steady_clock::now();
    for (size_t i = 0; i < n; ++i) {
      if (!batch[i]) continue;
      outputs[i].timings_ms["encode"] = ms(start, encoded);  // the vision encoder on the observed frames
      outputs[i].timings_ms["denoise"] = ms(encoded, end);   // the DDIM steps of the U-Net
      outputs[i].timings_ms["total"] = ms(start, end);
    }
    return outputs;
  }

 private:
  dp::Model model_;
  std::string instruction_;
  at::Generator generator_ = at::detail::createCPUGenerator(0);
  nn::ObservationWindow window_;
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
