// Throughput benchmarks (`padbench perf`): figures for the README, never test assertions.
#pragma once

#include <string>
#include <vector>

#include "sim/gl_context.h"

namespace padbench {

struct SimPerf {
  std::string task;
  double raw_steps_per_s = 0;      // mj_step loop on the same model
  double env_steps_per_s = 0;      // physics steps/s through Env::Step (frame_skip each)
  double render_fps = 0;           // 64x64 RGB frames/s from the corner camera, one thread
  double collect_frames_per_s = 0; // frames written per second by Collect (render + expert + HDF5)
  std::string gl_renderer;
  std::string gl_backend;
};

struct EvalPerf {
  int episodes = 0;                  // per worker setting
  double episodes_per_min_1 = 0;     // expert on the easy suite, one worker
  double episodes_per_min_2 = 0;     // two workers
  double engine_overhead = 0;        // fraction of episode time outside policy, physics and rendering (W=1)
  double physics_share = 0, render_share = 0, policy_share = 0;
};

// Runs the expert on the easy suite with 2 and then 1 workers (forked workers
// need a process without GL state, so call this before anything renders).
EvalPerf MeasureEval(GlBackend gl, int episodes_per_task = 10);
std::string FormatEvalPerf(const EvalPerf& perf);

struct PolicyPerf {
  std::string spec;
  int threads = 1;
  double p50_ms = 0, p95_ms = 0;  // Act latency after two warm-up calls
  int calls = 0;
  std::string profile;  // one thread: where an Act's time goes, operation by operation (Markdown)
};

struct TrainPerf {
  std::string policy;
  int threads = 0, batch = 0;
  double samples_per_s = 0;
};

// Act latency of each learned policy spec with 1 and 2 torch threads (reach, 64x64 corner view), each
// Act on the observation after the previous chunk ran, as in an episode.
std::vector<PolicyPerf> MeasurePolicies(const std::vector<std::string>& specs, GlBackend gl, int calls = 30);
// Training samples/s of `policy` with its default config on a small dataset collected for the purpose.
TrainPerf MeasureTraining(const std::string& policy, GlBackend gl, int steps = 30, int batch = 64, int threads = 2);
// `family_reports`: the families' own benchmark tables (Family::benchmark), appended as given.
std::string FormatPolicyPerf(const std::vector<PolicyPerf>& acts, const std::vector<TrainPerf>& training,
                             const std::vector<std::string>& family_reports);

// Measures the simulation figures side by side in one run; `seconds` per figure.
SimPerf MeasureSim(GlBackend gl, double seconds = 2.0);
std::string FormatSimPerf(const SimPerf& perf);

}  // namespace padbench
