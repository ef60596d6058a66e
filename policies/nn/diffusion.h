// Noise schedules for diffusion models: DDPM training targets, DDPM and DDIM sampling,
// epsilon prediction. Shared by every diffusion policy (Diffusion Policy, PAD).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "policies/checkpoint.h"

namespace padbench::nn {

enum class BetaSchedule { kLinear, kSquaredCosine };

struct NoiseScheduleConfig {
  int train_steps = 100;                              // T
  BetaSchedule schedule = BetaSchedule::kSquaredCosine;  // Nichol & Dhariwal's cosine schedule
  double beta_start = 1e-4, beta_end = 0.02;          // linear schedule only
  bool clip_sample = true;                            // clamp predicted x0 to [-1, 1]
};

BetaSchedule ParseBetaSchedule(const std::string& name);  // "linear" | "squaredcos"
std::string BetaScheduleName(BetaSchedule schedule);

// The schedule's keys in a model's config.json ("train_diffusion_steps", "beta_schedule"),
// shared by every diffusion policy's config.
void WriteScheduleJson(const NoiseScheduleConfig& schedule, nlohmann::json& config);
void ReadScheduleJson(const ConfigReader& reader, NoiseScheduleConfig& schedule);

class NoiseSchedule {
 public:
  explicit NoiseSchedule(const NoiseScheduleConfig& config = {});
  int train_steps() const { return config_.train_steps; }
  const NoiseScheduleConfig& config() const { return config_; }
  // Cumulative products of alphas, float64 [T].
  const torch::Tensor& alphas_cumprod() const { return alphas_cumprod_; }

  // Forward noising q(x_t | x_0) = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps; t: int64 [B].
  torch::Tensor AddNoise(const torch::Tensor& x0, const torch::Tensor& eps, const torch::Tensor& t) const;
  // x0 implied by an epsilon prediction at step t (clipped when configured).
  torch::Tensor PredictX0(const torch::Tensor& xt, const torch::Tensor& eps, int t) const;
  // Mean of the DDPM posterior p(x_{t-1} | x_t) given an epsilon prediction.
  torch::Tensor DdpmMean(const torch::Tensor& xt, const torch::Tensor& eps, int t) const;
  // One DDPM ancestral step: the mean plus sigma_t * noise (no noise at t = 0).
  torch::Tensor DdpmStep(const torch::Tensor& xt, const torch::Tensor& eps, int t, const torch::Tensor& noise) const;
  // The descending timesteps of an n-step DDIM sampler (n <= T), e.g. T=100, n=10 -> 90, 80, ..., 0.
  std::vector<int> DdimTimesteps(int n) const;
  // Deterministic DDIM step (eta = 0) from t to t_prev (t_prev < 0: to x0). Float tensors go
  // through one loop over their elements, not ten tensor operations.
  torch::Tensor DdimStep(const torch::Tensor& xt, const torch::Tensor& eps, int t, int t_prev) const;

 private:
  double AlphaBar(int t) const { return t < 0 ? 1.0 : alpha_bar_[size_t(t)]; }
  NoiseScheduleConfig config_;
  torch::Tensor betas_, alphas_cumprod_;
  std::vector<double> alpha_bar_;  // alphas_cumprod_, read without a tensor operation
};

}  // namespace padbench::nn
