// Trainables come from the family table; the shared pieces of learned families (policies/learned.h).
#include "policies/train/trainable.h"

#include <fmt/format.h>

#include "policies/family.h"
#include "policies/learned.h"
#include "sim/error.h"
#include "tasks/registry.h"

namespace padbench {

nlohmann::json WriteCheckpointParts(std::string_view family, const CheckpointParts& parts) {
  return {{"policy", family},
          {"config", parts.config},
          {"normalizers", {{"proprio", parts.proprio.ToJson()}, {"actions", parts.actions.ToJson()}}},
          {"vocabulary", parts.vocabulary.ToJson()}};
}

CheckpointParts ReadCheckpointParts(const nlohmann::json& checkpoint, std::string_view family) {
  try {
    const auto& norms = checkpoint.at("normalizers");
    return {checkpoint.at("config"), nn::Normalizer::FromJson(norms.at("proprio")),
            nn::Normalizer::FromJson(norms.at("actions")), nn::Vocabulary::FromJson(checkpoint.at("vocabulary"))};
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{} checkpoint: malformed config.json ({})", family, e.what()));
  }
}

}  // namespace padbench

namespace padbench::train {

std::string TrainableNames() { return FamilyNames("trainable"); }

std::unique_ptr<Trainable> MakeTrainable(const std::string& policy, const nlohmann::json& overrides,
                                         const DemoData& data) {
  return FindFamily(policy, "trainable").trainer->make(overrides, data);
}

std::unique_ptr<Trainable> TrainableFromCheckpoint(const nlohmann::json& checkpoint) {
  const Family& family = FindFamily(checkpoint.value("policy", ""), "trainable");
  try {
    return family.trainer->from_checkpoint(checkpoint);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{} checkpoint: malformed config.json ({})", family.name, e.what()));
  }
}

nn::Vocabulary TrainingVocabulary(const DemoData& data) {
  std::vector<std::string> sentences = data.Instructions();
  for (const auto& task : AllTasks())
    for (const auto& s : task->info().instructions) sentences.push_back(s);
  return nn::Vocabulary::Build(sentences);
}

void CheckImageSize(const DemoData& data, int image_size) {
  if (image_size != data.image_size()) {
    throw Error(fmt::format("the data has {}x{} images, the config wants {}", data.image_size(), data.image_size(),
                            image_size));
  }
}

torch::Tensor SampleLatents(nn::AutoencoderImpl& autoencoder, const DemoData& data) {
  Rng rng(0x1A7E57);
  const Batch sample = data.Sample(1024, DataSpec::CurrentFrame(autoencoder.config().camera), false, rng);
  torch::NoGradGuard no_grad;
  return autoencoder.Encode(sample.images.select(1, -1));
}

}  // namespace padbench::train
