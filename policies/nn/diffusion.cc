#include "policies/nn/diffusion.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "sim/error.h"

namespace padbench::nn {

BetaSchedule ParseBetaSchedule(const std::string& name) {
  if (name == "linear") return BetaSchedule::kLinear;
  if (name == "squaredcos") return BetaSchedule::kSquaredCosine;
  throw Error(fmt::format("unknown beta schedule '{}'; valid: linear, squaredcos", name));
}

std::string BetaScheduleName(BetaSchedule schedule) {
  return schedule == BetaSchedule::kLinear ? "linear" : "squaredcos";
}

void WriteScheduleJson(const NoiseScheduleConfig& schedule, nlohmann::json& config) {
  config["train_diffusion_steps"] = schedule.train_steps;
  config["beta_schedule"] = BetaScheduleName(schedule.schedule);
}

void ReadScheduleJson(const ConfigReader& reader, NoiseScheduleConfig& schedule) {
  reader.Read("train_diffusion_steps", schedule.train_steps);
  std::string beta = BetaScheduleName(schedule.schedule);
  reader.Read("beta_schedule", beta);
  schedule.schedule = ParseBetaSchedule(beta);
}

NoiseSchedule::NoiseSchedule(const NoiseScheduleConfig& config) : config_(config) {
  const int T = config.train_steps;
  if (T < 2) throw Error(fmt::format("diffusion needs at least 2 train steps, got {}", T));
  auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  if (config.schedule == BetaSchedule::kLinear) {
    betas_ = torch::linspace(config.beta_start, config.beta_end, T, f64);
  } else {
    // alpha_bar(s) = cos^2((s + 0.008) / 1.008 * pi / 2), betas capped at 0.999 (Nichol & Dhariwal 2021).
    auto alpha_bar = [](double s) { return std::pow(std::cos((s + 0.008) / 1.008 * M_PI / 2), 2); };
    std::vector<double> betas(T);
    for (int i = 0; i < T; ++i) betas[i] = std::min(1.0 - alpha_bar((i + 1.0) / T) / alpha_bar(double(i) / T), 0.999);
    betas_ = torch::tensor(betas, f64);
  }
  alphas_cumprod_ = torch::cumprod(1.0 - betas_, 0);
  alpha_bar_.assign(alphas_cumprod_.data_ptr<double>(), alphas_cumprod_.data_ptr<double>() + T);
}

torch::Tensor NoiseSchedule::AddNoise(const torch::Tensor& x0, const torch::Tensor& eps, const torch::Tensor& t) const {
  auto abar = alphas_cumprod_.index_select(0, t.to(torch::kLong)).to(x0.dtype());
  std::vector<int64_t> shape(x0.dim(), 1);
  shape[0] = x0.size(0);
  abar = abar.view(shape);
  return abar.sqrt() * x0 + (1.0 - abar).sqrt() * eps;
}

torch::Tensor NoiseSchedule::PredictX0(const torch::Tensor& xt, const torch::Tensor& eps, int t) const {
  const double abar = AlphaBar(t);
  auto x0 = (xt - std::sqrt(1.0 - abar) * eps) / std::sqrt(abar);
  return config_.clip_sample ? x0.clamp(-1.0, 1.0) : x0;
}

torch::Tensor NoiseSchedule::DdpmMean(const torch::Tensor& xt, const torch::Tensor& eps, int t) const {
  const double abar = AlphaBar(t), abar_prev = AlphaBar(t - 1);
  const double beta = betas_[t].item<double>(), alpha = 1.0 - beta;
  const auto x0 = PredictX0(xt, eps, t);
  return (std::sqrt(abar_prev) * beta / (1.0 - abar)) * x0 + (std::sqrt(alpha) * (1.0 - abar_prev) / (1.0 - abar)) * xt;
}

torch::Tensor NoiseSchedule::DdpmStep(const torch::Tensor& xt, const torch::Tensor& eps, int t,
                                      const torch::Tensor& noise) const {
  auto mean = DdpmMean(xt, eps, t);
  if (t == 0) return mean;
  const double variance = (1.0 - AlphaBar(t - 1)) / (1.0 - AlphaBar(t)) * betas_[t].item<double>();
  return mean + std::sqrt(std::max(variance, 1e-20)) * noise;
}

std::vector<int> NoiseSchedule::DdimTimesteps(int n) const {
  const int T = config_.train_steps;
  if (n < 1 || n > T) throw Error(fmt::format("DDIM steps must be in [1, {}], got {}", T, n));
  std::vector<int> steps;
  for (int i = n - 1; i >= 0; --i) steps.push_back(i * T / n);
  return steps;
}

torch::Tensor NoiseSchedule::DdimStep(const torch::Tensor& xt, const torch::Tensor& eps, int t, int t_prev) const {
  if (xt.scalar_type() == torch::kFloat && eps.scalar_type() == torch::kFloat && !xt.requires_grad() &&
      !eps.requires_grad() && xt.sizes() == eps.sizes()) {
    // The expressions below, element by element in float.
    const double abar = AlphaBar(t), abar_prev = AlphaBar(t_prev);
    const float noise = float(std::sqrt(1.0 - abar)), signal = float(std::sqrt(abar)),
                to_signal = float(std::sqrt(abar_prev)), to_noise = float(std::sqrt(1.0 - abar_prev));
    const bool clip = config_.clip_sample;
    const torch::Tensor x = xt.contiguous(), e = eps.contiguous();
    torch::Tensor out = torch::empty_like(x);
    const float *px = x.data_ptr<float>(), *pe = e.data_ptr<float>();
    float* po = out.data_ptr<float>();
    for (int64_t i = 0, n = x.numel(); i < n; ++i) {
      float x0 = (px[i] - noise * pe[i]) / signal;
      if (clip) x0 = std::min(1.0f, std::max(-1.0f, x0));
      po[i] = to_signal * x0 + to_noise * ((px[i] - signal * x0) / noise);
    }
    return out;
  }
  const auto x0 = PredictX0(xt, eps, t);
  const double abar_prev = AlphaBar(t_prev);
  // With clipping, re-derive the noise direction from the clipped x0 (as diffusers does).
  const double abar = AlphaBar(t);
  const auto eps_used = (xt - std::sqrt(abar) * x0) / std::sqrt(1.0 - abar);
  return std::sqrt(abar_prev) * x0 + std::sqrt(1.0 - abar_prev) * eps_used;
}

}  // namespace padbench::nn
