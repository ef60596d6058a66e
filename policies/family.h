// Policy families: the one table that everything listing policies reads (eval and train specs,
// perf defaults, the viewer's checkpoint list, the every-family test).
//
// A family lives in one folder and describes itself in one `Family` value; policies/registry.cc
// lists it once. Learned families add a trainer (policies/learned.h has the shared pieces).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "policies/policy.h"

namespace padbench {
namespace train {
class Trainable;
class DemoData;
}  // namespace train

// How `padbench train` builds a learned family's model (policies/train/trainable.h).
struct FamilyTrainer {
  // A new model with `overrides` over the family's default hyper-parameters, its normalisers
  // (and vocabulary) fitted on `data`. Throws padbench::Error naming a bad setting.
  std::function<std::unique_ptr<train::Trainable>(const nlohmann::json& overrides, const train::DemoData& data)>
      make;
  // The model a checkpoint's config.json describes (weights not loaded).
  std::function<std::unique_ptr<train::Trainable>(const nlohmann::json& checkpoint)> from_checkpoint;
  // Hyper-parameter overrides (JSON text) for a model that trains in seconds: the every-family
  // test trains one, the rest of the suite never sees it.
  std::string_view tiny_config = "{}";
};

struct Family {
  std::string_view name;  // the spec's name and config.json's "policy"
  std::string_view help;  // one line, for --help and errors
  bool takes_path = false;  // spec `name=PATH` (a checkpoint folder, or a file)
  // An inference instance; empty for a component that only trains (the latent autoencoder).
  std::function<std::unique_ptr<Policy>(const std::string& path)> make;
  std::optional<FamilyTrainer> trainer;  // learned families
  // A mode of another family that loads that family's checkpoints (the image-goal oracle): the
  // every-family test trains one of those for it, and perf's defaults skip it.
  std::string_view checkpoint_of;
  // Families that load a file but do not train: a fixture (relative to the source tree) that
  // the every-family test loads.
  std::string_view test_file;
  // Optional figures of the family's own for `padbench perf --policies` (a Markdown table), given
  // the spec's path.
  std::function<std::string(const std::string& path)> benchmark;

  bool is_policy() const { return bool(make); }
};

// Every family, in the order --help lists them.
const std::vector<Family>& Families();
// The family called `name`; throws padbench::Error listing the known ones. `what` says which
// families qualify: "policy" (those with an inference factory) or "trainable" (a trainer).
const Family& FindFamily(std::string_view name, std::string_view what = "policy");
// The names of the qualifying families, comma-separated, for help texts.
std::string FamilyNames(std::string_view what = "policy");

}  // namespace padbench
