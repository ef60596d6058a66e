// Metrics: one file each, listed once in eval/metrics/registry.cc. A metric watches every
// episode as a rollout observer, writes its value into the episode record ("metrics" in
// episodes.jsonl and results.json), aggregates the values of a policy and of each of its tasks
// (results.json "aggregated"), and adds a section to summary.md and columns to per_task.csv.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/metrics/observer.h"

namespace padbench {

// One episode's measurement.
class EpisodeMetric : public RolloutObserver {
 public:
  // The episode's value for the record; null when nothing was measured (the record omits it).
  virtual nlohmann::json Value() const = 0;
};

// A policy's aggregate of one metric, for reports: (policy spec, aggregate or null).
using PolicyAggregates = std::vector<std::pair<std::string, const nlohmann::json*>>;

struct Metric {
  std::string_view name;  // the key in records and aggregates
  std::string_view help;  // one line
  std::function<std::unique_ptr<EpisodeMetric>()> start;
  // The aggregate of episode values (never null entries); null when there is nothing to report.
  std::function<nlohmann::json(const std::vector<const nlohmann::json*>& values)> aggregate;
  // A summary.md section (heading, text, table) from the policies' overall aggregates in run
  // order; "" when no policy has one. `all` gives every metric's overall aggregate per policy
  // (aggregated.policies.<p>.metrics) for sections that compare with another metric.
  std::function<std::string(const PolicyAggregates& policies, const nlohmann::json& all)> summarize;
  // per_task.csv cells (column name, value) of one (policy, task) aggregate; the report writes
  // the union of the columns over the run, in first-seen order.
  std::function<std::vector<std::pair<std::string, std::string>>(const nlohmann::json& aggregate)> csv_cells;
};

// Every metric, in report order.
const std::vector<Metric>& Metrics();
// A fresh instance of every metric, for one episode.
std::vector<std::unique_ptr<EpisodeMetric>> StartMetrics();

}  // namespace padbench
