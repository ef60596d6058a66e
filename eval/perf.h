// Throughput benchmarks (`padbench perf`): figures for the README, never test assertions.
#pragma once

#include <string>

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

// Measures the simulation figures side by side in one run; `seconds` per figure.
SimPerf MeasureSim(GlBackend gl, double seconds = 2.0);
std::string FormatSimPerf(const SimPerf& perf);

}  // namespace padbench
