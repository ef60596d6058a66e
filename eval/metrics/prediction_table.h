// The shared shape of the prediction metrics: sums of named values per (kind, camera, horizon).
//   record:    [{"kind", "camera", "horizon", "count", "<field>_sum", ...}]
//   aggregate: [{"kind", "camera", "horizon", "count", "<field>" (the mean), ...}]
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/metrics/metric.h"

namespace padbench {

class PredictionTable {
 public:
  explicit PredictionTable(std::vector<std::string> fields) : fields_(std::move(fields)) {}
  // One scored frame's values, in the order of `fields`.
  void Add(const ScoredPrediction& p, const std::vector<double>& values);
  // The record value; null when nothing was added.
  nlohmann::json ToRecord() const;
  // Sums record values and turns sums into means; null when there are none.
  static nlohmann::json Aggregate(const std::vector<const nlohmann::json*>& records,
                                  const std::vector<std::string>& fields);
  // per_task.csv cells "<prefix>_<field>_<kind>_h<horizon>" (camera appended unless "corner").
  static std::vector<std::pair<std::string, std::string>> CsvCells(const nlohmann::json& aggregate,
                                                                   const std::string& prefix,
                                                                   const std::vector<std::string>& fields);
  // summary.md rows "| policy | kind | camera | horizon | <cells> |", one per aggregate row of
  // every policy that has one; `cells(policy, row)` formats the rest of the row.
  static std::string SummaryRows(const PolicyAggregates& policies,
                                 const std::function<std::string(const std::string&, const nlohmann::json&)>& cells);
  // The aggregate row of (kind, camera, horizon) in `aggregate`, or null.
  static const nlohmann::json* Row(const nlohmann::json& aggregate, const nlohmann::json& key_row);

 private:
  using Key = std::tuple<std::string, std::string, int>;  // kind, camera, horizon
  std::vector<std::string> fields_;
  std::map<Key, std::pair<int, std::vector<double>>> sums_;
};

}  // namespace padbench
