// Regression comparison of two evaluation runs (two parsed results.json files).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace padbench {

// Thresholds of the regression decision.
struct CompareOptions {
  double alpha = 0.05;         // family-wise significance level over all rows (Holm-Bonferroni)
  double latency_ratio = 1.5;  // p50 latency new/base above this fails
  // Compare runs whose episodes differ (another --seed, or a seed derivation that changed):
  // an unpaired comparison, off by default so a regression check never compares other episodes.
  bool allow_different_episodes = false;
};

// Who made a run (results.json config and metadata), shown above the comparison.
struct RunIdentity {
  uint64_t seed = 0;
  int episodes = 0;           // per policy and task
  std::string revision;       // git revision, "+dirty" when the tree had changes; empty if unknown
  std::string date_utc;       // empty if unknown
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
  RunIdentity base_run, new_run;
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
// (Holm-Bonferroni), so a comparison of many tasks does not fail by chance. First checks both
// runs' identities: each must be a whole run (not one shard, every (policy, task) with the
// run's episode count), at the same control period, and, unless
// options.allow_different_episodes, of the same episodes (same seed, and the same episode
// seeds wherever both list an episode). Throws padbench::Error naming the failed check, a
// missing or mistyped field, or runs that share no (policy, task).
CompareResult Compare(const nlohmann::json& base, const nlohmann::json& now,
                      const CompareOptions& options = {});

// Markdown tables (success per task and overall, latency) and a final verdict line that names the
// test and every failing row.
std::string FormatCompare(const CompareResult& result);

}  // namespace padbench
