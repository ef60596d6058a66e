// Run metadata and the human-facing outputs of an evaluation: summary.md, per_task.csv, plots.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace padbench {

// Git revision, command line, library versions and machine facts.
nlohmann::json RunMetadata(const std::string& command_line);

// Writes results.json, summary.md, per_task.csv and (if `plots`) success.png and
// latency_cdf.png into `dir`, from a results object (metadata, config, per_episode, aggregated).
void WriteReports(const std::string& dir, const nlohmann::json& results, bool plots = true);

// The markdown summary (what summary.md holds and `padbench eval` prints).
std::string FormatSummary(const nlohmann::json& results);

}  // namespace padbench
