// Where Act time goes: the per-stage timings policies report (PolicyOutput::timings_ms, e.g.
// "encode", "denoise", "total"), as mean milliseconds per Act call.
#include <map>

#include <fmt/format.h>

#include "eval/metrics/metric.h"

namespace padbench {
namespace {

class ActStages final : public EpisodeMetric {
 public:
  void OnAct(const Observation&, const PolicyOutput& output, double) override {
    for (const auto& [stage, ms] : output.timings_ms) {
      auto& [calls, sum] = stages_[stage];
      ++calls;
      sum += ms;
    }
  }
  nlohmann::json Value() const override {
    if (stages_.empty()) return nullptr;
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [stage, v] : stages_) out[stage] = {{"calls", v.first}, {"ms_sum", v.second}};
    return out;
  }

 private:
  std::map<std::string, std::pair<int, double>> stages_;
};

nlohmann::json Aggregate(const std::vector<const nlohmann::json*>& values) {
  std::map<std::string, std::pair<int, double>> stages;
  for (const nlohmann::json* v : values) {
    for (const auto& [stage, s] : v->items()) {
      stages[stage].first += s.at("calls").get<int>();
      stages[stage].second += s.at("ms_sum").get<double>();
    }
  }
  if (stages.empty()) return nullptr;
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [stage, v] : stages) out[stage] = {{"calls", v.first}, {"mean_ms", v.second / v.first}};
  return out;
}

std::string SummarySection(const PolicyAggregates& policies, const nlohmann::json&) {
  std::string rows;
  for (const auto& [policy, agg] : policies) {
    if (!agg) continue;
    std::string cells;
    for (const auto& [stage, s] : agg->items()) {
      cells += fmt::format("{}{} {:.2f}", cells.empty() ? "" : ", ", stage, s.at("mean_ms").get<double>());
    }
    rows += fmt::format("| {} | {} |\n", policy, cells);
  }
  if (rows.empty()) return "";
  return "## Act stages (mean ms per Act call, as the policies report them)\n\n| policy | stages |\n|---|---|\n" + rows;
}

}  // namespace

Metric ActStagesMetric() {
  Metric m;
  m.name = "act_stages";
  m.help = "mean milliseconds per Act call of each stage a policy reports (PolicyOutput::timings_ms)";
  m.start = [] { return std::make_unique<ActStages>(); };
  m.aggregate = Aggregate;
  m.summarize = SummarySection;
  m.csv_cells = [](const nlohmann::json& a) {
    std::vector<std::pair<std::string, std::string>> cells;
    if (!a.is_null())
      for (const auto& [stage, s] : a.items()) cells.emplace_back("act_" + stage + "_ms", fmt::format("{:.3f}", s.at("mean_ms").get<double>()));
    return cells;
  };
  return m;
}

}  // namespace padbench
