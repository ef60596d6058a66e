#include "eval/report/compare.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join moved here in fmt 11
#include <nlohmann/json.hpp>

#include "sim/error.h"

namespace padbench {
namespace {

using nlohmann::json;

struct Counts {
  int successes = 0, episodes = 0;
};

struct PolicyRun {
  std::map<std::string, Counts> tasks;
  bool has_p50 = false;
  double p50_ms = 0;
};

// A seed as results.json holds it: an unsigned 64-bit integer (parsed files give unsigned).
bool IsSeed(const json& value) {
  return value.is_number_unsigned() || (value.is_number_integer() && value.get<int64_t>() >= 0);
}

double LogChoose(int n, int k) {
  return std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0);
}

const json& Field(const json& object, const char* key, const std::string& where) {
  if (!object.is_object()) throw Error(fmt::format("results: {} is not an object", where));
  auto it = object.find(key);
  if (it == object.end()) throw Error(fmt::format("results: {} has no '{}'", where, key));
  return *it;
}

int CountField(const json& object, const char* key, const std::string& where) {
  const json& value = Field(object, key, where);
  if (!value.is_number_integer() || value.get<long long>() < 0) {
    throw Error(fmt::format("results: {}.{} is not a non-negative integer", where, key));
  }
  return value.get<int>();
}

// Reads aggregated.policies of one results.json; `name` says which run in error messages.
std::map<std::string, PolicyRun> ReadRun(const json& doc, const char* name) {
  const std::string root = fmt::format("{} run", name);
  const json& policies = Field(Field(doc, "aggregated", root), "policies", root + " aggregated");
  if (!policies.is_object()) {
    throw Error(fmt::format("results: {} aggregated.policies is not an object", root));
  }
  std::map<std::string, PolicyRun> run;
  for (const auto& [spec, entry] : policies.items()) {
    const std::string where = fmt::format("{} policy '{}'", root, spec);
    PolicyRun& p = run[spec];
    const json& tasks = Field(entry, "tasks", where);
    if (!tasks.is_object()) throw Error(fmt::format("results: {} tasks is not an object", where));
    for (const auto& [task, counts] : tasks.items()) {
      const std::string task_where = fmt::format("{} task '{}'", where, task);
      Counts c{CountField(counts, "successes", task_where), CountField(counts, "episodes", task_where)};
      if (c.successes > c.episodes) {
        throw Error(fmt::format("results: {} has {} successes in {} episodes", task_where,
                                c.successes, c.episodes));
      }
      p.tasks[task] = c;
    }
    // A policy without timings (no latency block or a null p50) is compared on success only.
    auto latency = entry.find("latency");
    if (latency != entry.end() && latency->is_object()) {
      auto p50 = latency->find("p50_ms");
      if (p50 != latency->end() && !p50->is_null()) {
        if (!p50->is_number()) throw Error(fmt::format("results: {} latency.p50_ms is not a number", where));
        p.has_p50 = true;
        p.p50_ms = p50->get<double>();
      }
    }
  }
  return run;
}

// Reads and checks the identity of one run: config (seed, episodes, shard) and, when present,
// metadata (revision, date). A shard's results are part of a run, never a run to compare.
RunIdentity ReadIdentity(const json& doc, const char* name) {
  const std::string root = fmt::format("{} run", name);
  const json& config = Field(doc, "config", root);
  const std::string where = root + " config";
  RunIdentity id;
  const json& seed = Field(config, "seed", where);
  if (!IsSeed(seed)) throw Error(fmt::format("results: {}.seed is not a non-negative integer", where));
  id.seed = seed.get<uint64_t>();
  id.episodes = CountField(config, "episodes", where);
  if (const int shards = CountField(config, "shard_count", where); shards != 1) {
    throw Error(fmt::format("compare: the {} run is shard {} of {} of a run; merge the shards (padbench merge) and "
                            "compare the merged folder",
                            name, CountField(config, "shard_index", where), shards));
  }
  if (auto meta = doc.find("metadata"); meta != doc.end() && meta->is_object()) {
    id.revision = meta->value("git_revision", std::string());
    if (!id.revision.empty()) {
      id.revision = id.revision.substr(0, 10);
      if (meta->value("git_dirty", false)) id.revision += "+dirty";
    }
    id.date_utc = meta->value("date_utc", std::string());
  }
  return id;
}

// Every (policy, task) of a run holds the run's episode count, or the run is not whole.
void CheckComplete(const std::map<std::string, PolicyRun>& run, const RunIdentity& id, const char* name) {
  for (const auto& [policy, p] : run) {
    for (const auto& [task, c] : p.tasks) {
      if (c.episodes != id.episodes) {
        throw Error(fmt::format("compare: the {} run has {} of its {} episodes of {} / {}: an incomplete run "
                                "(finish it with eval --resume)",
                                name, c.episodes, id.episodes, policy, task));
      }
    }
  }
}

// (task, index) -> episode seed, from per_episode when the document lists it.
std::map<std::pair<std::string, int64_t>, uint64_t> EpisodeSeeds(const json& doc) {
  std::map<std::pair<std::string, int64_t>, uint64_t> seeds;
  auto list = doc.find("per_episode");
  if (list == doc.end() || !list->is_array()) return seeds;
  for (const json& e : *list) {
    auto task = e.find("task"), index = e.find("index"), seed = e.find("seed");
    if (task == e.end() || index == e.end() || seed == e.end() || !task->is_string() ||
        !index->is_number_integer() || !IsSeed(*seed)) {
      continue;
    }
    seeds[{task->get<std::string>(), index->get<int64_t>()}] = seed->get<uint64_t>();
  }
  return seeds;
}

// The runs must hold the same episodes (unless allowed) and step the simulation alike.
void CheckSameEpisodes(const json& base, const json& now, const RunIdentity& b, const RunIdentity& n,
                       const CompareOptions& options) {
  const auto period = [](const json& doc) {
    auto agg = doc.find("aggregated");
    auto p = agg->find("control_period_ms");
    return p != agg->end() && p->is_number() ? p->get<double>() : 0.0;
  };
  if (const double pb = period(base), pn = period(now); pb > 0 && pn > 0 && std::abs(pb - pn) > 1e-9) {
    throw Error(fmt::format("compare: the runs step the simulation at different control periods ({} ms and {} ms)",
                            pb, pn));
  }
  if (options.allow_different_episodes) return;
  const char* how = "; a regression check compares the same episodes (pass --different-episodes for an unpaired "
                    "comparison, or regenerate the baseline)";
  if (b.seed != n.seed) {
    throw Error(fmt::format("compare: the runs used different seeds (base {}, new {}){}", b.seed, n.seed, how));
  }
  const auto base_seeds = EpisodeSeeds(base);
  for (const auto& [key, seed] : EpisodeSeeds(now)) {
    auto it = base_seeds.find(key);
    if (it != base_seeds.end() && it->second != seed) {
      throw Error(fmt::format("compare: episode {} #{} has seed {} in the base run and {} in the new one (the episode "
                              "seed derivation changed){}",
                              key.first, key.second, it->second, seed, how));
    }
  }
}

std::string FormatIdentity(const char* name, const RunIdentity& id) {
  std::string line = fmt::format("{}: seed {}, {} episodes per task", name, id.seed, id.episodes);
  if (!id.revision.empty()) line += ", revision " + id.revision;
  if (!id.date_utc.empty()) line += ", " + id.date_utc;
  return line + "\n";
}

CompareRow MakeRow(const std::string& policy, const std::string& task, Counts base, Counts now,
                   double alpha) {
  CompareRow row;
  row.policy = policy;
  row.task = task;
  row.base_successes = base.successes;
  row.base_episodes = base.episodes;
  row.new_successes = now.successes;
  row.new_episodes = now.episodes;
  row.base_rate = base.episodes > 0 ? double(base.successes) / base.episodes : 0;
  row.new_rate = now.episodes > 0 ? double(now.successes) / now.episodes : 0;
  row.p_value = FisherDropPValue(base.successes, base.episodes, now.successes, now.episodes);
  row.p_holm = row.p_value;  // adjusted once every row is known (Compare)
  row.significant = row.p_holm < alpha;
  return row;
}

std::string FormatCounts(int successes, int episodes, double rate) {
  if (episodes == 0) return "0/0 —";
  return fmt::format("{}/{} {:.1f}%", successes, episodes, 100 * rate);
}

std::string FormatP(double p) {
  return p >= 1e-4 ? fmt::format("{:.4f}", p) : fmt::format("{:.1e}", p);
}

std::string FormatRow(const CompareRow& r) {
  const bool comparable = r.base_episodes > 0 && r.new_episodes > 0;
  const std::string delta =
      comparable ? fmt::format("{:+.1f} pp", 100 * (r.new_rate - r.base_rate)) : "—";
  const char* verdict = r.significant ? "REGRESSED" : comparable ? "ok" : "no data";
  const std::string task = r.task == kAllTasks ? "**all**" : r.task;
  return fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", r.policy, task,
                     FormatCounts(r.base_successes, r.base_episodes, r.base_rate),
                     FormatCounts(r.new_successes, r.new_episodes, r.new_rate), delta,
                     FormatP(r.p_value), FormatP(r.p_holm), verdict);
}

}  // namespace

double FisherDropPValue(int base_successes, int base_episodes, int new_successes, int new_episodes) {
  if (base_successes < 0 || new_successes < 0 || base_successes > base_episodes ||
      new_successes > new_episodes) {
    throw Error(fmt::format("Fisher test: invalid counts {}/{} and {}/{}", base_successes,
                            base_episodes, new_successes, new_episodes));
  }
  if (base_episodes == 0 || new_episodes == 0) return 1;
  // New successes X given the margins is hypergeometric: N episodes, K successes, new_episodes drawn.
  const int n = base_episodes + new_episodes, k = base_successes + new_successes;
  const int lo = std::max(0, k - base_episodes);
  const double log_total = LogChoose(n, new_episodes);
  std::vector<double> terms;
  for (int x = lo; x <= new_successes; ++x) {
    terms.push_back(LogChoose(k, x) + LogChoose(n - k, new_episodes - x) - log_total);
  }
  // Log-sum-exp keeps tiny tails (large tables) from underflowing term by term.
  const double top = *std::max_element(terms.begin(), terms.end());
  double sum = 0;
  for (double t : terms) sum += std::exp(t - top);
  return std::clamp(std::exp(top + std::log(sum)), 0.0, 1.0);
}

CompareResult Compare(const json& base, const json& now, const CompareOptions& options) {
  const auto base_run = ReadRun(base, "base");
  const auto new_run = ReadRun(now, "new");
  CompareResult result;
  result.options = options;
  result.base_run = ReadIdentity(base, "base");
  result.new_run = ReadIdentity(now, "new");
  CheckComplete(base_run, result.base_run, "base");
  CheckComplete(new_run, result.new_run, "new");
  CheckSameEpisodes(base, now, result.base_run, result.new_run, options);
  for (const auto& [policy, b] : base_run) {
    auto it = new_run.find(policy);
    if (it == new_run.end()) {
      result.only_in_base.push_back(policy);
      continue;
    }
    const PolicyRun& n = it->second;
    Counts base_sum, new_sum;
    for (const auto& [task, bc] : b.tasks) {
      auto t = n.tasks.find(task);
      if (t == n.tasks.end()) {
        result.only_in_base.push_back(policy + " / " + task);
        continue;
      }
      result.rows.push_back(MakeRow(policy, task, bc, t->second, options.alpha));
      base_sum.successes += bc.successes;
      base_sum.episodes += bc.episodes;
      new_sum.successes += t->second.successes;
      new_sum.episodes += t->second.episodes;
    }
    for (const auto& [task, nc] : n.tasks) {
      if (!b.tasks.count(task)) result.only_in_new.push_back(policy + " / " + task);
    }
    // Summed over shared tasks only, so a task added or dropped cannot move the overall rate.
    result.overall.push_back(MakeRow(policy, kAllTasks, base_sum, new_sum, options.alpha));

    LatencyCompare lat;
    lat.policy = policy;
    lat.base_p50_ms = b.p50_ms;
    lat.new_p50_ms = n.p50_ms;
    lat.available = b.has_p50 && n.has_p50 && b.p50_ms > 0;
    if (lat.available) {
      lat.ratio = n.p50_ms / b.p50_ms;
      lat.exceeded = lat.ratio > options.latency_ratio;
    }
    result.latency.push_back(lat);
  }
  for (const auto& [policy, n] : new_run) {
    if (!base_run.count(policy)) result.only_in_new.push_back(policy);
  }
  if (result.rows.empty()) {
    throw Error("compare: the runs share no policy and task, so nothing can be compared (only in base: " +
                fmt::format("{}; only in new: {})", fmt::join(result.only_in_base, ", "),
                            fmt::join(result.only_in_new, ", ")));
  }
  if (result.base_run.episodes == 0 || result.new_run.episodes == 0) {
    throw Error("compare: a run has no episodes; nothing was compared");
  }
  // Holm-Bonferroni over every row: the i-th smallest p (from 0) is scaled by (m - i), kept
  // monotone, capped at 1.
  std::vector<CompareRow*> family;
  for (CompareRow& r : result.rows) family.push_back(&r);
  for (CompareRow& r : result.overall) family.push_back(&r);
  std::stable_sort(family.begin(), family.end(),
                   [](const CompareRow* a, const CompareRow* b) { return a->p_value < b->p_value; });
  double running = 0;
  for (size_t i = 0; i < family.size(); ++i) {
    running = std::max(running, std::min(1.0, double(family.size() - i) * family[i]->p_value));
    family[i]->p_holm = running;
    family[i]->significant = running < options.alpha;
  }
  auto significant = [](const CompareRow& r) { return r.significant; };
  result.regressed =
      std::any_of(result.rows.begin(), result.rows.end(), significant) ||
      std::any_of(result.overall.begin(), result.overall.end(), significant) ||
      std::any_of(result.latency.begin(), result.latency.end(),
                  [](const LatencyCompare& l) { return l.exceeded; });
  return result;
}

std::string FormatCompare(const CompareResult& result) {
  const CompareOptions& o = result.options;
  std::string out = FormatIdentity("base", result.base_run) + FormatIdentity("new", result.new_run);
  if (o.allow_different_episodes) out += "(unpaired: the runs' episodes may differ)\n";
  out += "\n| policy | task | base | new | delta | p (drop) | Holm p | verdict |\n";
  out += "|---|---|---|---|---|---|---|---|\n";
  std::vector<std::string> failing;
  // Each policy's task rows, then its overall row, so a table reads policy by policy.
  for (const CompareRow& overall : result.overall) {
    for (const CompareRow& r : result.rows) {
      if (r.policy != overall.policy) continue;
      out += FormatRow(r);
      if (r.significant) {
        failing.push_back(fmt::format("{} / {} (p={}, Holm {})", r.policy, r.task, FormatP(r.p_value), FormatP(r.p_holm)));
      }
    }
    out += FormatRow(overall);
    if (overall.significant) {
      failing.push_back(fmt::format("{} / all tasks (p={}, Holm {})", overall.policy, FormatP(overall.p_value),
                                    FormatP(overall.p_holm)));
    }
  }
  if (!result.latency.empty()) {
    out += "\n| policy | base p50 ms | new p50 ms | ratio | verdict |\n|---|---|---|---|---|\n";
    for (const LatencyCompare& l : result.latency) {
      if (!l.available) {
        out += fmt::format("| {} | — | — | — | no data |\n", l.policy);
        continue;
      }
      out += fmt::format("| {} | {:.3g} | {:.3g} | {:.2f} | {} |\n", l.policy, l.base_p50_ms,
                         l.new_p50_ms, l.ratio, l.exceeded ? "SLOWER" : "ok");
      if (l.exceeded) {
        failing.push_back(fmt::format("{} latency p50 x{:.2f} (limit x{})", l.policy, l.ratio,
                                      o.latency_ratio));
      }
    }
  }
  auto list = [&](const char* label, const std::vector<std::string>& names) {
    if (names.empty()) return;
    out += fmt::format("\n{} (not compared): {}\n", label, fmt::join(names, ", "));
  };
  list("only in base", result.only_in_base);
  list("only in new", result.only_in_new);
  const std::string test = fmt::format(
      "one-sided Fisher exact test, alpha={} family-wise (Holm-Bonferroni over {} rows); p50 latency ratio limit {}",
      o.alpha, result.rows.size() + result.overall.size(), o.latency_ratio);
  if (result.regressed) {
    out += fmt::format("\nverdict: REGRESSED ({}): {}\n", test, fmt::join(failing, "; "));
  } else {
    out += fmt::format("\nverdict: no regression ({})\n", test);
  }
  return out;
}

}  // namespace padbench
