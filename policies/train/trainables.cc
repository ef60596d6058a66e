// The list of trainable policies (one entry per learned policy).
#include <fmt/format.h>

#include "policies/diffusion_policy/model.h"
#include "policies/train/trainable.h"
#include "sim/error.h"
#include "tasks/registry.h"

namespace padbench::train {
namespace {

class DiffusionPolicyTrainable final : public Trainable {
 public:
  explicit DiffusionPolicyTrainable(dp::Model model) : model_(std::move(model)) {}
  torch::nn::Module& module() override { return *model_; }
  torch::Tensor Loss(const Batch& batch, torch::Generator& generator) override { return model_->Loss(batch, generator); }
  nlohmann::json Checkpoint() const override { return model_->Checkpoint(); }
  int obs_horizon() const override { return model_->config().obs_horizon; }
  int pred_horizon() const override { return model_->config().pred_horizon; }
  std::string camera() const override { return model_->config().camera; }

 private:
  dp::Model model_;
};

}  // namespace

std::unique_ptr<Trainable> MakeTrainable(const std::string& policy, const nlohmann::json& overrides,
                                         const DemoData& data) {
  if (policy != "diffusion_policy") {
    throw Error(fmt::format("cannot train policy '{}'; trainable: diffusion_policy", policy));
  }
  const dp::Config config = dp::Config::FromJson(overrides);
  if (config.image_size != data.image_size()) {
    throw Error(fmt::format("the data has {}x{} images, the config wants {}", data.image_size(), data.image_size(),
                            config.image_size));
  }
  // The vocabulary covers the data and every task's instructions, so evaluation wording is known.
  std::vector<std::string> sentences = data.Instructions();
  for (const auto& task : AllTasks())
    for (const auto& s : task->info().instructions) sentences.push_back(s);
  return std::make_unique<DiffusionPolicyTrainable>(dp::Model(config, nn::Normalizer::Fit(data.AllProprio()),
                                                              nn::Normalizer::Fit(data.AllActions()),
                                                              nn::Vocabulary::Build(sentences)));
}

std::unique_ptr<Trainable> TrainableFromCheckpoint(const nlohmann::json& checkpoint) {
  const std::string policy = checkpoint.value("policy", "");
  if (policy != "diffusion_policy") {
    throw Error(fmt::format("cannot resume training of policy '{}'; trainable: diffusion_policy", policy));
  }
  return std::make_unique<DiffusionPolicyTrainable>(dp::ModelFromCheckpoint(checkpoint));
}

}  // namespace padbench::train
