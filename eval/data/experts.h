// Scripted-expert success rates per task and group, with and without action noise.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "eval/cluster/transport.h"
#include "tasks/task.h"

namespace padbench {

struct ExpertRunConfig {
  std::vector<std::shared_ptr<const Task>> tasks;
  int episodes = 100;                // per task and noise level
  uint64_t seed = 0;
  std::vector<double> noises{0.0, 0.1};
  int workers = 1;
  Transport* cluster = nullptr;   // set: one rank of a distributed run; rank 0 adds up every rank's episodes
  double rank_timeout_s = 30;     // a rank silent this long is dead: its episodes run elsewhere
};

struct ExpertRow {
  std::string task;
  Difficulty group = Difficulty::kEasy;
  std::vector<int> successes;       // per noise level
  std::vector<double> mean_steps;   // per noise level, over successful episodes
  std::vector<int> diverged;        // per noise level
};

struct ExpertReport {
  ExpertRunConfig config;
  std::vector<ExpertRow> rows;
  double seconds = 0;
};

// Runs every (task, noise, episode) without rendering; episode seeds come from
// EpisodeSeed(seed, task, index), so results depend neither on `workers` nor on the ranks.
// On a rank other than 0 the report holds zeros.
ExpertReport RunExperts(const ExpertRunConfig& config, bool progress = true);
// Markdown table: per task, then per group and overall, success % with Wilson 95% intervals.
std::string FormatExpertTable(const ExpertReport& report);
nlohmann::json ExpertReportJson(const ExpertReport& report);

}  // namespace padbench
