#include "policies/checkpoint.h"

#include <filesystem>

#include <fmt/format.h>

#include "sim/error.h"
#include "sim/json_file.h"

namespace padbench {

nlohmann::json ReadCheckpointJson(const std::string& dir) {
  if (!std::filesystem::is_directory(dir)) throw Error(fmt::format("checkpoint folder '{}' does not exist", dir));
  if (!std::filesystem::exists(dir + "/config.json")) throw Error(fmt::format("checkpoint '{}' has no config.json", dir));
  return ReadJsonFile(dir + "/config.json");
}

nlohmann::json ReadCheckpointConfig(const std::string& dir, const std::string& policy) {
  nlohmann::json config = ReadCheckpointJson(dir);
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
