#include "policies/checkpoint.h"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "sim/error.h"

namespace padbench {

nlohmann::json ReadCheckpointConfig(const std::string& dir, const std::string& policy) {
  if (!std::filesystem::is_directory(dir)) throw Error(fmt::format("checkpoint folder '{}' does not exist", dir));
  const std::string path = dir + "/config.json";
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("checkpoint '{}' has no config.json", dir));
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{} is not valid JSON: {}", path, e.what()));
  }
  const std::string found = config.value("policy", "");
  if (found != policy) {
    throw Error(fmt::format("checkpoint '{}' is a '{}' checkpoint, not '{}'", dir, found.empty() ? "unknown" : found,
                            policy));
  }
  return config;
}

ConfigReader::ConfigReader(std::string what, const nlohmann::json& config, const nlohmann::json& defaults)
    : what_(std::move(what)), config_(config) {
  if (!config.is_object()) throw Error(fmt::format("{} config: expected a JSON object, got {}", what_, config.dump()));
  for (const auto& [key, value] : config.items()) {
    if (defaults.contains(key)) continue;
    std::string keys;
    for (const auto& [k, v] : defaults.items()) keys += (keys.empty() ? "" : ", ") + k;
    throw Error(fmt::format("{} config: unknown key '{}'; valid: {}", what_, key, keys));
  }
}

}  // namespace padbench
