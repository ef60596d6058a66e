#include "eval/engine/rollout.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
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

nlohmann::json ActTiming::ToJson() const {
  if (!realtime) return nullptr;
  return {{"realtime", true}, {"latency_ms", latency_ms < 0 ? nlohmann::json("measured") : nlohmann::json(latency_ms)}};
}

ActTiming ActTiming::FromJson(const nlohmann::json& j) {
  ActTiming t;
  if (j.is_null()) return t;
  t.realtime = true;
  const nlohmann::json& latency = j.at("latency_ms");
  t.latency_ms = latency.is_number() ? latency.get<double>() : -1;
  return t;
}

std::string ActTiming::Describe() const {
  if (!realtime) return "synchronous";
  return latency_ms < 0 ? "real time, measured Act" : fmt::format("real time, Act {:g} ms", latency_ms);
}

// Predicted frames waiting for the real frame they predict.
struct Pending {
  PredictedFrame frame;
  Image origin;  // the camera's frame when the prediction was made
};

struct Rollout::State {
  ActTiming timing;
  EpisodeRecord rec;
  Clock::time_point start;
  std::vector<std::unique_ptr<EpisodeMetric>> metrics;
  std::vector<RolloutObserver*> observers;  // the caller's
  std::vector<RolloutObserver*> all;        // the metrics, then the caller's
  std::vector<std::string> cameras;
  int max_steps = 0;
  std::map<int, std::vector<Pending>> pending;  // by the step the predicted frame arrives

  // The chunk being executed: actions[next..] are still to come.
  std::vector<Action> actions;
  ActionKind kind = ActionKind::kDelta;
  size_t next = 0;
  // Real time: the output of the last Act until it arrives, the step it was made at, and how many
  // steps it takes (it arrives at made_at + last_delay).
  std::optional<PolicyOutput> in_flight;
  int made_at = 0, last_delay = 0;
  double control_ms = 0;
};

Rollout::Rollout(TaskEnv& env, Policy& policy, const EpisodeJob& job, bool first_call_is_warmup,
                 const std::vector<RolloutObserver*>& observers)
    : env_(env), policy_(policy), s_(std::make_unique<State>()) {
  State& s = *s_;
  s.start = Clock::now();
  s.timing = job.timing;
  const Task& task = env.task();
  EpisodeRecord& rec = s.rec;
  rec.policy = job.policy;
  rec.task = std::string(task.Name());
  rec.group = std::string(DifficultyName(task.Group()));
  rec.index = job.index;
  rec.seed = job.seed;
  rec.warmup = first_call_is_warmup;
  if (job.timing.realtime) rec.held_steps = 0;
  s.control_ms = 1e3 * env.env().ControlPeriod();

  s.metrics = StartMetrics();
  s.observers = observers;
  for (auto& m : s.metrics) s.all.push_back(m.get());
  s.all.insert(s.all.end(), observers.begin(), observers.end());

  auto t = Clock::now();
  obs_ = env.Reset(job.seed);
  rec.render_s += Seconds(t, Clock::now());
  rec.instruction = env.instruction();
  s.max_steps = task.MaxSteps();
  s.cameras = env.config().cameras;
  const EpisodeInfo info{rec.task, rec.instruction, job.seed, s.max_steps, &env.env(), &task};
  try {
    policy.Reset(info);
    policy.Observe(obs_);
  } catch (const std::exception& e) {
    Fail("policy_error", fmt::format("Reset: {}", e.what()));
  }
  for (RolloutObserver* o : s.all) o->OnReset(info, obs_);
  if (s.max_steps <= 0) done_ = true;
}

Rollout::~Rollout() = default;

void Rollout::Fail(const std::string& reason, const std::string& detail) {
  s_->rec.failure = reason;
  s_->rec.failure_detail = detail;
  done_ = true;
}

bool Rollout::StopRequested() {
  for (RolloutObserver* o : s_->observers) {
    if (o->ShouldStop()) {
      Fail("interrupted", "stopped before the episode ended");
      return true;
    }
  }
  return false;
}

bool Rollout::needs_act() const {
  const State& s = *s_;
  return !done_ && !s.in_flight && s.actions.size() - s.next <= size_t(s.last_delay);
}

void Rollout::BeginAct() {
  if (StopRequested()) return;
  for (RolloutObserver* o : s_->all) o->OnActStart(obs_);
}

void Rollout::FailAct(const std::string& what, double seconds) {
  EpisodeRecord& rec = s_->rec;
  rec.act_ms.push_back(1e3 * seconds);
  Fail("policy_error", fmt::format("Act at step {}: {}", rec.length, what));
}

void Rollout::EndAct(PolicyOutput out, double seconds) {
  State& s = *s_;
  EpisodeRecord& rec = s.rec;
  rec.policy_s += seconds;
  rec.act_ms.push_back(1e3 * seconds);
  ++rec.act_calls;
  if (const std::string problem = CheckOutput(out, s.cameras); !problem.empty()) {
    Fail("policy_error", fmt::format("Act at step {}: {}", rec.length, problem));
    return;
  }
  for (RolloutObserver* o : s.all) o->OnAct(obs_, out, 1e3 * seconds);
  for (PredictedFrame& f : out.predicted) {
    if (f.camera.empty()) f.camera = s.cameras.front();
    Image origin = obs_.rgb.at(f.camera);
    s.pending[rec.length + f.horizon].push_back({std::move(f), std::move(origin)});
  }
  out.predicted.clear();
  int delay = 0;
  if (s.timing.realtime) {
    const double ms = s.timing.latency_ms >= 0 ? s.timing.latency_ms : 1e3 * seconds;
    delay = int(std::ceil(ms / s.control_ms - 1e-9));
  }
  s.in_flight = std::move(out);
  s.made_at = rec.length;
  s.last_delay = delay;
  if (delay == 0) Deliver();
}

void Rollout::Deliver() {
  State& s = *s_;
  PolicyOutput& out = *s.in_flight;
  s.actions = std::move(out.actions);
  s.kind = out.kind;
  // Entries for the steps that passed while the chunk was on its way are dropped; the last stays.
  s.next = std::min(size_t(s.rec.length - s.made_at), s.actions.size() - 1);
  s.in_flight.reset();
}

void Rollout::Step() {
  State& s = *s_;
  EpisodeRecord& rec = s.rec;
  if (done_ || StopRequested()) return;
  auto t = Clock::now();
  Action action;
  if (s.next < s.actions.size()) {
    const Action& planned = s.actions[s.next++];
    action = s.kind == ActionKind::kWaypoint
                 ? WaypointAction(planned, obs_.ee_pos, env_.env().config().action_scale)
                 : planned;
  } else {  // real time, waiting for a chunk: the arm holds still
    action = {0, 0, 0, float(env_.env().GripperEffort())};
    ++*rec.held_steps;
  }
  const StepResult step = env_.Step(action);
  const bool success = env_.Success();
  auto t2 = Clock::now();
  rec.physics_s += Seconds(t, t2);
  ++rec.length;
  if (step.status == StepStatus::kDiverged) {
    Fail("physics_divergence", step.message);
    return;
  }
  obs_ = env_.Observe();
  rec.render_s += Seconds(t2, Clock::now());
  try {
    policy_.Observe(obs_);
  } catch (const std::exception& e) {
    Fail("policy_error", fmt::format("Observe at step {}: {}", rec.length, e.what()));
    return;
  }

  std::vector<ScoredPrediction> due;
  std::map<std::string, Image> masks;  // rendered on first use, per camera
  if (auto it = s.pending.find(rec.length); it != s.pending.end()) {
    for (const Pending& p : it->second) {
      const Image& frame = p.frame.rgb;
      const Image& real = obs_.rgb.at(p.frame.camera);
      if (frame.height != real.height || frame.width != real.width || frame.channels != real.channels) {
        Fail("policy_error", fmt::format("predicted frame is {}x{}x{}, the camera gives {}x{}x{}", frame.height,
                                         frame.width, frame.channels, real.height, real.width, real.channels));
        return;
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
      scored.object_mask = [this, &masks, camera = p.frame.camera]() -> const Image& {
        auto found = masks.find(camera);
        if (found == masks.end()) found = masks.emplace(camera, env_.ObjectMask(camera)).first;
        return found->second;
      };
      due.push_back(std::move(scored));
    }
    std::sort(due.begin(), due.end(), [](const ScoredPrediction& a, const ScoredPrediction& b) {
      return std::tie(a.kind, a.camera, a.horizon) < std::tie(b.kind, b.camera, b.horizon);
    });
  }
  for (RolloutObserver* o : s.all) o->OnStep(action, obs_, due);
  s.pending.erase(rec.length);
  if (success) {
    rec.success = true;
    rec.steps_to_success = rec.length;
    done_ = true;
  } else if (rec.length >= s.max_steps) {
    done_ = true;
  } else if (s.in_flight && s.made_at + s.last_delay <= rec.length) {
    Deliver();
  }
}

EpisodeRecord Rollout::Finish() {
  State& s = *s_;
  EpisodeRecord& rec = s.rec;
  if (!rec.success && rec.failure.empty()) {
    rec.failure = "timeout";
    rec.failure_detail = fmt::format("no success within {} steps", s.max_steps);
  }
  rec.metrics = nlohmann::json::object();
  for (size_t i = 0; i < s.metrics.size(); ++i) {
    nlohmann::json value = s.metrics[i]->Value();
    if (!value.is_null()) rec.metrics[std::string(Metrics()[i].name)] = std::move(value);
  }
  rec.clipped_actions = env_.env().clipped_actions();
  rec.wall_s = Seconds(s.start, Clock::now());
  return std::move(rec);
}

std::vector<EpisodeRecord> RunEpisodes(const std::vector<BatchRow>& rows) {
  std::vector<std::unique_ptr<Rollout>> rollouts(rows.size());
  Policy* lead = nullptr;
  for (size_t r = 0; r < rows.size(); ++r) {
    const BatchRow& row = rows[r];
    if (!row.policy) continue;
    rollouts[r] = std::make_unique<Rollout>(*row.env, *row.policy, row.job, row.first_call_is_warmup, row.observers);
    if (!lead) lead = row.policy;
  }
  auto running = [&](size_t r) { return rollouts[r] && !rollouts[r]->done(); };
  while (true) {
    std::vector<Policy*> acting(rows.size(), nullptr);
    std::vector<const Observation*> obs(rows.size(), nullptr);
    bool any_running = false, any_acting = false;
    for (size_t r = 0; r < rows.size(); ++r) {
      if (!running(r)) continue;
      any_running = true;
      if (!rollouts[r]->needs_act()) continue;
      rollouts[r]->BeginAct();
      if (rollouts[r]->done()) continue;
      acting[r] = rows[r].policy;
      obs[r] = &rollouts[r]->obs();
      any_acting = true;
    }
    if (!any_running) break;
    if (any_acting) {
      const auto t = Clock::now();
      std::vector<PolicyOutput> out;
      std::string error;
      try {
        out = lead->ActBatch(acting, obs);
        if (out.size() != rows.size()) {
          error = fmt::format("ActBatch returned {} outputs for {} rows", out.size(), rows.size());
        }
      } catch (const std::exception& e) {
        error = e.what();
      }
      const double seconds = Seconds(t, Clock::now());
      for (size_t r = 0; r < rows.size(); ++r) {
        if (!acting[r]) continue;
        if (error.empty()) {
          rollouts[r]->EndAct(std::move(out[r]), seconds);
        } else {
          rollouts[r]->FailAct(error, seconds);
        }
      }
    }
    for (size_t r = 0; r < rows.size(); ++r)
      if (running(r) && !rollouts[r]->needs_act()) rollouts[r]->Step();
  }
  std::vector<EpisodeRecord> records;
  for (auto& r : rollouts)
    if (r) records.push_back(r->Finish());
  return records;
}

EpisodeRecord RunEpisode(TaskEnv& env, Policy& policy, const EpisodeJob& job, bool first_call_is_warmup,
                         const std::vector<RolloutObserver*>& observers) {
  return std::move(RunEpisodes({{&env, &policy, job, first_call_is_warmup, observers}})[0]);
}

}  // namespace padbench
