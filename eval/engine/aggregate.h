// Aggregation of episode records into the `aggregated` block of results.json.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/engine/episode_record.h"

namespace padbench {

struct RunTiming {
  double wall_s = 0;           // wall time of the run (this session)
  int episodes_run = 0;        // episodes run in this session (not loaded by --resume)
  int64_t env_steps_run = 0;
  double control_period_ms = 20;  // simulated time per control step
};

// Per policy (in `policy_order`): overall, per group and per task success with
// Wilson 95% intervals, mean lengths, failure reasons, Act latency percentiles
// (warm-up calls reported apart), latency per environment step and headroom
// against the control period, and every metric's aggregate ("metrics", and per task
// "task_metrics"; eval/metrics/metric.h).
nlohmann::json Aggregate(const std::vector<EpisodeRecord>& records, const std::vector<std::string>& policy_order,
                         const RunTiming& timing);

}  // namespace padbench
