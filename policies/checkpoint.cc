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

}  // namespace padbench
