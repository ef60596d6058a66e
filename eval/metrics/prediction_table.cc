#include "eval/metrics/prediction_table.h"

#include <fmt/format.h>

namespace padbench {
using json = nlohmann::json;

void PredictionTable::Add(const ScoredPrediction& p, const std::vector<double>& values) {
  auto& [count, sums] = sums_[{PredictionKindName(p.kind), p.camera, p.horizon}];
  if (sums.empty()) sums.assign(fields_.size(), 0.0);
  ++count;
  for (size_t i = 0; i < fields_.size(); ++i) sums[i] += values.at(i);
}

json PredictionTable::ToRecord() const {
  if (sums_.empty()) return nullptr;
  json out = json::array();
  for (const auto& [key, value] : sums_) {
    json row = {{"kind", std::get<0>(key)}, {"camera", std::get<1>(key)}, {"horizon", std::get<2>(key)},
                {"count", value.first}};
    for (size_t i = 0; i < fields_.size(); ++i) row[fields_[i] + "_sum"] = value.second[i];
    out.push_back(std::move(row));
  }
  return out;
}

json PredictionTable::Aggregate(const std::vector<const json*>& records, const std::vector<std::string>& fields) {
  std::map<Key, std::pair<int, std::vector<double>>> sums;
  for (const json* record : records) {
    for (const json& row : *record) {
      auto& [count, s] = sums[{row.at("kind"), row.at("camera"), row.at("horizon")}];
      if (s.empty()) s.assign(fields.size(), 0.0);
      count += row.at("count").get<int>();
      for (size_t i = 0; i < fields.size(); ++i) s[i] += row.at(fields[i] + "_sum").get<double>();
    }
  }
  if (sums.empty()) return nullptr;
  json out = json::array();
  for (const auto& [key, value] : sums) {
    json row = {{"kind", std::get<0>(key)}, {"camera", std::get<1>(key)}, {"horizon", std::get<2>(key)},
                {"count", value.first}};
    for (size_t i = 0; i < fields.size(); ++i) row[fields[i]] = value.first ? value.second[i] / value.first : 0.0;
    out.push_back(std::move(row));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> PredictionTable::CsvCells(const json& aggregate,
                                                                           const std::string& prefix,
                                                                           const std::vector<std::string>& fields) {
  std::vector<std::pair<std::string, std::string>> cells;
  if (aggregate.is_null()) return cells;
  for (const json& row : aggregate) {
    const std::string camera = row.at("camera");
    const std::string suffix = fmt::format("{}_h{}{}", row.at("kind").get<std::string>(), row.at("horizon").get<int>(),
                                           camera == "corner" ? "" : "_" + camera);
    for (const std::string& f : fields) {
      cells.emplace_back(fmt::format("{}_{}_{}", prefix, f, suffix), fmt::format("{:.4f}", row.at(f).get<double>()));
    }
  }
  return cells;
}

std::string PredictionTable::SummaryRows(const PolicyAggregates& policies,
                                         const std::function<std::string(const std::string&, const json&)>& cells) {
  std::string rows;
  for (const auto& [policy, agg] : policies) {
    if (!agg) continue;
    for (const json& r : *agg) {
      rows += fmt::format("| {} | {} | {} | {} | {} |\n", policy, r.at("kind").get<std::string>(),
                          r.at("camera").get<std::string>(), r.at("horizon").get<int>(), cells(policy, r));
    }
  }
  return rows;
}

const json* PredictionTable::Row(const json& aggregate, const json& key_row) {
  if (!aggregate.is_array()) return nullptr;
  for (const json& row : aggregate) {
    if (row.at("kind") == key_row.at("kind") && row.at("camera") == key_row.at("camera") &&
        row.at("horizon") == key_row.at("horizon")) {
      return &row;
    }
  }
  return nullptr;
}

}  // namespace padbench
