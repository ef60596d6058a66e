#include "eval/bench/perf.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include <unistd.h>

#include <fmt/format.h>

#include "eval/data/collect.h"
#include "eval/engine/engine.h"
#include "eval/metrics/image_quality.h"
#include "eval/engine/rollout.h"
#include "policies/profile.h"
#include "policies/registry.h"
#include "policies/threads.h"
#include "policies/train/trainer.h"
#include "sim/renderer.h"
#include "tasks/registry.h"
#include "tasks/task_env.h"

namespace padbench {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Runs `body` (which returns units of work done) until `seconds` have passed; units per second.
template <typename Body>
double Rate(double seconds, Body body) {
  const auto start = Clock::now();
  double units = 0;
  do {
    units += body();
  } while (Since(start) < seconds);
  return units / Since(start);
}

}  // namespace

SimPerf MeasureSim(GlBackend gl, double seconds) {
  SimPerf perf;
  const auto task = FindTask("pick-place");
  perf.task = std::string(task->Name());

  // Physics: one expert episode is replayed from the same reset through
  // Env::Step, and through a plain loop that writes the mocap targets and
  // finger controls Env produced and calls mj_step: identical physics, so the
  // difference is Env's own overhead.
  auto env = TaskEnv::Create(task, {}, nullptr);
  std::vector<Action> actions;
  RunExpertEpisode(*env, 1, 0.0, [&](const Observation&, const Action& a) { actions.push_back(a); });
  Env& sim = env->env();
  const mjModel& m = sim.model();
  mjData& d = sim.mutable_data();
  const int frame_skip = sim.config().frame_skip;
  std::vector<std::vector<mjtNum>> controls;  // per step: mocap_pos then ctrl
  env->Reset(1);
  for (const Action& a : actions) {
    sim.Step(a);
    controls.emplace_back(d.mocap_pos, d.mocap_pos + 3 * m.nmocap);
    controls.back().insert(controls.back().end(), d.ctrl, d.ctrl + m.nu);
  }
  auto through_env = [&] {
    env->Reset(1);
    for (const Action& a : actions) sim.Step(a);
    return double(actions.size()) * frame_skip;
  };
  auto raw = [&] {
    env->Reset(1);
    for (const auto& c : controls) {
      std::copy_n(c.data(), 3 * m.nmocap, d.mocap_pos);
      std::copy_n(c.data() + 3 * m.nmocap, m.nu, d.ctrl);
      for (int k = 0; k < frame_skip; ++k) mj_step(&m, &d);
    }
    return double(controls.size()) * frame_skip;
  };
  // Alternating short rounds, best of each: both see the same machine state.
  constexpr int kRounds = 8;
  for (int round = 0; round < kRounds; ++round) {
    perf.env_steps_per_s = std::max(perf.env_steps_per_s, Rate(seconds / kRounds, through_env));
    perf.raw_steps_per_s = std::max(perf.raw_steps_per_s, Rate(seconds / kRounds, raw));
  }

  // Rendering: one renderer, 64x64 RGB from the corner camera, the scene moving.
  auto renderer = Renderer::Create({gl});
  perf.gl_renderer = renderer->gl_renderer();
  perf.gl_backend = GlBackendName(renderer->backend());
  auto view = TaskEnv::Create(task, {}, renderer.get());
  view->Reset(1);
  Image rgb;
  perf.render_fps = Rate(seconds, [&] {
    for (int i = 0; i < 10; ++i) {
      view->env().Step({0.3f, 0.0f, 0.0f, 0.0f});
      if (view->env().steps() > 40) view->Reset(1);
      renderer->Render(view->env(), "corner", 64, 64, &rgb);
    }
    return 10.0;
  });

  // Collection: the full pipeline into a temporary HDF5 file.
  CollectConfig collect;
  collect.tasks = {FindTask("reach"), task};
  collect.episodes = 3;
  collect.gl = gl;
  collect.out = (std::filesystem::temp_directory_path() / fmt::format("padbench_perf_{}.hdf5", ::getpid())).string();
  const CollectSummary summary = Collect(collect, /*progress=*/false);
  std::filesystem::remove(collect.out);
  perf.collect_frames_per_s = summary.frames / summary.seconds;
  return perf;
}

EvalPerf MeasureEval(GlBackend gl, int episodes_per_task) {
  EvalPerf perf;
  const auto root = std::filesystem::temp_directory_path() / fmt::format("padbench_perf_eval_{}", ::getpid());
  std::filesystem::remove_all(root);
  EvalConfig config;
  config.policies = {"expert"};
  config.tasks = SuiteTasks("easy");
  config.episodes = episodes_per_task;
  config.gl = gl;
  config.progress = false;
  config.write_plots = false;
  perf.episodes = int(config.tasks.size()) * episodes_per_task;
  for (int workers : {2, 1}) {
    config.workers = workers;
    config.out_dir = (root / fmt::format("w{}", workers)).string();
    const auto start = Clock::now();
    const EvalOutcome outcome = RunEval(config);
    const double rate = 60.0 * outcome.episodes_run / Since(start);
    (workers == 1 ? perf.episodes_per_min_1 : perf.episodes_per_min_2) = rate;
    if (workers != 1) continue;
    double wall = 0, policy = 0, physics = 0, render = 0;
    for (const EpisodeRecord& r : outcome.episodes) {
      wall += r.wall_s;
      policy += r.policy_s;
      physics += r.physics_s;
      render += r.render_s;
    }
    perf.engine_overhead = (wall - policy - physics - render) / wall;
    perf.policy_share = policy / wall;
    perf.physics_share = physics / wall;
    perf.render_share = render / wall;
  }
  std::filesystem::remove_all(root);
  return perf;
}

std::string FormatEvalPerf(const EvalPerf& p) {
  return fmt::format(
      "| figure | value | target |\n|---|---|---|\n"
      "| expert, easy suite, 1 worker | {:.0f} episodes/min | |\n"
      "| expert, easy suite, 2 workers | {:.0f} episodes/min ({:.2f}x) | >= 1.7x |\n"
      "| engine overhead per step (outside policy, physics, rendering) | {:.2f}% | < 5% |\n"
      "| step time split: rendering / physics / policy | {:.1f}% / {:.1f}% / {:.1f}% | |\n"
      "({} episodes per setting)\n",
      p.episodes_per_min_1, p.episodes_per_min_2, p.episodes_per_min_2 / p.episodes_per_min_1,
      100 * p.engine_overhead, 100 * p.render_share, 100 * p.physics_share, 100 * p.policy_share, p.episodes);
}

std::vector<PolicyPerf> MeasurePolicies(const std::vector<std::string>& specs, GlBackend gl, int calls) {
  std::vector<PolicyPerf> out;
  auto renderer = Renderer::Create({gl});
  for (const std::string& spec : specs) {
    auto policy = MakePolicy(spec);
    auto env = MakeTaskEnv(FindTask("reach"), *policy, renderer.get());
    Observation obs;
    auto start_episode = [&] {
      obs = env->Reset(3);
      policy->Reset({"reach", obs.instruction, 3, 100, nullptr, nullptr});
      policy->Observe(obs);
    };
    // On to the next Act's observation, as in an episode (untimed): each Act sees new frames
    // and a replanning policy's every kind of Act is measured.
    auto run_chunk = [&](const PolicyOutput& output) {
      for (const Action& planned : output.actions) {
        env->Step(output.kind == ActionKind::kWaypoint
                      ? WaypointAction(planned, obs.ee_pos, env->env().config().action_scale)
                      : planned);
        obs = env->Observe();
        policy->Observe(obs);
      }
    };
    for (int threads : {1, 2}) {
      SetTorchThreads(threads);
      start_episode();
      std::vector<double> ms;
      for (int i = 0; i < calls + 2; ++i) {
        const auto start = Clock::now();
        const PolicyOutput output = policy->Act(obs);
        if (i >= 2) ms.push_back(1e3 * Since(start));  // the first calls warm up allocators and caches
        run_chunk(output);
      }
      const LatencyStats st = Summarize(ms);
      out.push_back({spec, threads, st.p50, st.p95, st.count, ""});
      if (threads == 1) {  // the same Acts again, operation by operation
        start_episode();
        PolicyOutput output;
        const OpProfile profile =
            ProfileOps(calls, [&] { output = policy->Act(obs); }, [&] { run_chunk(output); });
        out.back().profile = FormatOpProfile(spec + ", 1 thread", profile);
      }
    }
  }
  return out;
}

TrainPerf MeasureTraining(const std::string& policy, GlBackend gl, int steps, int batch, int threads) {
  const auto root = std::filesystem::temp_directory_path() / fmt::format("padbench_perf_train_{}", ::getpid());
  std::filesystem::create_directories(root);
  CollectConfig collect;
  collect.tasks = {FindTask("reach"), FindTask("drawer-open")};
  collect.episodes = 5;
  collect.gl = gl;
  collect.out = (root / "data.hdf5").string();
  Collect(collect, false);
  train::TrainConfig tc;
  tc.policy = policy;
  tc.data = {collect.out};
  tc.out = (root / "ckpt").string();
  tc.steps = steps;
  tc.batch = batch;
  tc.threads = threads;
  tc.log_every = steps;
  tc.val_every = steps;
  tc.checkpoint_every = steps;
  tc.progress = false;
  const auto start = Clock::now();
  train::Train(tc);
  // Data loading and the final checkpoint are part of the time: a slight underestimate.
  const double rate = double(steps) * batch / Since(start);
  std::filesystem::remove_all(root);
  return {policy, threads, batch, rate};
}

std::string FormatPolicyPerf(const std::vector<PolicyPerf>& acts, const std::vector<TrainPerf>& training,
                             const std::vector<std::string>& family_reports) {
  std::string out = "| policy | torch threads | Act p50 | Act p95 |\n|---|---|---|---|\n";
  for (const PolicyPerf& p : acts) {
    out += fmt::format("| {} | {} | {:.1f} ms | {:.1f} ms |\n", p.spec, p.threads, p.p50_ms, p.p95_ms);
  }
  out += "\n| training | threads | batch | samples/s |\n|---|---|---|---|\n";
  for (const TrainPerf& t : training) {
    out += fmt::format("| {} | {} | {} | {:.0f} |\n", t.policy, t.threads, t.batch, t.samples_per_s);
  }
  for (const PolicyPerf& p : acts)
    if (!p.profile.empty()) out += "\n" + p.profile;
  for (const std::string& report : family_reports) out += "\n" + report;
  return out;
}

std::string FormatSimPerf(const SimPerf& p) {
  return fmt::format(
      "| figure | value | target |\n|---|---|---|\n"
      "| raw mj_step ({}) | {:.0f} steps/s | |\n"
      "| Env::Step physics | {:.0f} steps/s ({:.3f} of raw) | >= 0.95 of raw |\n"
      "| render 64x64 RGB, 1 thread | {:.0f} frames/s | >= 250 |\n"
      "| collect (expert + render + HDF5) | {:.0f} frames/s | |\n"
      "GL: {} ({})\n",
      p.task, p.raw_steps_per_s, p.env_steps_per_s, p.env_steps_per_s / p.raw_steps_per_s, p.render_fps,
      p.collect_frames_per_s, p.gl_renderer, p.gl_backend);
}

}  // namespace padbench
