#include "eval/data/experts.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "eval/cluster/job_queue.h"
#include "eval/report/progress.h"
#include "eval/report/stats.h"
#include "sim/error.h"
#include "tasks/task_env.h"

namespace padbench {

ExpertReport RunExperts(const ExpertRunConfig& config, bool progress) {
  ExpertReport report;
  report.config = config;
  const size_t num_noise = config.noises.size();
  for (const auto& task : config.tasks) {
    report.rows.push_back({std::string(task->Name()), task->Group(), std::vector<int>(num_noise),
                           std::vector<double>(num_noise), std::vector<int>(num_noise)});
  }
  struct Job {
    size_t task, noise;
    int index;
  };
  constexpr int64_t kMaxEpisodes = 10'000'000;  // the job list is held in memory
  if (config.episodes < 1 || int64_t(config.episodes) * int64_t(num_noise) * int64_t(config.tasks.size()) > kMaxEpisodes) {
    throw Error(fmt::format("experts: --episodes must be >= 1 and episodes x noise levels x tasks at most {}, got {}",
                            kMaxEpisodes, config.episodes));
  }
  std::vector<Job> jobs;
  for (size_t t = 0; t < config.tasks.size(); ++t)
    for (size_t k = 0; k < num_noise; ++k)
      for (int i = 0; i < config.episodes; ++i) jobs.push_back({t, k, i});

  const bool owner = !config.cluster || config.cluster->rank() == 0;
  std::optional<ProgressBar> bar;
  if (progress && owner) bar.emplace(int64_t(jobs.size()), "experts");
  int64_t done = 0;
  // A result is "<success> <diverged> <steps>"; rank 0 adds them into the rows.
  auto add = [&](size_t j, const std::string& result) {
    int success = 0, diverged = 0, steps = 0;
    std::sscanf(result.c_str(), "%d %d %d", &success, &diverged, &steps);
    ExpertRow& row = report.rows[jobs[j].task];
    row.successes[jobs[j].noise] += success;
    row.diverged[jobs[j].noise] += diverged;
    if (success) row.mean_steps[jobs[j].noise] += steps;
    if (bar) bar->Update(++done);
  };
  QueueOptions options;
  options.rank_timeout_s = config.rank_timeout_s;
  options.fingerprint = ExpertReportJson(report).dump();  // the tasks, noise levels, episodes and seed
  std::unique_ptr<JobSource> source;
  if (owner) {
    std::vector<size_t> ids(jobs.size());
    std::iota(ids.begin(), ids.end(), size_t(0));
    source = std::make_unique<JobServer>(config.cluster, ids, add, options);
  } else {
    source = std::make_unique<JobClient>(*config.cluster, options);
  }
  std::mutex mutex;  // the source, the rows and the bar; MPI calls come from one thread at a time
  const auto start = std::chrono::steady_clock::now();
  auto work = [&] {
    try {
      std::vector<std::unique_ptr<TaskEnv>> envs(config.tasks.size());
      while (true) {
        size_t j = 0;
        JobSource::Next next;
        {
          std::lock_guard<std::mutex> lock(mutex);
          source->Poll(1);
          next = source->Take(&j);
        }
        if (next == JobSource::Next::kDone) return;
        if (next == JobSource::Next::kWait) {
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
          continue;
        }
        const Job& job = jobs[j];
        auto& env = envs[job.task];
        if (!env) env = TaskEnv::Create(config.tasks[job.task], {}, nullptr);
        const uint64_t seed = EpisodeSeed(config.seed, config.tasks[job.task]->Name(), job.index);
        const ExpertEpisode ep = RunExpertEpisode(*env, seed, config.noises[job.noise]);
        std::lock_guard<std::mutex> lock(mutex);
        source->Complete(j, fmt::format("{} {} {}", int(ep.success), int(ep.diverged), ep.steps));
      }
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(mutex);
      source->Stop(e.what());
    }
  };
  std::vector<std::thread> threads;
  for (int w = 1; w < config.workers; ++w) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  if (!source->error().empty()) throw Error(source->error());
  if (bar) bar->Finish();
  for (ExpertRow& row : report.rows)
    for (size_t k = 0; k < num_noise; ++k)
      if (row.successes[k] > 0) row.mean_steps[k] /= row.successes[k];
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

namespace {

std::string Cell(int successes, int trials) {
  const Interval ci = WilsonInterval(successes, trials);
  return fmt::format("{:5.1f}% [{:4.1f}, {:5.1f}]", 100.0 * successes / std::max(trials, 1), 100 * ci.low,
                     100 * ci.high);
}

}  // namespace

std::string FormatExpertTable(const ExpertReport& report) {
  const auto& noises = report.config.noises;
  const int n = report.config.episodes;
  std::string out = "| task | group |";
  std::string rule = "|---|---|";
  for (double noise : noises) {
    out += fmt::format(" success σ={} (95% CI) | steps σ={} |", noise, noise);
    rule += "---|---|";
  }
  out += "\n" + rule + "\n";
  for (const ExpertRow& row : report.rows) {
    out += fmt::format("| {} | {} |", row.task, DifficultyName(row.group));
    for (size_t k = 0; k < noises.size(); ++k) {
      out += fmt::format(" {} | {:.0f} |", Cell(row.successes[k], n), row.mean_steps[k]);
    }
    out += "\n";
  }
  auto summary = [&](const std::string& name, auto keep) {
    std::vector<int> successes(noises.size());
    int tasks = 0;
    for (const ExpertRow& row : report.rows) {
      if (!keep(row)) continue;
      ++tasks;
      for (size_t k = 0; k < noises.size(); ++k) successes[k] += row.successes[k];
    }
    if (tasks == 0) return;
    out += fmt::format("| **{}** | {} tasks |", name, tasks);
    for (size_t k = 0; k < noises.size(); ++k) out += fmt::format(" {} | |", Cell(successes[k], tasks * n));
    out += "\n";
  };
  for (Difficulty group : {Difficulty::kEasy, Difficulty::kMedium, Difficulty::kHard}) {
    summary(std::string(DifficultyName(group)), [group](const ExpertRow& r) { return r.group == group; });
  }
  summary("all", [](const ExpertRow&) { return true; });
  return out;
}

nlohmann::json ExpertReportJson(const ExpertReport& report) {
  nlohmann::json tasks = nlohmann::json::array();
  const int n = report.config.episodes;
  for (const ExpertRow& row : report.rows) {
    nlohmann::json levels = nlohmann::json::array();
    for (size_t k = 0; k < report.config.noises.size(); ++k) {
      const Interval ci = WilsonInterval(row.successes[k], n);
      levels.push_back({{"noise", report.config.noises[k]},
                        {"episodes", n},
                        {"successes", row.successes[k]},
                        {"success_rate", double(row.successes[k]) / n},
                        {"ci95", {ci.low, ci.high}},
                        {"mean_steps_successful", row.mean_steps[k]},
                        {"diverged", row.diverged[k]}});
    }
    tasks.push_back({{"task", row.task}, {"group", DifficultyName(row.group)}, {"results", levels}});
  }
  return {{"seed", report.config.seed}, {"episodes", n}, {"seconds", report.seconds}, {"tasks", tasks}};
}

}  // namespace padbench
