#include "policies/registry.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "policies/checkpoint.h"
#include "policies/family.h"
#include "sim/assets.h"
#include "sim/error.h"

namespace padbench {

// ---- the one list of policy families: each folder defines its Family, listed here once ----
Family AutoencoderFamily();      // policies/nn/autoencoder_family.cc (trains only)
Family ExpertFamily();           // policies/builtin.cc
Family RandomFamily();           // policies/builtin.cc
Family DiffusionPolicyFamily();  // policies/diffusion_policy/
Family PadFamily();              // policies/pad/
Family ImageGoalFamily();        // policies/image_goal/
Family ImageGoalOracleFamily();  // policies/image_goal/ (diagnosis mode)
Family Gr1Family();              // policies/gr1/
Family TorchScriptFamily();      // policies/torchscript/

const std::vector<Family>& Families() {
  static const std::vector<Family> families = {
      AutoencoderFamily(), ExpertFamily(),          RandomFamily(), DiffusionPolicyFamily(), PadFamily(),
      ImageGoalFamily(),   ImageGoalOracleFamily(), Gr1Family(),    TorchScriptFamily()};
  return families;
}

namespace {

bool Qualifies(const Family& f, std::string_view what) {
  return what == "trainable" ? f.trainer.has_value() : f.is_policy();
}

}  // namespace

std::string FamilyNames(std::string_view what) {
  std::string names;
  for (const Family& f : Families()) {
    if (!Qualifies(f, what)) continue;
    names += fmt::format("{}{}{}", names.empty() ? "" : ", ", f.name, what == "policy" && f.takes_path ? "=PATH" : "");
  }
  return names;
}

const Family& FindFamily(std::string_view name, std::string_view what) {
  for (const Family& f : Families()) {
    if (f.name == name && Qualifies(f, what)) return f;
  }
  throw Error(fmt::format("unknown {} '{}'; valid: {}", what, name, FamilyNames(what)));
}

PolicySpec ParsePolicySpec(const std::string& spec) {
  const size_t eq = spec.find('=');
  PolicySpec parsed{spec.substr(0, eq), eq == std::string::npos ? "" : spec.substr(eq + 1)};
  const Family& f = FindFamily(parsed.name);
  if (f.takes_path && parsed.path.empty()) throw Error(fmt::format("policy '{}' needs a path: {}=PATH", f.name, f.name));
  if (!f.takes_path && !parsed.path.empty()) throw Error(fmt::format("policy '{}' takes no path", f.name));
  return parsed;
}

std::unique_ptr<Policy> MakePolicy(const std::string& spec) {
  const PolicySpec parsed = ParsePolicySpec(spec);
  return FindFamily(parsed.name).make(parsed.path);
}

std::vector<std::pair<std::string, std::string>> PolicyNames() {
  std::vector<std::pair<std::string, std::string>> names;
  for (const Family& f : Families()) {
    if (f.is_policy()) names.emplace_back(fmt::format("{}{}", f.name, f.takes_path ? "=PATH" : ""), std::string(f.help));
  }
  return names;
}

std::vector<std::string> ShippedPolicySpecs(const std::string& dir) {
  const std::string root = dir.empty() ? AssetDir() + "/checkpoints" : dir;
  std::vector<std::string> specs;
  if (!std::filesystem::is_directory(root)) return specs;
  std::vector<std::filesystem::path> folders;
  for (const auto& entry : std::filesystem::directory_iterator(root)) {
    if (entry.is_directory() && std::filesystem::exists(entry.path() / "config.json")) folders.push_back(entry.path());
  }
  std::sort(folders.begin(), folders.end());
  // In the table's order, then by folder name.
  for (const Family& f : Families()) {
    if (!f.is_policy() || !f.takes_path) continue;
    for (const auto& folder : folders) {
      if (ReadCheckpointJson(folder.string()).value("policy", "") == f.name) {
        specs.push_back(fmt::format("{}={}", f.name, folder.string()));
      }
    }
  }
  return specs;
}

}  // namespace padbench
