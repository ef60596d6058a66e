// JSON and text files: read-or-throw, and atomic writes (a reader never sees half a file).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace padbench {

// Parses the JSON file at `path`; throws padbench::Error naming the file when it cannot be
// read or is not valid JSON.
nlohmann::json ReadJsonFile(const std::string& path);

// Writes `text` to PATH.tmp and renames it onto `path`; throws padbench::Error on failure.
void WriteFileAtomic(const std::string& path, const std::string& text);

// `json` pretty-printed (2 spaces, trailing newline), written atomically.
void WriteJsonFile(const std::string& path, const nlohmann::json& json);

}  // namespace padbench
