// What every learned family shares: loading its checkpoint folder, the adapter that hands its
// model to the training loop, and the vocabulary it is trained with. Internal to policies/
// (pulls in torch): only family folders include it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "policies/checkpoint.h"
#include "policies/nn/autoencoder.h"
#include "policies/nn/layers.h"
#include "policies/train/trainable.h"

namespace padbench {

// What every learned family's config.json holds besides its training facts: the family's name,
// its config, the proprio and action normalisers and the vocabulary.
struct CheckpointParts {
  nlohmann::json config;
  nn::Normalizer proprio, actions;
  nn::Vocabulary vocabulary;
};
nlohmann::json WriteCheckpointParts(std::string_view family, const CheckpointParts& parts);
// Throws padbench::Error naming `family` when a part is missing or malformed.
CheckpointParts ReadCheckpointParts(const nlohmann::json& checkpoint, std::string_view family);

// Reads DIR/config.json (checked to belong to `family`), rebuilds the model with
// `from_checkpoint` and loads DIR/model.pt into it. Errors name the folder and what is wrong.
template <typename Model>
Model LoadCheckpoint(const std::string& dir, std::string_view family,
                     Model (*from_checkpoint)(const nlohmann::json& checkpoint)) {
  Model model = from_checkpoint(ReadCheckpointConfig(dir, std::string(family)));
  nn::LoadParameters(*model, dir + "/model.pt");
  return model;
}

namespace train {

// The vocabulary of `data`'s instructions and of every task's paraphrases, so that any
// evaluation wording is known.
nn::Vocabulary TrainingVocabulary(const DemoData& data);
// Throws padbench::Error when `data`'s images are not `image_size` square.
void CheckImageSize(const DemoData& data, int image_size);
// The latents [1024,C,h,w] of 1024 training frames of the autoencoder's camera, drawn with a fixed
// seed: what latent diffusion models fit their standardisation on.
torch::Tensor SampleLatents(nn::AutoencoderImpl& autoencoder, const DemoData& data);

namespace internal {
template <typename T, typename = void>
struct HasBeginStep : std::false_type {};
template <typename T>
struct HasBeginStep<T, std::void_t<decltype(std::declval<T&>().BeginStep(0))>> : std::true_type {};
template <typename T, typename = void>
struct HasPrepareData : std::false_type {};
template <typename T>
struct HasPrepareData<T, std::void_t<decltype(std::declval<T&>().PrepareData(std::declval<DemoData&>()))>>
    : std::true_type {};
template <typename T, typename = void>
struct HasLossTerms : std::false_type {};
template <typename T>
struct HasLossTerms<T, std::void_t<decltype(std::declval<T&>().LossTerms(std::declval<const Batch&>(),
                                                                            std::declval<torch::Generator&>()))>>
    : std::true_type {};
}  // namespace internal

// A model holder (TORCH_MODULE) as a Trainable. The model provides Loss(batch, generator),
// Checkpoint() and data_spec(); LossTerms(batch, generator) (a loss with its parts),
// BeginStep(step) and PrepareData(data) are used when it has them.
template <typename Model>
class ModelTrainable final : public Trainable {
 public:
  explicit ModelTrainable(Model model) : model_(std::move(model)) {}
  torch::nn::Module& module() override { return *model_; }
  train::LossTerms Loss(const Batch& batch, torch::Generator& generator) override {
    if constexpr (internal::HasLossTerms<typename Model::Impl>::value) {
      return model_->LossTerms(batch, generator);
    } else {
      return {model_->Loss(batch, generator), {}};
    }
  }
  nlohmann::json Checkpoint() const override { return model_->Checkpoint(); }
  DataSpec spec() const override { return model_->data_spec(); }
  void BeginStep(int step) override {
    if constexpr (internal::HasBeginStep<typename Model::Impl>::value) model_->BeginStep(step);
  }
  void PrepareData(DemoData& data) override {
    if constexpr (internal::HasPrepareData<typename Model::Impl>::value) model_->PrepareData(data);
  }

 private:
  Model model_;
};

template <typename Model>
std::unique_ptr<Trainable> MakeModelTrainable(Model model) {
  return std::make_unique<ModelTrainable<Model>>(std::move(model));
}

}  // namespace train
}  // namespace padbench
