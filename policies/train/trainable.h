// What the shared training loop needs from a learned policy's model. Families usually adapt
// their model with train::ModelTrainable (policies/learned.h) instead of implementing this.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "policies/train/demo_data.h"
#include "policies/train/trainer.h"

namespace padbench::train {

// One batch's training loss: the total the optimiser minimises and, for the training log,
// named parts (unweighted, e.g. PAD's "image_mse" and "action_mse"), the same names every step.
struct LossTerms {
  torch::Tensor total;
  std::vector<std::pair<std::string, torch::Tensor>> parts;
};

class Trainable {
 public:
  virtual ~Trainable() = default;
  virtual torch::nn::Module& module() = 0;
  // The training loss of a batch; `generator` drives noise and augmentation.
  virtual LossTerms Loss(const Batch& batch, torch::Generator& generator) = 0;
  // Everything config.json needs to rebuild the model: policy name, hyper-parameters,
  // normalisation statistics, vocabulary.
  virtual nlohmann::json Checkpoint() const = 0;
  // What one training sample holds (offsets of observations, actions, future frames, goal; cameras).
  virtual DataSpec spec() const = 0;
  // Called before each training step's Loss (step counts from 0, also across --resume).
  virtual void BeginStep(int step) {}
  // Called once on each dataset before training (e.g. to cache latents of a frozen encoder).
  virtual void PrepareData(DemoData& data) {}
};

// A new model of the trainable family `policy` (policies/family.h) with `overrides` applied to
// its default hyper-parameters; normalisers and vocabulary are fitted on `data`. Throws
// padbench::Error listing the trainable families or naming an unknown or mistyped setting.
std::unique_ptr<Trainable> MakeTrainable(const std::string& policy, const nlohmann::json& overrides,
                                         const DemoData& data);
// The model described by a checkpoint's config.json (weights not loaded).
std::unique_ptr<Trainable> TrainableFromCheckpoint(const nlohmann::json& checkpoint);

}  // namespace padbench::train
