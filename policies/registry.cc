#include "policies/registry.h"

#include <functional>

#include <fmt/format.h>

#include "policies/builtin.h"
#include "policies/diffusion_policy/diffusion_policy.h"
#include "policies/pad/pad_policy.h"
#include "policies/torchscript/torchscript_policy.h"
#include "sim/error.h"

namespace padbench {
namespace {

struct Entry {
  const char* name;
  const char* help;
  bool needs_path;
  std::function<std::unique_ptr<Policy>(const std::string& path)> make;
};

// The one list of policies.
const std::vector<Entry>& Entries() {
  static const std::vector<Entry> entries = {
      {"expert", "the task's scripted expert (privileged state)", false,
       [](const std::string&) { return MakeExpertPolicy(); }},
      {"random", "uniform random actions", false, [](const std::string&) { return MakeRandomPolicy(); }},
      {"diffusion_policy", "Diffusion Policy (CNN U-Net) from a checkpoint folder", true,
       [](const std::string& path) { return MakeDiffusionPolicy(path); }},
      {"pad", "PAD: a Diffusion Transformer denoising future frames and actions jointly, from a checkpoint folder",
       true, [](const std::string& path) { return MakePadPolicy(path); }},
      {"torchscript", "a TorchScript module exported from PyTorch (policies/torchscript/README.md)", true,
       [](const std::string& path) { return MakeTorchScriptPolicy(path); }},
  };
  return entries;
}

std::string KnownNames() {
  std::string names;
  for (const Entry& e : Entries()) names += fmt::format("{}{}{}", names.empty() ? "" : ", ", e.name, e.needs_path ? "=PATH" : "");
  return names;
}

const Entry& Find(const PolicySpec& spec) {
  for (const Entry& e : Entries()) {
    if (spec.name != e.name) continue;
    if (e.needs_path && spec.path.empty()) throw Error(fmt::format("policy '{}' needs a path: {}=PATH", e.name, e.name));
    if (!e.needs_path && !spec.path.empty()) throw Error(fmt::format("policy '{}' takes no path", e.name));
    return e;
  }
  throw Error(fmt::format("unknown policy '{}'; valid: {}", spec.name, KnownNames()));
}

}  // namespace

PolicySpec ParsePolicySpec(const std::string& spec) {
  const size_t eq = spec.find('=');
  PolicySpec parsed{spec.substr(0, eq), eq == std::string::npos ? "" : spec.substr(eq + 1)};
  Find(parsed);
  return parsed;
}

std::unique_ptr<Policy> MakePolicy(const std::string& spec) {
  const PolicySpec parsed = ParsePolicySpec(spec);
  return Find(parsed).make(parsed.path);
}

std::vector<std::pair<std::string, std::string>> PolicyNames() {
  std::vector<std::pair<std::string, std::string>> names;
  for (const Entry& e : Entries()) names.emplace_back(std::string(e.name) + (e.needs_path ? "=PATH" : ""), e.help);
  return names;
}

}  // namespace padbench
