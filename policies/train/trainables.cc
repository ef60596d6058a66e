// The list of trainable models (one entry per learned policy, plus the shared autoencoder).
#include <functional>

#include <fmt/format.h>

#include "policies/diffusion_policy/model.h"
#include "policies/nn/autoencoder.h"
#include "policies/pad/model.h"
#include "policies/train/trainable.h"
#include "sim/assets.h"
#include "sim/error.h"
#include "tasks/registry.h"

namespace padbench::train {
namespace {

void CheckImageSize(const DemoData& data, int image_size) {
  if (image_size != data.image_size()) {
    throw Error(fmt::format("the data has {}x{} images, the config wants {}", data.image_size(), data.image_size(),
                            image_size));
  }
}

// The vocabulary covers the data and every task's instructions, so evaluation wording is known.
nn::Vocabulary BuildVocabulary(const DemoData& data) {
  std::vector<std::string> sentences = data.Instructions();
  for (const auto& task : AllTasks())
    for (const auto& s : task->info().instructions) sentences.push_back(s);
  return nn::Vocabulary::Build(sentences);
}

class AutoencoderTrainable final : public Trainable {
 public:
  explicit AutoencoderTrainable(nn::Autoencoder model) : model_(std::move(model)) {}
  torch::nn::Module& module() override { return *model_; }
  torch::Tensor Loss(const Batch& batch, torch::Generator&) override { return model_->Loss(batch.images.select(1, -1)); }
  nlohmann::json Checkpoint() const override {
    return {{"policy", "autoencoder"}, {"config", model_->config().ToJson()}};
  }
  Window window() const override { return {}; }
  std::string camera() const override { return model_->config().camera; }

 private:
  nn::Autoencoder model_;
};

class DiffusionPolicyTrainable final : public Trainable {
 public:
  explicit DiffusionPolicyTrainable(dp::Model model) : model_(std::move(model)) {}
  torch::nn::Module& module() override { return *model_; }
  torch::Tensor Loss(const Batch& batch, torch::Generator& generator) override { return model_->Loss(batch, generator); }
  nlohmann::json Checkpoint() const override { return model_->Checkpoint(); }
  Window window() const override { return {model_->config().obs_horizon, model_->config().pred_horizon}; }
  std::string camera() const override { return model_->config().camera; }

 private:
  dp::Model model_;
};

class PadTrainable final : public Trainable {
 public:
  explicit PadTrainable(pad::Model model) : model_(std::move(model)) {}
  torch::nn::Module& module() override { return *model_; }
  torch::Tensor Loss(const Batch& batch, torch::Generator& generator) override { return model_->Loss(batch, generator); }
  nlohmann::json Checkpoint() const override { return model_->Checkpoint(); }
  Window window() const override {
    const pad::Config& c = model_->config();
    return {1, c.pred_horizon, c.future_frames, c.frame_interval};
  }
  std::string camera() const override { return model_->config().autoencoder_config.camera; }
  void BeginStep(int step) override { model_->set_train_step(step); }
  // The autoencoder is frozen: encode every frame once instead of every step.
  void PrepareData(DemoData& data) override {
    data.CacheLatents([this](const torch::Tensor& images) { return model_->EncodeLatents(images); });
  }

 private:
  pad::Model model_;
};

struct Entry {
  const char* name;
  std::function<std::unique_ptr<Trainable>(const nlohmann::json& overrides, const DemoData& data)> make;
  std::function<std::unique_ptr<Trainable>(const nlohmann::json& checkpoint)> from_checkpoint;
};

const std::vector<Entry>& Entries() {
  static const std::vector<Entry> entries = {
      {"autoencoder",
       [](const nlohmann::json& overrides, const DemoData& data) -> std::unique_ptr<Trainable> {
         const auto config = nn::AutoencoderConfig::FromJson(overrides);
         CheckImageSize(data, config.image_size);
         return std::make_unique<AutoencoderTrainable>(nn::Autoencoder(config));
       },
       [](const nlohmann::json& checkpoint) -> std::unique_ptr<Trainable> {
         return std::make_unique<AutoencoderTrainable>(
             nn::Autoencoder(nn::AutoencoderConfig::FromJson(checkpoint.at("config"))));
       }},
      {"diffusion_policy",
       [](const nlohmann::json& overrides, const DemoData& data) -> std::unique_ptr<Trainable> {
         const dp::Config config = dp::Config::FromJson(overrides);
         CheckImageSize(data, config.image_size);
         return std::make_unique<DiffusionPolicyTrainable>(dp::Model(config, nn::Normalizer::Fit(data.AllProprio()),
                                                                     nn::Normalizer::Fit(data.AllActions()),
                                                                     BuildVocabulary(data)));
       },
       [](const nlohmann::json& checkpoint) -> std::unique_ptr<Trainable> {
         return std::make_unique<DiffusionPolicyTrainable>(dp::ModelFromCheckpoint(checkpoint));
       }},
      {"pad",
       [](const nlohmann::json& overrides, const DemoData& data) -> std::unique_ptr<Trainable> {
         pad::Config config = pad::Config::FromJson(overrides);
         if (config.autoencoder.empty()) config.autoencoder = AssetDir() + "/checkpoints/autoencoder";
         nn::Autoencoder autoencoder = nn::LoadAutoencoder(config.autoencoder);
         config.autoencoder_config = autoencoder->config();
         CheckImageSize(data, config.autoencoder_config.image_size);
         // Latent scale: 1 / std of the latents of 1024 training frames (fixed by the data seed).
         Rng rng(0x1A7E57);
         const Batch sample = data.Sample(1024, Window{}, false, rng);
         torch::NoGradGuard no_grad;
         config.latent_scale = 1.0 / autoencoder->Encode(sample.images.select(1, -1)).std().item<double>();
         return std::make_unique<PadTrainable>(pad::Model(config, std::move(autoencoder),
                                                          nn::Normalizer::Fit(data.AllProprio()),
                                                          nn::Normalizer::Fit(data.AllActions()), BuildVocabulary(data)));
       },
       [](const nlohmann::json& checkpoint) -> std::unique_ptr<Trainable> {
         return std::make_unique<PadTrainable>(pad::ModelFromCheckpoint(checkpoint));
       }},
  };
  return entries;
}

const Entry& Find(const std::string& policy, const char* what) {
  for (const Entry& e : Entries())
    if (policy == e.name) return e;
  throw Error(fmt::format("cannot {} '{}'; trainable: {}", what, policy, TrainableNames()));
}

}  // namespace

std::string TrainableNames() {
  std::string names;
  for (const Entry& e : Entries()) names += fmt::format("{}{}", names.empty() ? "" : ", ", e.name);
  return names;
}

std::unique_ptr<Trainable> MakeTrainable(const std::string& policy, const nlohmann::json& overrides,
                                         const DemoData& data) {
  return Find(policy, "train policy").make(overrides, data);
}

std::unique_ptr<Trainable> TrainableFromCheckpoint(const nlohmann::json& checkpoint) {
  const Entry& entry = Find(checkpoint.value("policy", ""), "resume training of policy");
  try {
    return entry.from_checkpoint(checkpoint);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{} checkpoint: malformed config.json ({})", entry.name, e.what()));
  }
}

}  // namespace padbench::train
