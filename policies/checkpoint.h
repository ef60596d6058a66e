// Checkpoint folders: config.json (policy, hyper-parameters, normalisers, vocabulary,
// training facts) and model.pt (weights).
#pragma once

#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sim/error.h"

namespace padbench {

// Reads DIR/config.json of any policy; errors name the folder (missing folder or file, invalid JSON).
nlohmann::json ReadCheckpointJson(const std::string& dir);

// Reads DIR/config.json and checks that it belongs to `policy`; errors name the folder and
// what is wrong (missing folder or file, invalid JSON, another policy's checkpoint).
nlohmann::json ReadCheckpointConfig(const std::string& dir, const std::string& policy);

// Reads a model's hyper-parameters over its defaults. Construction rejects keys the defaults
// lack; Read() rejects a value of the wrong type. Errors name `what` and the key.
class ConfigReader {
 public:
  ConfigReader(std::string what, const nlohmann::json& config, const nlohmann::json& defaults);
  template <typename T>
  void Read(const char* key, T& value) const {
    if (!config_.contains(key)) return;
    try {
      value = config_.at(key).get<T>();
    } catch (const nlohmann::json::exception&) {
      throw Error(fmt::format("{} config: '{}' has the wrong type ({})", what_, key, config_.at(key).dump()));
    }
  }

 private:
  std::string what_;
  const nlohmann::json& config_;
};

// A config struct's config.json keys, listed once: `fields(config, field)` calls
// field("key", config.member) for each key (a generic lambda serves const and non-const).
// WriteFields writes them all; ReadFields reads those present, through `reader`.
template <typename Config, typename Fields>
nlohmann::json WriteFields(const Config& config, const Fields& fields) {
  nlohmann::json j = nlohmann::json::object();
  fields(config, [&j](const char* key, const auto& value) { j[key] = value; });
  return j;
}
template <typename Config, typename Fields>
void ReadFields(const ConfigReader& reader, Config& config, const Fields& fields) {
  fields(config, [&reader](const char* key, auto& value) { reader.Read(key, value); });
}

}  // namespace padbench
