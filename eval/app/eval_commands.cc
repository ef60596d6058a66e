// eval, compare, merge: the evaluation subcommands.
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "eval/app/commands.h"
#include "eval/cluster/transport.h"
#include "eval/report/compare.h"
#include "eval/engine/engine.h"
#include "eval/bench/learning_curves.h"
#include "eval/report/report.h"
#include "policies/registry.h"
#include "sim/error.h"
#include "sim/json_file.h"
#include "tasks/registry.h"

namespace padbench::cli {
namespace {

void OnSignal(int) { RequestEvalStop(); }

std::string JoinArgs(int argc, char** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) out += (i ? " " : "") + std::string(argv[i]);
  return out;
}

std::pair<int, int> ParseShard(const std::string& s) {
  int i = 0, n = 0, used = 0;
  char slash = 0;
  if (std::sscanf(s.c_str(), "%d%c%d%n", &i, &slash, &n, &used) != 3 || used != int(s.size()) || slash != '/' ||
      n < 1 || i < 0 || i >= n) {
    throw Error(fmt::format("--shard wants i/n with 0 <= i < n, got '{}'", s));
  }
  return {i, n};
}

std::string PolicyHelp() {
  std::string help = "Policy spec, repeatable:";
  for (const auto& [name, what] : PolicyNames()) help += fmt::format("\n  {}: {}", name, what);
  return help;
}

nlohmann::json ReadResults(const std::string& path_or_dir) {
  const bool dir = std::filesystem::is_directory(path_or_dir);
  const std::string path = dir ? path_or_dir + "/results.json" : path_or_dir;
  if (!std::filesystem::exists(path)) {
    throw Error(fmt::format("cannot read {} (give a results.json or an eval output folder)", path_or_dir));
  }
  return ReadJsonFile(path);
}

void AddEval(CLI::App& app, const std::string& command_line) {
  struct Opts {
    EvalConfig config;
    std::vector<std::string> tasks;
    std::string suite = "default", shard = "0/1", gl = "auto";
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("eval", "Evaluate policies on tasks: success, prediction quality, latency");
  cmd->add_option("--policy", o->config.policies, PolicyHelp())->required();
  auto* t = cmd->add_option("--task", o->tasks, "A task (repeatable), instead of a suite");
  cmd->add_option("--suite", o->suite, "Suite: default, all, easy, medium, hard")->capture_default_str()->excludes(t);
  o->config.episodes = 10;
  o->config.workers = 2;
  cmd->add_option("--episodes", o->config.episodes, "Episodes per task and policy")->capture_default_str();
  cmd->add_option("--seed", o->config.seed, "Base seed (episode seeds derive from it)")->check(SeedValidator())->capture_default_str();
  cmd->add_option("--workers", o->config.workers, "Parallel workers (processes, one renderer each)")->capture_default_str();
  cmd->add_option("--batch-envs", o->config.batch_envs,
                  "Episodes each worker runs side by side, batching their Act calls (episodes are grouped by "
                  "index, so outcomes do not depend on --workers)")
      ->capture_default_str();
  cmd->add_option("--out", o->config.out_dir, "Output folder")->required();
  cmd->add_flag("--resume", o->config.resume, "Finish an interrupted run in --out without redoing episodes");
  cmd->add_flag("--force", o->config.force, "Write into an --out that holds files of another kind");
  cmd->add_option("--videos", o->config.videos, "Write mp4 videos of the first K episodes per task and policy")
      ->capture_default_str();
  cmd->add_option("--shard", o->shard, "Evaluate slice i of n (combine with `padbench merge`)")->capture_default_str();
  cmd->add_option("--torch-threads", o->config.torch_threads, "LibTorch threads per worker")->capture_default_str();
  cmd->add_option("--act-timeout", o->config.act_timeout_s,
                  "Seconds an Act call may take; a longer one kills its worker and records policy_timeout")
      ->capture_default_str();
  auto* realtime = cmd->add_flag(
      "--realtime", o->config.timing.realtime,
      "The simulator does not wait for Act: while Act runs the previous chunk goes on, then the arm holds "
      "still; an Act taking L ms delivers its chunk ceil(L / 20 ms) control steps late");
  cmd->add_option("--latency-ms", o->config.timing.latency_ms,
                  "With --realtime: every Act takes this long (reproducible), instead of its measured wall time")
      ->check(CLI::NonNegativeNumber)
      ->needs(realtime);
  cmd->add_option("--gl", o->gl, "GL backend: auto, egl, osmesa")->capture_default_str();
  AddRankTimeout(*cmd, o->config.rank_timeout_s);
  cmd->add_flag("--json", o->json, "Print results.json's aggregated block instead of the summary");
  cmd->footer("Under mpirun (a build with MPI), rank 0 owns --out and hands episodes out to every rank, each "
              "running --workers workers; outcomes equal a local run's. See the README's \"Several machines\".");
  cmd->callback([o, command_line] {
    o->config.tasks.clear();
    for (const std::string& name : o->tasks) o->config.tasks.push_back(FindTask(name));
    if (o->tasks.empty()) o->config.tasks = SuiteTasks(o->suite);
    std::tie(o->config.shard_index, o->config.shard_count) = ParseShard(o->shard);
    o->config.gl = ParseGlBackend(o->gl);
    o->config.command_line = command_line;
    o->config.cluster = MpiWorld();
    const bool owner = !o->config.cluster || o->config.cluster->rank() == 0;
    o->config.progress = !o->json && owner;
    std::signal(SIGINT, OnSignal);
    std::signal(SIGTERM, OnSignal);
    const EvalOutcome outcome = RunEval(o->config);
    if (!owner) {  // rank 0 reports the run
      if (outcome.interrupted) std::exit(130);
      return;
    }
    if (outcome.interrupted) {
      fmt::print(stderr, "interrupted: {} episodes are saved in {}/episodes.jsonl; finish with the same command and --resume\n",
                 outcome.episodes.size(), o->config.out_dir);
      std::exit(130);
    }
    if (o->json) {
      fmt::print("{}\n", outcome.results.at("aggregated").dump(2));
    } else {
      fmt::print("{}\nresults: {}/ (results.json, summary.md, per_task.csv, success.png, latency_cdf.png{})\n",
                 FormatSummary(outcome.results), o->config.out_dir, o->config.videos > 0 ? ", videos/" : "");
    }
  });
}

void AddCompare(CLI::App& app) {
  struct Opts {
    std::string base, next;
    CompareOptions options;
    int tolerance = -1;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("compare", "Compare two eval runs; exit 1 on a significant regression");
  cmd->add_option("BASE", o->base, "Baseline results.json or eval folder")->required();
  cmd->add_option("NEW", o->next, "New results.json or eval folder")->required();
  cmd->add_option("--alpha", o->options.alpha, "Significance level of the one-sided test")->capture_default_str();
  cmd->add_option("--latency-ratio", o->options.latency_ratio, "Fail when new p50 latency exceeds base by this factor")
      ->capture_default_str();
  cmd->add_flag("--different-episodes", o->options.allow_different_episodes,
               "Compare runs of other episodes (another --seed or seed derivation): unpaired; by default an error");
  cmd->add_option("--tolerance", o->tolerance,
                  "Also fail when any task's success count differs from BASE by more than this many episodes, "
                  "either way (for regression slices that should reproduce the baseline)");
  cmd->callback([o] {
    const CompareResult result = Compare(ReadResults(o->base), ReadResults(o->next), o->options);
    fmt::print("{}", FormatCompare(result));
    bool failed = result.regressed;
    if (o->tolerance >= 0) {
      for (const CompareRow& row : result.rows) {
        if (std::abs(row.new_successes - row.base_successes) > o->tolerance) {
          fmt::print("outside tolerance: {} / {}: {} successes, baseline {} (tolerance {})\n", row.policy, row.task,
                     row.new_successes, row.base_successes, o->tolerance);
          failed = true;
        }
      }
      if (!failed) fmt::print("within tolerance: every task within {} episodes of the baseline\n", o->tolerance);
    }
    if (failed) std::exit(1);
  });
}

void AddMerge(CLI::App& app, const std::string& command_line) {
  struct Opts {
    std::vector<std::string> shards;
    std::string out;
    bool force = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("merge", "Combine the outputs of `eval --shard i/n` runs into one result");
  cmd->add_option("DIR", o->shards, "Shard output folders")->required();
  cmd->add_option("--out", o->out, "Output folder for the combined run: new or empty")->required();
  cmd->add_flag("--force", o->force, "Write into a --out that holds files (never a shard folder)");
  cmd->callback([o, command_line] {
    const EvalOutcome outcome = MergeShards(o->shards, o->out, command_line, true, o->force);
    fmt::print("{}\nmerged {} episodes from {} shards into {}/\n", FormatSummary(outcome.results),
               outcome.episodes.size(), o->shards.size(), o->out);
  });
}

void AddCurves(CLI::App& app, const std::string& command_line) {
  struct Opts {
    LearningCurveConfig config;
    std::vector<std::string> runs;
    std::string suite = "default";
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand(
      "curves", "Learning curves: evaluate every snapshot of training runs (train --snapshots), plot success against "
                "action-supervised samples");
  cmd->add_option("--run", o->runs, "NAME=DIR of a training run (repeatable): DIR/samples_*/ and DIR itself")
      ->required();
  cmd->add_option("--suite", o->suite, "Suite: default, all, easy, medium, hard")->capture_default_str();
  cmd->add_option("--episodes", o->config.episodes, "Episodes per task and checkpoint")->capture_default_str();
  cmd->add_option("--seed", o->config.seed, "Base seed of the episodes")->check(SeedValidator())->capture_default_str();
  o->config.workers = 2;
  cmd->add_option("--workers", o->config.workers, "Parallel workers")->capture_default_str();
  cmd->add_option("--eval-dir", o->config.eval_dir, "Folder of the eval runs, one per --run in FOLDER/NAME/ (each resumed when it exists)")->required();
  cmd->add_option("--out", o->config.out_dir, "Folder for learning_curves.{csv,md,png}")->required();
  cmd->callback([o, command_line] {
    for (const std::string& run : o->runs) {
      const size_t eq = run.find('=');
      if (eq == std::string::npos || eq == 0) throw Error(fmt::format("--run wants NAME=DIR, got '{}'", run));
      o->config.runs.push_back({run.substr(0, eq), run.substr(eq + 1)});
    }
    o->config.tasks = SuiteTasks(o->suite);
    o->config.command_line = command_line;
    std::signal(SIGINT, OnSignal);
    std::signal(SIGTERM, OnSignal);
    const auto points = RunLearningCurves(o->config);
    for (const CurvePoint& p : points) {
      fmt::print("{:<20} {:>8} samples  {:5.1f}% [{:.1f}, {:.1f}]  {}\n", p.run, p.robot_samples, 100 * p.rate,
                 100 * p.ci_low, 100 * p.ci_high, p.spec);
    }
    fmt::print("curves: {}/learning_curves.{{csv,md,png}}; episodes: {}/<run>/\n", o->config.out_dir, o->config.eval_dir);
  });
}

}  // namespace

void AddEvalCommands(CLI::App& app, int argc, char** argv) {
  const std::string command_line = JoinArgs(argc, argv);
  AddEval(app, command_line);
  AddCompare(app);
  AddMerge(app, command_line);
  AddCurves(app, command_line);
}

}  // namespace padbench::cli
