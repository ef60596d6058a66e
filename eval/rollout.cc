#include "eval/rollout.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "eval/metrics.h"

namespace padbench {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// Why an Act result cannot be executed, or "" if it can.
std::string CheckOutput(const PolicyOutput& out) {
  if (out.actions.empty()) return "the policy returned an empty action chunk";
  for (size_t i = 0; i < out.actions.size(); ++i) {
    for (int k = 0; k < kActionDim; ++k) {
      if (!std::isfinite(out.actions[i][k])) {
        return fmt::format("non-finite action component {} of chunk entry {}: {}", k, i, out.actions[i][k]);
      }
    }
  }
  for (const PredictedFrame& f : out.predicted) {
    if (f.horizon < 1) return fmt::format("predicted frame with horizon {} (must be >= 1)", f.horizon);
  }
  return "";
}

}  // namespace

std::unique_ptr<TaskEnv> MakeTaskEnv(std::shared_ptr<const Task> task, const Policy& policy, Renderer* renderer) {
  const PolicyInputs in = policy.Inputs();
  TaskEnvConfig config;
  config.cameras = in.cameras;
  config.image_size = in.image_size;
  config.depth = in.depth;
  return TaskEnv::Create(std::move(task), config, renderer);
}

EpisodeRecord RunEpisode(TaskEnv& env, Policy& policy, const EpisodeJob& job, bool first_call_is_warmup,
                         RolloutObserver* observer) {
  const auto start = Clock::now();
  const Task& task = env.task();
  EpisodeRecord rec;
  rec.policy = job.policy;
  rec.task = std::string(task.Name());
  rec.group = std::string(DifficultyName(task.Group()));
  rec.index = job.index;
  rec.seed = job.seed;
  rec.warmup = first_call_is_warmup;

  auto t = Clock::now();
  Observation obs = env.Reset(job.seed);
  rec.render_s += Seconds(t, Clock::now());
  rec.instruction = env.instruction();
  const EpisodeInfo info{rec.task, rec.instruction, job.seed, task.MaxSteps(), &env.env(), &task};
  const std::string camera = env.config().cameras.empty() ? "" : env.config().cameras.front();
  // Predicted frames waiting for the real frame they predict: step -> (horizon, frame).
  std::map<int, std::vector<std::pair<int, Image>>> pending;
  std::map<int, HorizonQuality> quality;

  auto fail = [&](const std::string& reason, const std::string& detail) {
    rec.failure = reason;
    rec.failure_detail = detail;
  };

  try {
    policy.Reset(info);
    policy.Observe(obs);
  } catch (const std::exception& e) {
    fail("policy_error", fmt::format("Reset: {}", e.what()));
  }
  if (observer) observer->OnReset(info, obs);

  const int max_steps = task.MaxSteps();
  while (rec.failure.empty() && !rec.success && rec.length < max_steps) {
    if (observer && observer->ShouldStop()) {
      fail("interrupted", "stopped before the episode ended");
      break;
    }
    PolicyOutput out;
    t = Clock::now();
    try {
      out = policy.Act(obs);
    } catch (const std::exception& e) {
      rec.act_ms.push_back(1e3 * Seconds(t, Clock::now()));
      fail("policy_error", fmt::format("Act at step {}: {}", rec.length, e.what()));
      break;
    }
    const double act_s = Seconds(t, Clock::now());
    rec.policy_s += act_s;
    rec.act_ms.push_back(1e3 * act_s);
    ++rec.act_calls;
    if (const std::string problem = CheckOutput(out); !problem.empty()) {
      fail("policy_error", fmt::format("Act at step {}: {}", rec.length, problem));
      break;
    }
    if (observer) observer->OnAct(obs, out, 1e3 * act_s);
    for (PredictedFrame& f : out.predicted) pending[rec.length + f.horizon].emplace_back(f.horizon, std::move(f.rgb));

    for (const Action& action : out.actions) {
      if (rec.length >= max_steps || rec.success) break;
      t = Clock::now();
      const StepResult step = env.Step(action);
      const bool success = env.Success();
      auto t2 = Clock::now();
      rec.physics_s += Seconds(t, t2);
      ++rec.length;
      if (step.status == StepStatus::kDiverged) {
        fail("physics_divergence", step.message);
        break;
      }
      obs = env.Observe();
      rec.render_s += Seconds(t2, Clock::now());
      try {
        policy.Observe(obs);
      } catch (const std::exception& e) {
        fail("policy_error", fmt::format("Observe at step {}: {}", rec.length, e.what()));
        break;
      }

      std::vector<ScoredPrediction> due;
      if (auto it = pending.find(rec.length); it != pending.end()) {
        const Image& real = obs.rgb.at(camera);
        for (const auto& [horizon, frame] : it->second) {
          if (frame.height != real.height || frame.width != real.width || frame.channels != real.channels) {
            fail("policy_error", fmt::format("predicted frame is {}x{}x{}, the camera gives {}x{}x{}", frame.height,
                                             frame.width, frame.channels, real.height, real.width, real.channels));
            break;
          }
          const ScoredPrediction scored{horizon, &frame, Psnr(frame, real), Ssim(frame, real)};
          HorizonQuality& q = quality[horizon];
          q.horizon = horizon;
          ++q.count;
          q.psnr_sum += scored.psnr;
          q.ssim_sum += scored.ssim;
          due.push_back(scored);
        }
        if (!rec.failure.empty()) break;
        std::sort(due.begin(), due.end(),
                  [](const ScoredPrediction& a, const ScoredPrediction& b) { return a.horizon < b.horizon; });
      }
      if (observer) observer->OnStep(action, obs, due);
      pending.erase(rec.length);
      if (success) {
        rec.success = true;
        rec.steps_to_success = rec.length;
      }
    }
  }
  if (!rec.success && rec.failure.empty()) fail("timeout", fmt::format("no success within {} steps", max_steps));
  for (const auto& [h, q] : quality) rec.prediction.push_back(q);
  rec.clipped_actions = env.env().clipped_actions();
  rec.wall_s = Seconds(start, Clock::now());
  return rec;
}

}  // namespace padbench
