#include "eval/engine/rollout.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "eval/metrics/image_quality.h"
#include "eval/metrics/metric.h"

namespace padbench {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// Why an Act result cannot be executed, or "" if it can.
std::string CheckOutput(const PolicyOutput& out, const std::vector<std::string>& cameras) {
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
    if (!f.camera.empty() && std::find(cameras.begin(), cameras.end(), f.camera) == cameras.end()) {
      return fmt::format("predicted frame of camera '{}', which the policy does not observe", f.camera);
    }
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
                         const std::vector<RolloutObserver*>& observers) {
  const auto start = Clock::now();
  const Task& task = env.task();
  EpisodeRecord rec;
  rec.policy = job.policy;
  rec.task = std::string(task.Name());
  rec.group = std::string(DifficultyName(task.Group()));
  rec.index = job.index;
  rec.seed = job.seed;
  rec.warmup = first_call_is_warmup;

  // The metrics watch first, then the caller's observers.
  std::vector<std::unique_ptr<EpisodeMetric>> metrics = StartMetrics();
  std::vector<RolloutObserver*> all;
  for (auto& m : metrics) all.push_back(m.get());
  all.insert(all.end(), observers.begin(), observers.end());

  auto t = Clock::now();
  Observation obs = env.Reset(job.seed);
  rec.render_s += Seconds(t, Clock::now());
  rec.instruction = env.instruction();
  const EpisodeInfo info{rec.task, rec.instruction, job.seed, task.MaxSteps(), &env.env(), &task};
  const std::vector<std::string>& cameras = env.config().cameras;
  // Predicted frames waiting for the real frame they predict, by the step that frame arrives.
  struct Pending {
    PredictedFrame frame;
    Image origin;  // the camera's frame when the prediction was made
  };
  std::map<int, std::vector<Pending>> pending;

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
  for (RolloutObserver* o : all) o->OnReset(info, obs);

  const int max_steps = task.MaxSteps();
  auto stop_requested = [&] {
    for (RolloutObserver* o : observers)
      if (o->ShouldStop()) return true;
    return false;
  };
  while (rec.failure.empty() && !rec.success && rec.length < max_steps) {
    if (stop_requested()) {
      fail("interrupted", "stopped before the episode ended");
      break;
    }
    PolicyOutput out;
    for (RolloutObserver* o : all) o->OnActStart(obs);
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
    if (const std::string problem = CheckOutput(out, cameras); !problem.empty()) {
      fail("policy_error", fmt::format("Act at step {}: {}", rec.length, problem));
      break;
    }
    for (RolloutObserver* o : all) o->OnAct(obs, out, 1e3 * act_s);
    for (PredictedFrame& f : out.predicted) {
      if (f.camera.empty()) f.camera = cameras.front();
      Image origin = obs.rgb.at(f.camera);
      pending[rec.length + f.horizon].push_back({std::move(f), std::move(origin)});
    }

    for (const Action& planned : out.actions) {
      if (rec.length >= max_steps || rec.success) break;
      t = Clock::now();
      const Action action = out.kind == ActionKind::kWaypoint
                                ? WaypointAction(planned, obs.ee_pos, env.env().config().action_scale)
                                : planned;
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
      std::map<std::string, Image> masks;  // rendered on first use, per camera
      if (auto it = pending.find(rec.length); it != pending.end()) {
        for (const Pending& p : it->second) {
          const Image& frame = p.frame.rgb;
          const Image& real = obs.rgb.at(p.frame.camera);
          if (frame.height != real.height || frame.width != real.width || frame.channels != real.channels) {
            fail("policy_error", fmt::format("predicted frame is {}x{}x{}, the camera gives {}x{}x{}", frame.height,
                                             frame.width, frame.channels, real.height, real.width, real.channels));
            break;
          }
          ScoredPrediction scored;
          scored.horizon = p.frame.horizon;
          scored.kind = p.frame.kind;
          scored.camera = p.frame.camera;
          scored.frame = &frame;
          scored.real = &real;
          scored.origin = &p.origin;
          scored.psnr = Psnr(frame, real);
          scored.ssim = Ssim(frame, real);
          scored.object_mask = [&env, &masks, camera = p.frame.camera]() -> const Image& {
            auto found = masks.find(camera);
            if (found == masks.end()) found = masks.emplace(camera, env.ObjectMask(camera)).first;
            return found->second;
          };
          due.push_back(std::move(scored));
        }
        if (!rec.failure.empty()) break;
        std::sort(due.begin(), due.end(), [](const ScoredPrediction& a, const ScoredPrediction& b) {
          return std::tie(a.kind, a.camera, a.horizon) < std::tie(b.kind, b.camera, b.horizon);
        });
      }
      for (RolloutObserver* o : all) o->OnStep(action, obs, due);
      pending.erase(rec.length);
      if (success) {
        rec.success = true;
        rec.steps_to_success = rec.length;
      }
    }
  }
  if (!rec.success && rec.failure.empty()) fail("timeout", fmt::format("no success within {} steps", max_steps));
  rec.metrics = nlohmann::json::object();
  for (size_t i = 0; i < metrics.size(); ++i) {
    nlohmann::json value = metrics[i]->Value();
    if (!value.is_null()) rec.metrics[std::string(Metrics()[i].name)] = std::move(value);
  }
  rec.clipped_actions = env.env().clipped_actions();
  rec.wall_s = Seconds(start, Clock::now());
  return rec;
}

}  // namespace padbench
