// tasks, render, experts, collect, perf: the simulation-side subcommands.
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "eval/app/commands.h"
#include "eval/cluster/transport.h"
#include "eval/data/collect.h"
#include "eval/data/experts.h"
#include "eval/bench/perf.h"
#include "eval/data/sheet.h"
#include "policies/family.h"
#include "policies/registry.h"
#include "sim/assets.h"
#include "sim/error.h"
#include "sim/image_io.h"
#include "tasks/registry.h"
#include "tasks/task_env.h"

namespace padbench::cli {
namespace {

// --task T | --suite S, resolved to tasks (errors list the valid names).
struct TaskSelection {
  std::string task;
  std::string suite;

  void AddTo(CLI::App& cmd, const std::string& default_suite) {
    suite = default_suite;
    auto* t = cmd.add_option("--task", task, "One task (see `padbench tasks`)");
    auto* s = cmd.add_option("--suite", suite, "Suite: default, all, easy, medium, hard")->capture_default_str();
    t->excludes(s);
  }
  std::vector<std::shared_ptr<const Task>> Resolve() const {
    if (!task.empty()) return {FindTask(task)};
    return SuiteTasks(suite);
  }
};

void AddTasks(CLI::App& app) {
  auto* cmd = app.add_subcommand("tasks", "List the tasks: name, group, max steps, instruction");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print JSON (with every paraphrase)");
  cmd->callback([json] {
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& t : AllTasks()) {
        out.push_back({{"name", t->Name()}, {"group", DifficultyName(t->Group())}, {"max_steps", t->MaxSteps()},
                       {"instructions", t->info().instructions}});
      }
      fmt::print("{}\n", out.dump(2));
      return;
    }
    fmt::print("{:<18} {:<7} {:>9}  {}\n", "task", "group", "max steps", "instruction");
    for (const auto& t : AllTasks()) {
      fmt::print("{:<18} {:<7} {:>9}  {}\n", t->Name(), DifficultyName(t->Group()), t->MaxSteps(),
                 t->info().instructions[0]);
    }
  });
}

void AddRender(CLI::App& app) {
  struct Opts {
    std::string task, out, camera = "corner", gl = "auto", depth_out, mask_out;
    uint64_t seed = 0;
    int size = 256, steps = 0;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("render", "Render a task's first observation (or after N expert steps) to PNG");
  cmd->add_option("--task", o->task, "Task name")->required();
  cmd->add_option("--seed", o->seed, "Episode seed")->check(SeedValidator())->capture_default_str();
  cmd->add_option("--out", o->out, "Output PNG")->required();
  cmd->add_option("--camera", o->camera, "Camera name (corner, front, wrist)")->capture_default_str();
  cmd->add_option("--size", o->size, "Image height and width in pixels")->capture_default_str();
  cmd->add_option("--expert-steps", o->steps, "Run the scripted expert this many steps first")->capture_default_str();
  cmd->add_option("--depth-out", o->depth_out, "Also write depth as an 8-bit PNG (near = bright)");
  cmd->add_option("--mask-out", o->mask_out,
                  "Also write the object mask (robot and movable objects, what masked PSNR scores) as a PNG");
  cmd->add_option("--gl", o->gl, "GL backend: auto, egl, osmesa")->capture_default_str();
  cmd->callback([o] {
    auto renderer = Renderer::Create({ParseGlBackend(o->gl)});
    TaskEnvConfig config;
    config.cameras = {o->camera};
    config.image_size = o->size;
    config.depth = !o->depth_out.empty();
    auto env = TaskEnv::Create(FindTask(o->task), config, renderer.get());
    Observation obs = env->Reset(o->seed);
    if (o->steps > 0) {
      auto expert = env->task().MakeExpert(env->env());
      for (int i = 0; i < o->steps; ++i) env->Step(expert->Act(env->env()));
      obs = env->Observe();
    }
    WritePng(o->out, obs.rgb.at(o->camera));
    if (config.depth) {
      const DepthImage& d = obs.depth.at(o->camera);
      float lo = 1e9f, hi = 0;
      for (float v : d.metres) lo = std::min(lo, v), hi = std::max(hi, v);
      Image vis(d.height, d.width, 3);
      for (size_t i = 0; i < d.metres.size(); ++i) {
        const auto v = uint8_t(255.0f * (1.0f - (d.metres[i] - lo) / std::max(hi - lo, 1e-6f)));
        vis.pixels[3 * i] = vis.pixels[3 * i + 1] = vis.pixels[3 * i + 2] = v;
      }
      WritePng(o->depth_out, vis);
      fmt::print("depth {:.3f}..{:.3f} m -> {}\n", lo, hi, o->depth_out);
    }
    if (!o->mask_out.empty()) {
      const Image mask = env->ObjectMask(o->camera);
      Image vis(mask.height, mask.width, 3);
      for (size_t i = 0; i < mask.pixels.size(); ++i) vis.pixels[3 * i] = vis.pixels[3 * i + 1] = vis.pixels[3 * i + 2] = mask.pixels[i];
      WritePng(o->mask_out, vis);
      fmt::print("object mask -> {}\n", o->mask_out);
    }
    fmt::print("{} seed {} ({}): \"{}\" -> {} [{} on {}]\n", o->task, o->seed, o->camera, obs.instruction, o->out,
               GlBackendName(renderer->backend()), renderer->gl_renderer());
  });
}

void AddExperts(CLI::App& app) {
  struct Opts {
    TaskSelection tasks;
    int episodes = 100, workers = 2;
    uint64_t seed = 0;
    std::vector<double> noise{0.0, 0.1};
    bool json = false;
    std::string out;
    double rank_timeout_s = 30;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("experts", "Success of the scripted experts per task and group (no rendering)");
  o->tasks.AddTo(*cmd, "default");
  cmd->add_option("--episodes", o->episodes, "Episodes per task and noise level")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Base seed")->check(SeedValidator())->capture_default_str();
  cmd->add_option("--noise", o->noise, "Action noise levels (Gaussian sigma in action units)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--workers", o->workers, "Threads (per rank under mpirun)")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print JSON instead of the table");
  cmd->add_option("--out", o->out, "Also write the JSON report to this file");
  AddRankTimeout(*cmd, o->rank_timeout_s);
  cmd->callback([o] {
    if (o->episodes < 1) throw Error("--episodes must be >= 1");
    if (o->workers < 1) throw Error("--workers must be >= 1");
    ExpertRunConfig config;
    config.cluster = MpiWorld();
    config.rank_timeout_s = o->rank_timeout_s;
    const bool owner = !config.cluster || config.cluster->rank() == 0;
    config.tasks = o->tasks.Resolve();
    config.episodes = o->episodes;
    config.seed = o->seed;
    config.noises = o->noise;
    config.workers = o->workers;
    const ExpertReport report = RunExperts(config, /*progress=*/!o->json);
    if (!owner) return;  // rank 0 reports
    const nlohmann::json json = ExpertReportJson(report);
    if (!o->out.empty()) {
      std::ofstream(o->out) << json.dump(2) << "\n";
    }
    if (o->json) {
      fmt::print("{}\n", json.dump(2));
    } else {
      fmt::print("Scripted experts, {} episodes per task and noise level, seed {} ({:.1f} s)\n\n{}", o->episodes,
                 o->seed, report.seconds, FormatExpertTable(report));
    }
  });
}

void AddCollect(CLI::App& app) {
  struct Opts {
    TaskSelection tasks;
    CollectConfig config;
    std::string gl = "auto";
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("collect", "Record scripted-expert demonstrations to HDF5 (robomimic layout)");
  o->tasks.AddTo(*cmd, "");
  cmd->add_option("--episodes", o->config.episodes, "Episodes written per task")->capture_default_str();
  cmd->add_option("--seed", o->config.seed, "Base seed")->check(SeedValidator())->capture_default_str();
  cmd->add_option("--out", o->config.out, "Output .hdf5 file")->required();
  cmd->add_option("--image-size", o->config.env.image_size, "Image height and width")->capture_default_str();
  cmd->add_option("--cameras", o->config.env.cameras, "Comma-separated cameras (corner, front, wrist)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_flag("--depth", o->config.env.depth, "Also store metric depth per camera");
  cmd->add_option("--noise", o->config.noise, "Expert action noise sigma")->capture_default_str();
  cmd->add_flag("--video-only", o->config.video_only, "Omit actions (action-free video for co-training)");
  cmd->add_flag("--keep-failures", o->config.keep_failures, "Also write episodes the expert failed");
  cmd->add_flag("--paraphrases", o->config.env.sample_instruction,
                "Draw a paraphrase of the instruction per episode (default: the canonical one)");
  cmd->add_option("--gl", o->gl, "GL backend: auto, egl, osmesa")->capture_default_str();
  AddRankTimeout(*cmd, o->config.rank_timeout_s);
  cmd->callback([o] {
    if (o->tasks.task.empty() && o->tasks.suite.empty()) throw Error("collect needs --task or --suite");
    o->config.tasks = o->tasks.Resolve();
    o->config.gl = ParseGlBackend(o->gl);
    o->config.cluster = MpiWorld();
    const bool owner = !o->config.cluster || o->config.cluster->rank() == 0;
    const CollectSummary s = Collect(o->config, /*progress=*/owner);
    if (!owner) return;  // rank 0 wrote the file
    fmt::print("wrote {} episodes ({} frames, {} attempts) to {} in {:.1f} s ({:.0f} frames/s)\n", s.episodes,
               s.frames, s.attempts, o->config.out, s.seconds, s.frames / s.seconds);
  });
}

void AddPerf(CLI::App& app) {
  struct Opts {
    bool sim = false, eval = false, policies = false;
    std::vector<std::string> specs;  // default: ShippedPolicySpecs()
    double seconds = 2.0;
    int episodes = 10;
    std::string gl = "auto";
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("perf", "Throughput benchmarks (figures for the README, not pass/fail tests)");
  cmd->add_flag("--sim", o->sim, "Physics (Env::Step vs raw mj_step), 64x64 rendering, collection");
  cmd->add_flag("--eval", o->eval, "Evaluation engine: episodes/min with 1 and 2 workers, engine overhead");
  cmd->add_flag("--policies", o->policies,
                "Act latency of learned policies (1 and 2 threads), training samples/s, PAD denoiser GFLOP/s vs matmul");
  cmd->add_option("--policy", o->specs, "Policy specs for --policies (default: the shipped checkpoints)");
  cmd->add_option("--seconds", o->seconds, "Measuring time per --sim figure")->capture_default_str();
  cmd->add_option("--episodes", o->episodes, "Episodes per task for --eval")->capture_default_str();
  cmd->add_option("--gl", o->gl, "GL backend: auto, egl, osmesa")->capture_default_str();
  cmd->callback([o] {
    if (!o->sim && !o->eval && !o->policies) throw Error("perf: choose at least one benchmark: --sim, --eval, --policies");
    const GlBackend gl = ParseGlBackend(o->gl);
    // --eval first: its forked workers need a process that has not rendered yet.
    if (o->eval) fmt::print("{}\n", FormatEvalPerf(MeasureEval(gl, o->episodes)));
    if (o->sim) fmt::print("{}\n", FormatSimPerf(MeasureSim(gl, o->seconds)));
    if (o->policies) {
      if (o->specs.empty()) o->specs = ShippedPolicySpecs();
      const auto acts = MeasurePolicies(o->specs, gl);
      std::vector<TrainPerf> training;
      std::vector<std::string> reports;
      std::set<std::string> trained;
      for (const std::string& spec : o->specs) {
        const PolicySpec parsed = ParsePolicySpec(spec);
        const Family& family = FindFamily(parsed.name);
        if (family.trainer && trained.insert(parsed.name).second) training.push_back(MeasureTraining(parsed.name, gl));
        if (family.benchmark) reports.push_back(family.benchmark(parsed.path));
      }
      fmt::print("{}", FormatPolicyPerf(acts, training, reports));
    }
  });
}

void AddSheet(CLI::App& app) {
  struct Opts {
    TaskSelection tasks;
    SheetConfig config;
    std::string out, gl = "auto";
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("sheet", "Contact sheet: each task's first frame and a mid-episode expert frame");
  o->tasks.AddTo(*cmd, "default");
  cmd->add_option("--out", o->out, "Output PNG")->required();
  cmd->add_option("--camera", o->config.camera, "Camera")->capture_default_str();
  cmd->add_option("--size", o->config.image_size, "Rendered size (what a policy sees)")->capture_default_str();
  cmd->add_option("--scale", o->config.scale, "Upscaling for viewing")->capture_default_str();
  cmd->add_option("--seed", o->config.seed, "Base seed")->check(SeedValidator())->capture_default_str();
  cmd->add_option("--gl", o->gl, "GL backend: auto, egl, osmesa")->capture_default_str();
  cmd->callback([o] {
    o->config.tasks = o->tasks.Resolve();
    o->config.gl = ParseGlBackend(o->gl);
    WritePng(o->out, MakeContactSheet(o->config));
    fmt::print("wrote {}\n", o->out);
  });
}

}  // namespace

void AddSimCommands(CLI::App& app) {
  AddTasks(app);
  AddRender(app);
  AddExperts(app);
  AddCollect(app);
  AddPerf(app);
  AddSheet(app);
}

}  // namespace padbench::cli
