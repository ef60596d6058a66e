#include "eval/bench/learning_curves.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "eval/engine/engine.h"
#include "eval/report/plots.h"
#include "eval/report/report.h"
#include "policies/checkpoint.h"
#include "sim/error.h"
#include "sim/json_file.h"

namespace padbench {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// A checkpoint folder as a point of its run's curve (success still unknown).
CurvePoint PointOf(const CurveRun& run, const std::string& dir) {
  const json config = ReadCheckpointJson(dir);
  CurvePoint p;
  p.run = run.name;
  p.spec = fmt::format("{}={}", config.value("policy", ""), dir);
  if (!config.contains("training")) throw Error(fmt::format("{}/config.json has no 'training' block", dir));
  const json& t = config.at("training");
  p.steps = t.value("steps", 0);
  p.threads = t.value("threads", 0);
  p.wall_s = t.value("wall_s", 0.0);
  // Checkpoints from before the protocol did not record samples: batch rows times steps (then
  // video rows were a fraction of the batch, video_ratio).
  const int video_rows = t.value("video_ratio", 0.0) > 0 ? int(std::lround(t.value("batch", 0) * t.value("video_ratio", 0.0))) : 0;
  p.robot_samples = t.value("robot_samples", int64_t(p.steps) * (t.value("batch", 0) - video_rows));
  p.video_samples = t.value("video_samples", int64_t(p.steps) * video_rows);
  return p;
}

}  // namespace

std::vector<CurvePoint> FindCheckpoints(const CurveRun& run) {
  if (!fs::is_directory(run.dir)) throw Error(fmt::format("learning curve '{}': no folder {}", run.name, run.dir));
  if (!fs::exists(run.dir + "/model.pt")) {
    throw Error(fmt::format("learning curve '{}': {} holds no finished checkpoint (model.pt)", run.name, run.dir));
  }
  std::vector<CurvePoint> points;
  for (const auto& entry : fs::directory_iterator(run.dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.rfind("samples_", 0) == 0) points.push_back(PointOf(run, entry.path().string()));
  }
  CurvePoint last = PointOf(run, run.dir);
  const json training = ReadCheckpointJson(run.dir).at("training");
  if (training.value("total_steps", last.steps) != last.steps) {
    throw Error(fmt::format("learning curve '{}': {} is unfinished (step {} of {}); finish it with --resume",
                            run.name, run.dir, last.steps, training.value("total_steps", 0)));
  }
  points.push_back(last);
  std::sort(points.begin(), points.end(),
            [](const CurvePoint& a, const CurvePoint& b) { return a.robot_samples < b.robot_samples; });
  return points;
}

std::vector<CurvePoint> RunLearningCurves(const LearningCurveConfig& config) {
  if (config.runs.empty()) throw Error("curves: give at least one --run NAME=DIR");
  if (config.out_dir.empty() || config.eval_dir.empty()) throw Error("curves: give --out and --eval-dir");
  std::vector<CurvePoint> points;
  for (const CurveRun& run : config.runs) {
    for (CurvePoint& p : FindCheckpoints(run)) points.push_back(std::move(p));
  }
  // One eval run per training run, in eval_dir/<run>/ (resumed when it exists): adding a run
  // to the curves evaluates only that run.
  for (const CurveRun& run : config.runs) {
    EvalConfig eval;
    for (const CurvePoint& p : points)
      if (p.run == run.name) eval.policies.push_back(p.spec);
    eval.tasks = config.tasks;
    eval.episodes = config.episodes;
    eval.seed = config.seed;
    eval.workers = config.workers;
    eval.out_dir = config.eval_dir + "/" + run.name;
    eval.resume = fs::exists(eval.out_dir + "/run.json");
    eval.command_line = config.command_line;
    eval.progress = config.progress;
    const EvalOutcome outcome = RunEval(eval);
    if (outcome.interrupted) throw Error(fmt::format("curves: interrupted; run again to resume {}", eval.out_dir));
    const json& policies = outcome.results.at("aggregated").at("policies");
    for (CurvePoint& p : points) {
      if (p.run != run.name) continue;
      const json& overall = policies.at(p.spec).at("overall");
      p.episodes = overall.at("episodes");
      p.successes = overall.at("successes");
      p.rate = overall.at("success_rate");
      p.ci_low = overall.at("ci95")[0];
      p.ci_high = overall.at("ci95")[1];
    }
  }

  fs::create_directories(config.out_dir);
  std::string csv = "run,checkpoint,robot_samples,video_samples,steps,threads,wall_s,episodes,successes,success_rate,ci_low,ci_high\n";
  std::string md = fmt::format(
      "| run | robot samples | video samples | steps | training wall time | success ({} tasks x {} episodes, 95% CI) |\n"
      "|---|---|---|---|---|---|\n",
      config.tasks.size(), config.episodes);
  std::map<std::string, LineSeries> series;
  std::vector<std::string> order;
  for (const CurvePoint& p : points) {
    csv += fmt::format("{},{},{},{},{},{},{:.0f},{},{},{:.4f},{:.4f},{:.4f}\n", p.run, p.spec, p.robot_samples,
                       p.video_samples, p.steps, p.threads, p.wall_s, p.episodes, p.successes, p.rate, p.ci_low,
                       p.ci_high);
    md += fmt::format("| {} | {} | {} | {} | {:.1f} min | {:.1f}% [{:.1f}, {:.1f}] |\n", p.run, p.robot_samples,
                      p.video_samples, p.steps, p.wall_s / 60, 100 * p.rate, 100 * p.ci_low, 100 * p.ci_high);
    if (!series.count(p.run)) order.push_back(p.run);
    LineSeries& s = series[p.run];
    s.name = p.run;
    s.x.push_back(p.robot_samples / 1000.0);
    s.y.push_back(100 * p.rate);
    s.low.push_back(100 * p.ci_low);
    s.high.push_back(100 * p.ci_high);
  }
  std::vector<LineSeries> lines;
  for (const std::string& run : order) lines.push_back(series[run]);
  WriteFileAtomic(config.out_dir + "/learning_curves.csv", csv);
  WriteFileAtomic(config.out_dir + "/learning_curves.md", md);
  PlotLines(config.out_dir + "/learning_curves.png",
            fmt::format("Success vs. action-supervised samples ({}x{} episodes, seed {}, 95% CI)", config.tasks.size(),
                        config.episodes, config.seed),
            "action-supervised samples (thousands)", "success (%)", lines, /*log_y=*/false, /*y_range=*/{0, 100});
  return points;
}

}  // namespace padbench
