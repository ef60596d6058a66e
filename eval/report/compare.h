// Regression comparison of two evaluation runs (two parsed results.json files).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace padbench {

// Thresholds of the regression decision.
struct CompareOptions {
  double alpha = 0.05;         // family-wise significance level over all rows (Holm-Bonferroni)
  double latency_ratio = 1.5;  // p50 latency new/base above this fails
};

// Success of one policy on one task (or on all shared tasks) in the base and the new run.
struct CompareRow {
  std::string policy;
  std::string task;  // kAllTasks for the per-policy overall row
  int base_successes = 0, base_episodes = 0;
  int new_successes = 0, new_episodes = 0;
  double base_rate = 0, new_rate = 0;  // fractions; 0 when there are no episodes
  double p_value = 1;                  // one-sided Fisher exact p of a drop; 1 when a side is empty
  double p_holm = 1;                   // Holm-Bonferroni adjusted over every row of the comparison
  bool significant = false;            // p_holm < alpha: a significant drop, family-wise
};

// p50 latency of one policy in both runs.
struct LatencyCompare {
  std::string policy;
  double base_p50_ms = 0, new_p50_ms = 0;
  double ratio = 0;       // new / base; 0 when not available
  bool available = false; // both runs report a p50 and the base one is positive
  bool exceeded = false;  // ratio > latency_ratio
};

// Everything Compare found; `regressed` is the overall decision.
struct CompareResult {
  CompareOptions options;
  std::vector<CompareRow> rows;            // (policy, task) present in both runs, sorted
  std::vector<CompareRow> overall;         // per policy in both runs, summed over shared tasks
  std::vector<LatencyCompare> latency;     // per policy in both runs
  std::vector<std::string> only_in_base;   // "policy" or "policy / task": reported, not failures
  std::vector<std::string> only_in_new;
  bool regressed = false;  // any significant drop (task or overall row) or latency ratio exceeded
};

// Task name used by the per-policy overall rows.
inline constexpr const char* kAllTasks = "all";

// One-sided Fisher exact p-value that the new success count is this low or lower given the
// margins of the 2x2 table (hypergeometric lower tail); 1 when either side has no episodes.
double FisherDropPValue(int base_successes, int base_episodes, int new_successes, int new_episodes);

// Compares `aggregated.policies` of two results.json documents. Every per-task and per-policy
// row is a one-sided Fisher test; significance controls the family-wise error over all of them
// (Holm-Bonferroni), so a comparison of many tasks does not fail by chance. Throws
// padbench::Error naming a missing or mistyped field, when the runs share no (policy, task), or
// when no shared row has episodes on both sides (nothing compared).
CompareResult Compare(const nlohmann::json& base, const nlohmann::json& now,
                      const CompareOptions& options = {});

// Markdown tables (success per task and overall, latency) and a final verdict line that names the
// test and every failing row.
std::string FormatCompare(const CompareResult& result);

}  // namespace padbench
