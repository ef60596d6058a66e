// How well PAD's denoiser uses the CPU: its forward pass's achieved GFLOP/s against a large
// matrix multiplication measured in the same process (torch-free interface for `padbench perf`).
#pragma once

#include <string>

namespace padbench {

struct DenoiserThroughput {
  int threads = 0, batch = 0;
  double forward_ms = 0;       // median of one Denoise call (LibTorch operations)
  double forward_gflops = 0;   // counted multiply-adds x 2 (linear layers and attention) per second
  double fused_ms = 0;         // median of one step of the fused path Sample runs (model.h Steps)
  double fused_gflops = 0;
  double matmul_gflops = 0;    // 1024x1024 float matmul, same threads
};

// Runs the denoiser of the PAD checkpoint in `dir` on random inputs of `batch` rows.
DenoiserThroughput MeasureDenoiser(const std::string& dir, int threads, int batch);
// MeasureDenoiser at batch 1 (what Act runs) and 64 (a training batch), 1 and 2 threads, as a
// Markdown table: PAD's figures for `padbench perf --policies`. The ratio is the fused path's
// GFLOP/s over the matmul's.
std::string DenoiserReport(const std::string& dir);

}  // namespace padbench
