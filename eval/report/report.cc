#include "eval/report/report.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <mujoco/mujoco.h>
#include <opencv2/core/version.hpp>

#include "eval/metrics/metric.h"
#include "eval/report/plots.h"
#include "sim/error.h"
#include "sim/json_file.h"

namespace padbench {
using json = nlohmann::json;

namespace {

// First line a shell command prints, or "" (git may be absent, or this may not be a checkout).
std::string CommandLine(const std::string& command) {
  std::array<char, 512> buffer{};
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return "";
  std::string out = fgets(buffer.data(), buffer.size(), pipe) ? buffer.data() : "";
  pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

std::string Percent(const json& rate) {
  return fmt::format("{:.1f}% [{:.1f}, {:.1f}]", 100 * rate.at("success_rate").get<double>(),
                     100 * rate.at("ci95")[0].get<double>(), 100 * rate.at("ci95")[1].get<double>());
}

// The aggregated policies in the order the run listed them (JSON objects sort their keys).
std::vector<std::pair<std::string, const json&>> Ordered(const json& results) {
  std::vector<std::pair<std::string, const json&>> out;
  for (const std::string policy : results.at("config").at("policies")) {
    out.emplace_back(policy, results.at("aggregated").at("policies").at(policy));
  }
  return out;
}

// success.png (per task, one colour per policy) and latency_cdf.png.
void WritePlots(const std::string& dir, const json& results) {
  SuccessPlotData success;
  for (const std::string task : results.at("config").at("tasks")) success.tasks.push_back(task);
  std::vector<std::pair<std::string, std::vector<double>>> latencies;
  for (const auto& [policy, p] : Ordered(results)) {
    PolicySuccessSeries series{policy, {}, {}};
    for (const std::string& task : success.tasks) {
      if (!p.at("tasks").contains(task)) {
        series.rate.push_back(std::nan(""));
        series.interval.push_back({0, 0});
        continue;
      }
      const json& t = p.at("tasks").at(task);
      series.rate.push_back(t.at("success_rate"));
      series.interval.push_back({t.at("ci95")[0], t.at("ci95")[1]});
    }
    success.policies.push_back(std::move(series));
    latencies.emplace_back(policy, std::vector<double>{});
  }
  for (const auto& episode : results.at("per_episode")) {
    for (auto& [policy, values] : latencies) {
      if (episode.at("policy") != policy) continue;
      const std::vector<double> ms = episode.at("act_ms");
      values.insert(values.end(), ms.begin() + (episode.at("warmup").get<bool>() && !ms.empty()), ms.end());
    }
  }
  PlotSuccess(dir + "/success.png", success);
  PlotLatencyCdf(dir + "/latency_cdf.png", latencies);
}

}  // namespace

json RunMetadata(const std::string& command_line) {
  const std::string src = PADBENCH_SOURCE_DIR;
  const std::string revision = CommandLine(fmt::format("git -C '{}' rev-parse HEAD 2>/dev/null", src));
  const bool dirty = !CommandLine(fmt::format("git -C '{}' status --porcelain --untracked-files=no 2>/dev/null", src)).empty();
  char host[256] = "";
  gethostname(host, sizeof(host) - 1);
  const std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return {{"padbench_version", PADBENCH_VERSION},
          {"git_revision", revision.empty() ? "unknown" : revision},
          {"git_dirty", dirty},
          {"command_line", command_line},
          {"date_utc", when},
          {"libraries",
           {{"mujoco", mj_version()}, {"opencv", CV_VERSION}, {"compiler", __VERSION__}}},
          {"machine",
           {{"hostname", host},
            {"cpu", CpuModel()},
            {"cores", std::thread::hardware_concurrency()},
            {"memory_gib", double(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGE_SIZE) / (1 << 30)}}}};
}

std::string FormatSummary(const json& results) {
  const json& agg = results.at("aggregated");
  const json& config = results.at("config");
  const json& meta = results.at("metadata");
  std::string out = fmt::format("# padbench eval\n\n{} episodes per task, seed {}, {} tasks; revision {}{}\n\n",
                                config.at("episodes").get<int>(), config.at("seed").get<uint64_t>(),
                                config.at("tasks").size(), meta.at("git_revision").get<std::string>().substr(0, 12),
                                meta.at("git_dirty").get<bool>() ? " (modified)" : "");
  if (const auto timing = config.find("act_timing"); timing != config.end()) {
    const json& latency = timing->at("latency_ms");  // a number, or "measured"
    out += fmt::format("Real time: every Act takes {} of simulated time; while it runs the previous chunk goes on, "
                       "then the arm holds still.\n\n",
                       latency.is_number() ? fmt::format("{:g} ms", latency.get<double>()) : "its measured wall time");
  }

  out += "## Success (95% Wilson intervals)\n\n| policy | easy | medium | hard | overall | mean length |\n|---|---|---|---|---|---|\n";
  for (const auto& [policy, p] : Ordered(results)) {
    out += fmt::format("| {} |", policy);
    for (const char* g : {"easy", "medium", "hard"}) {
      out += p.at("groups").contains(g) ? " " + Percent(p.at("groups").at(g)) + " |" : " – |";
    }
    out += fmt::format(" {} | {:.1f} |\n", Percent(p.at("overall")), p.at("overall").at("mean_length").get<double>());
  }

  out += "\n## Per task\n\n| task | group |";
  std::string rule = "|---|---|";
  for (const auto& [policy, p] : Ordered(results)) {
    out += fmt::format(" {} |", policy);
    rule += "---|";
  }
  out += "\n" + rule + "\n";
  for (const auto& task : config.at("tasks")) {
    const std::string name = task;
    std::string group;
    std::string cells;
    for (const auto& [policy, p] : Ordered(results)) {
      if (!p.at("tasks").contains(name)) {
        cells += " – |";
        continue;
      }
      const json& t = p.at("tasks").at(name);
      group = t.at("group");
      cells += fmt::format(" {} |", Percent(t));
    }
    out += fmt::format("| {} | {} |{}\n", name, group, cells);
  }

  out += "\n## Latency per Act call (ms; warm-up calls apart)\n\n"
         "| policy | p50 | p95 | p99 | max | warm-up mean | per env step | headroom |\n|---|---|---|---|---|---|---|---|\n";
  for (const auto& [policy, p] : Ordered(results)) {
    const json& l = p.at("latency");
    out += fmt::format("| {} | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {:.0f}x |\n", policy,
                       l.at("p50_ms").get<double>(), l.at("p95_ms").get<double>(), l.at("p99_ms").get<double>(),
                       l.at("max_ms").get<double>(), l.at("warmup_mean_ms").get<double>(),
                       l.at("per_step_ms").get<double>(), l.at("headroom").get<double>());
  }
  out += fmt::format("\nHeadroom: the control period ({:.0f} ms) over the policy time per environment step.\n",
                     agg.at("control_period_ms").get<double>());

  // Each metric's section (eval/metrics/).
  json all = json::object();
  for (const auto& [policy, p] : Ordered(results)) all[policy] = p.at("metrics");
  for (const Metric& m : Metrics()) {
    PolicyAggregates aggregates;
    for (const auto& [policy, p] : Ordered(results)) {
      const json& metrics = p.at("metrics");
      aggregates.emplace_back(policy, metrics.contains(m.name) ? &metrics.at(std::string(m.name)) : nullptr);
    }
    const std::string section = m.summarize(aggregates, all);
    if (!section.empty()) out += "\n" + section;
  }

  out += "\n## Failures\n\n| policy | timeout | policy_error | physics_divergence | policy_timeout | worker_crash |\n"
         "|---|---|---|---|---|---|\n";
  for (const auto& [policy, p] : Ordered(results)) {
    const json& f = p.at("overall").at("failures");
    auto count = [&](const char* k) { return f.contains(k) ? f.at(k).get<int>() : 0; };
    out += fmt::format("| {} | {} | {} | {} | {} | {} |\n", policy, count("timeout"), count("policy_error"),
                       count("physics_divergence"), count("policy_timeout"), count("worker_crash"));
  }
  // Crashed and stuck workers, episode by episode (each cost that episode only).
  std::string lost;
  for (const json& e : results.at("per_episode")) {
    const std::string failure = e.at("failure");
    if (failure != "worker_crash" && failure != "policy_timeout") continue;
    lost += fmt::format("- {} {} #{}: {}: {}\n", e.at("policy").get<std::string>(), e.at("task").get<std::string>(),
                        e.at("index").get<int>(), failure, e.at("failure_detail").get<std::string>());
  }
  if (!lost.empty()) out += "\nEpisodes whose worker crashed or hung:\n\n" + lost;
  const json& tp = agg.at("throughput");
  out += fmt::format("\nThroughput: {} episodes in {:.1f} s ({:.1f} episodes/min, {:.0f} env steps/s).\n",
                     tp.at("episodes_run").get<int>(), tp.at("wall_s").get<double>(),
                     tp.at("episodes_per_min").get<double>(), tp.at("env_steps_per_s").get<double>());
  return out;
}

void WriteReports(const std::string& dir, const json& results, bool plots) {
  WriteJsonFile(dir + "/results.json", results);
  WriteFileAtomic(dir + "/summary.md", FormatSummary(results));

  // per_task.csv: the success columns, then every metric's cells (the union over the run).
  std::vector<std::vector<std::pair<std::string, std::string>>> rows;
  std::vector<std::string> extra;
  std::string csv;
  for (const auto& [policy, p] : Ordered(results)) {
    for (const std::string task : results.at("config").at("tasks")) {
      if (!p.at("tasks").contains(task)) continue;
      const json& t = p.at("tasks").at(task);
      std::vector<std::pair<std::string, std::string>> cells = {
          {"", fmt::format("\"{}\",{},{},{},{},{:.6f},{:.6f},{:.6f},{:.3f},{:.3f},{}", policy, task,
                           t.at("group").get<std::string>(), t.at("episodes").get<int>(), t.at("successes").get<int>(),
                           t.at("success_rate").get<double>(), t.at("ci95")[0].get<double>(),
                           t.at("ci95")[1].get<double>(), t.at("mean_length").get<double>(),
                           t.at("mean_steps_to_success").get<double>(), t.at("clipped_actions").get<int64_t>())}};
      const json& tm = p.at("task_metrics");
      for (const Metric& m : Metrics()) {
        if (!tm.contains(task) || !tm.at(task).contains(m.name)) continue;
        for (auto& cell : m.csv_cells(tm.at(task).at(std::string(m.name)))) {
          if (std::find(extra.begin(), extra.end(), cell.first) == extra.end()) extra.push_back(cell.first);
          cells.push_back(std::move(cell));
        }
      }
      rows.push_back(std::move(cells));
    }
  }
  csv = "policy,task,group,episodes,successes,success_rate,ci95_low,ci95_high,mean_length,"
        "mean_steps_to_success,clipped_actions";
  for (const std::string& column : extra) csv += "," + column;
  csv += "\n";
  for (const auto& cells : rows) {
    csv += cells.front().second;
    for (const std::string& column : extra) {
      const auto it = std::find_if(cells.begin() + 1, cells.end(), [&](const auto& c) { return c.first == column; });
      csv += "," + (it == cells.end() ? std::string() : it->second);
    }
    csv += "\n";
  }
  WriteFileAtomic(dir + "/per_task.csv", csv);
  if (plots) WritePlots(dir, results);
}

}  // namespace padbench
