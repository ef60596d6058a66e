// The latent autoencoder as a trainable component (`padbench train --policy autoencoder`): the
// family table lists it so that train finds it, but it is no policy (no inference factory).
#include "policies/family.h"
#include "policies/learned.h"
#include "policies/nn/autoencoder.h"

namespace padbench {
namespace {

class AutoencoderTrainable final : public train::Trainable {
 public:
  explicit AutoencoderTrainable(nn::Autoencoder model) : model_(std::move(model)) {}
  torch::nn::Module& module() override { return *model_; }
  train::LossTerms Loss(const train::Batch& batch, torch::Generator&) override {
    return {model_->Loss(batch.images.select(1, -1)), {}};
  }
  nlohmann::json Checkpoint() const override {
    return {{"policy", nn::kAutoencoderName}, {"config", model_->config().ToJson()}};
  }
  train::DataSpec spec() const override { return train::DataSpec::CurrentFrame(model_->config().camera); }

 private:
  nn::Autoencoder model_;
};

}  // namespace

Family AutoencoderFamily() {
  FamilyTrainer trainer;
  trainer.make = [](const nlohmann::json& overrides, const train::DemoData& data) -> std::unique_ptr<train::Trainable> {
    const auto config = nn::AutoencoderConfig::FromJson(overrides);
    train::CheckImageSize(data, config.image_size);
    return std::make_unique<AutoencoderTrainable>(nn::Autoencoder(config));
  };
  trainer.from_checkpoint = [](const nlohmann::json& checkpoint) -> std::unique_ptr<train::Trainable> {
    return std::make_unique<AutoencoderTrainable>(
        nn::Autoencoder(nn::AutoencoderConfig::FromJson(checkpoint.at("config"))));
  };
  trainer.tiny_config = R"({"channels": [4, 8, 8]})";
  Family f;
  f.name = nn::kAutoencoderName;
  f.help = "the latent autoencoder (64x64x3 <-> 8x8x4) that image-predicting policies build on; trains only";
  f.takes_path = true;
  f.trainer = std::move(trainer);
  return f;
}

}  // namespace padbench
