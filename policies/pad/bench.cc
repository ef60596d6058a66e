#include "policies/pad/bench.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "policies/learned.h"
#include "policies/pad/model.h"
#include "policies/threads.h"

namespace padbench {
namespace {

// Median seconds of `fn` over `repeats` calls after two warm-up calls.
template <typename Fn>
double MedianSeconds(int repeats, Fn&& fn) {
  std::vector<double> s;
  for (int i = 0; i < repeats + 2; ++i) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    if (i >= 2) s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::nth_element(s.begin(), s.begin() + s.size() / 2, s.end());
  return s[s.size() / 2];
}

}  // namespace

DenoiserThroughput MeasureDenoiser(const std::string& dir, int threads, int batch) {
  SetTorchThreads(threads);
  pad::Model model = LoadCheckpoint(dir, pad::kName, pad::ModelFromCheckpoint);
  model->eval();
  torch::NoGradGuard no_grad;
  const pad::Config& c = model->config();
  const int64_t ch = c.autoencoder_config.latent_channels, h = c.autoencoder_config.latent_size();
  const auto observed = torch::randn({batch, c.obs_horizon, ch, h, h});
  const auto future = c.future_frames > 0 ? torch::randn({batch, ch * c.future_frames, h, h}) : torch::Tensor();
  const auto proprio = torch::randn({batch, c.obs_horizon, 4}), actions = torch::randn({batch, c.pred_horizon, 4});
  const auto t = torch::full({batch}, 50, torch::kLong), robot = torch::ones({batch}, torch::kBool);
  const auto text = model->Text(std::vector<std::string>(batch, "open the drawer"));
  DenoiserThroughput out;
  out.threads = threads;
  out.batch = batch;
  const double s = MedianSeconds(20, [&] { model->Denoise(observed, future, proprio, actions, t, text, robot); });
  out.forward_ms = 1e3 * s;
  out.forward_gflops = model->DenoiseFlops() * batch / s / 1e9;
  const pad::ModelImpl::StepFn step = model->Steps(observed, proprio, text, {50});
  const double fused = MedianSeconds(20, [&] { step(0, future, actions); });
  out.fused_ms = 1e3 * fused;
  out.fused_gflops = model->DenoiseFlops() * batch / fused / 1e9;
  const auto a = torch::randn({1024, 1024}), b = torch::randn({1024, 1024});
  out.matmul_gflops = 2.0 * 1024 * 1024 * 1024 / MedianSeconds(10, [&] { torch::mm(a, b); }) / 1e9;
  return out;
}

std::string DenoiserReport(const std::string& dir) {
  std::string out =
      "| PAD denoiser forward | threads | batch | Denoise (LibTorch ops) | GFLOP/s | fused step | GFLOP/s | "
      "1024^2 matmul GFLOP/s | ratio (fused) |\n|---|---|---|---|---|---|---|---|---|\n";
  for (int threads : {1, 2}) {
    for (int batch : {1, 64}) {
      const DenoiserThroughput d = MeasureDenoiser(dir, threads, batch);
      out += fmt::format("| | {} | {} | {:.2f} ms | {:.1f} | {:.2f} ms | {:.1f} | {:.1f} | {:.2f} |\n", d.threads,
                         d.batch, d.forward_ms, d.forward_gflops, d.fused_ms, d.fused_gflops, d.matmul_gflops,
                         d.fused_gflops / d.matmul_gflops);
    }
  }
  return out;
}

}  // namespace padbench
