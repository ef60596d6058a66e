// Checkpoint folders: config.json (policy, hyper-parameters, normalisers, vocabulary,
// training facts) and model.pt (weights).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace padbench {

// Reads DIR/config.json and checks that it belongs to `policy`; errors name the folder and
// what is wrong (missing folder or file, invalid JSON, another policy's checkpoint).
nlohmann::json ReadCheckpointConfig(const std::string& dir, const std::string& policy);

}  // namespace padbench
