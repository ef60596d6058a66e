// What the shared training loop needs from a learned policy's model.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "policies/train/demo_data.h"

namespace padbench::train {

class Trainable {
 public:
  virtual ~Trainable() = default;
  virtual torch::nn::Module& module() = 0;
  // The training loss of a batch (scalar); `generator` drives noise and augmentation.
  virtual torch::Tensor Loss(const Batch& batch, torch::Generator& generator) = 0;
  // Everything config.json needs to rebuild the model: policy name, hyper-parameters,
  // normalisation statistics, vocabulary.
  virtual nlohmann::json Checkpoint() const = 0;
  virtual int obs_horizon() const = 0;
  virtual int pred_horizon() const = 0;
  virtual std::string camera() const = 0;
};

// A new model of `policy` ("diffusion_policy") with `overrides` applied to its default
// hyper-parameters; normalisers and vocabulary are fitted on `data`. Throws padbench::Error
// listing the trainable policies or naming an unknown or mistyped setting.
std::unique_ptr<Trainable> MakeTrainable(const std::string& policy, const nlohmann::json& overrides,
                                         const DemoData& data);
// The model described by a checkpoint's config.json (weights not loaded).
std::unique_ptr<Trainable> TrainableFromCheckpoint(const nlohmann::json& checkpoint);

}  // namespace padbench::train
