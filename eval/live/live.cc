#include "eval/live/live.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "eval/metrics/image_quality.h"
#include "eval/engine/rollout.h"
#include "eval/engine/runner.h"
#include "eval/report/video.h"
#include "policies/registry.h"
#include "sim/error.h"
#include "sim/rng.h"
#include "tasks/registry.h"
#include "tasks/task_env.h"

namespace padbench {
namespace {

using Clock = std::chrono::steady_clock;

// Plays a recorded action sequence as one chunk (the engine executes it in order).
class ReplayPolicy final : public Policy {
 public:
  explicit ReplayPolicy(std::vector<Action> actions) : actions_(std::move(actions)) {}
  std::string_view Name() const override { return "replay"; }
  void Reset(const EpisodeInfo&) override { played_ = false; }
  PolicyOutput Act(const Observation&) override {
    if (played_) throw Error("the recorded actions ended before the episode did");
    played_ = true;
    return {actions_, {}, {}};
  }

 private:
  std::vector<Action> actions_;
  bool played_ = false;
};

std::string Caption(const LiveEpisode& e, const LiveStep& s) {
  return fmt::format("{}  {} #{}  step {}/{}{}\n\"{}\"  action [{:+.2f} {:+.2f} {:+.2f} {:+.2f}]", e.policy, e.task,
                     e.index, s.step, e.max_steps, s.success ? "  SUCCESS" : "", e.instruction, s.action[0],
                     s.action[1], s.action[2], s.action[3]);
}

}  // namespace

// What the viewer asked the worker to run next.
struct LiveSession::Request {
  Mode mode = Mode::kRun;
  LiveConfig config;
  LiveReplay replay;
  int index = 0;
  uint64_t seed = 0;
};

// ---- the rollout hooks: publish each step, pace and pause between steps ----
class LiveSession::Observer final : public RolloutObserver {
 public:
  Observer(LiveSession& session, TaskEnv& env) : session_(session), env_(env) {}

  void Begin(LiveEpisode episode) {
    camera_ = env_.config().cameras.front();
    control_dt_ = episode.control_dt;
    session_.Publish([&] {
      session_.published_.model = env_.env().model_ptr();
      session_.published_.episode = std::move(episode);
    });
  }
  // Denoising samples of the Act call in progress.
  std::vector<DenoiseSample>& denoising() { return denoising_; }

  void OnReset(const EpisodeInfo& info, const Observation& obs) override {
    LiveStep step = Capture(obs);
    session_.Publish([&] {
      LiveEpisode& e = session_.published_.episode;
      e.instruction = info.instruction;
      e.steps.push_back(std::move(step));
    });
    last_step_ = Clock::now();
    session_.Gate();
  }

  void OnAct(const Observation&, const PolicyOutput& output, double ms) override {
    LiveAct act;
    act.ms = ms;
    act.actions = output.actions;
    act.predicted = output.predicted;
    act.denoising = std::move(denoising_);
    denoising_.clear();
    session_.Publish([&] {
      LiveEpisode& e = session_.published_.episode;
      act.step = int(e.steps.size()) - 1;
      e.acts.push_back(std::move(act));
    });
  }

  void OnStep(const Action& action, const Observation& obs, const std::vector<ScoredPrediction>& predictions) override {
    LiveStep step = Capture(obs);
    step.action = action;
    for (const ScoredPrediction& p : predictions) {
      const Image& mask = p.object_mask();
      step.predictions.push_back({p.horizon, p.kind, *p.frame, p.psnr, Psnr(*p.origin, *p.real),
                                  MaskedPsnr(*p.frame, *p.real, mask), MaskedPsnr(*p.origin, *p.real, mask)});
    }
    session_.Publish([&] {
      LiveEpisode& e = session_.published_.episode;
      step.step = int(e.steps.size());
      e.steps.push_back(std::move(step));
    });
    // Keep simulated time at `speed` times wall-clock time.
    {
      std::unique_lock lock(session_.mu_);
      if (session_.speed_ > 0) {
        const auto due = last_step_ + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(control_dt_ / session_.speed_));
        session_.cv_.wait_until(lock, due, [&] { return session_.interrupt_.load(); });
      }
    }
    last_step_ = Clock::now();
    session_.Gate();
  }

  bool ShouldStop() override { return session_.interrupt_; }

 private:
  // What every published step holds besides the action and predictions.
  LiveStep Capture(const Observation& obs) const {
    LiveStep step;
    step.state = env_.env().State();
    step.camera = obs.rgb.at(camera_);
    step.success = env_.Success();
    return step;
  }

  LiveSession& session_;
  TaskEnv& env_;
  std::string camera_;
  double control_dt_ = 0;
  std::vector<DenoiseSample> denoising_;
  Clock::time_point last_step_;
};

// ---- the viewer's side ----

LiveSession::LiveSession(const LiveConfig& config, bool paused) : config_(config) {
  FindTask(config.task);  // an unknown task is the caller's error, reported now
  published_.paused = paused;
  published_.configuration = 0;
  published_.status = "starting";
  published_.version = 0;
  worker_ = std::thread([this, run = Request{Mode::kRun, config, {}, config.first_episode, 0}] { Worker(run); });
}

LiveSession::~LiveSession() {
  {
    std::lock_guard lock(mu_);
    quit_ = true;
    interrupt_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void LiveSession::Post(Mode mode, LiveConfig config, LiveReplay replay, int index, uint64_t seed) {
  {
    std::lock_guard lock(mu_);
    pending_ = std::make_unique<Request>(Request{mode, std::move(config), std::move(replay), index, seed});
    interrupt_ = true;
    step_allowance_ = 0;
    if (mode != Mode::kRun) published_.paused = false;  // one-off episodes play through, then pause
  }
  cv_.notify_all();
}

void LiveSession::Configure(const LiveConfig& config) {
  FindTask(config.task);
  config_ = config;
  Post(Mode::kRun, config, {}, config.first_episode, 0);
}

void LiveSession::Replay(LiveReplay replay) {
  FindTask(replay.task);
  if (replay.actions.empty()) throw Error("replay: the recorded episode has no actions");
  Post(Mode::kReplay, config_, std::move(replay), 0, 0);
}

void LiveSession::RunEpisodeAgain(const std::string& task, const std::string& policy, int index, uint64_t seed) {
  FindTask(task);
  LiveConfig config = config_;
  config.task = task;
  config.policy = policy;
  Post(Mode::kEpisode, std::move(config), {}, index, seed);
}

void LiveSession::Restart() {
  std::lock_guard lock(mu_);
  interrupt_ = true;  // the worker runs the same episode again when its rollout returns "interrupted"
  step_allowance_ = 0;
  cv_.notify_all();
}

void LiveSession::Play() {
  Publish([&] { published_.paused = false; });
}

void LiveSession::Pause() {
  Publish([&] { published_.paused = true; });
}

void LiveSession::Step() {
  Publish([&] {
    published_.paused = true;
    ++step_allowance_;
  });
}

void LiveSession::SetSpeed(double factor) {
  Publish([&] { speed_ = std::max(0.0, factor); });
}

LiveGoal CurrentGoal(const LiveEpisode& episode, int step) {
  LiveGoal goal;
  for (const LiveAct& act : episode.acts) {
    if (act.step > step) break;
    for (const PredictedFrame& f : act.predicted) {
      if (f.kind == PredictionKind::kGoal) goal = {&act, &f};
    }
  }
  return goal;
}

const LiveAct* LatestPrediction(const LiveEpisode& episode, int step) {
  const LiveAct* found = nullptr;
  for (const LiveAct& act : episode.acts) {
    if (act.step > step) break;
    if (!act.predicted.empty()) found = &act;
  }
  return found;
}

bool LiveSession::Sync(LiveView* view) const {
  std::lock_guard lock(mu_);
  if (view->version == published_.version) return false;
  const LiveEpisode& e = published_.episode;
  LiveEpisode& mine = view->episode;
  if (mine.id != e.id) {
    mine = e;
  } else {
    mine.steps.insert(mine.steps.end(), e.steps.begin() + std::min(mine.steps.size(), e.steps.size()), e.steps.end());
    mine.acts.insert(mine.acts.end(), e.acts.begin() + std::min(mine.acts.size(), e.acts.size()), e.acts.end());
    mine.instruction = e.instruction;
    mine.finished = e.finished;
    mine.record = e.record;
  }
  view->model = published_.model;
  if (view->configuration != published_.configuration) view->finished.clear();
  view->configuration = published_.configuration;
  view->finished.insert(view->finished.end(), published_.finished.begin() + view->finished.size(),
                        published_.finished.end());
  view->status = published_.status;
  view->error = published_.error;
  view->paused = published_.paused;
  view->version = published_.version;
  return true;
}

// ---- the worker ----

void LiveSession::Publish(const std::function<void()>& change) {
  {
    std::lock_guard lock(mu_);
    change();
    ++published_.version;
  }
  cv_.notify_all();
}

bool LiveSession::CanAdvance() const { return interrupt_ || !published_.paused || step_allowance_ > 0; }

void LiveSession::Gate() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return CanAdvance(); });
  if (!interrupt_ && published_.paused) --step_allowance_;
}

void LiveSession::Worker(Request run) {
  std::unique_ptr<EpisodeRunner> runner;  // renderer, the loaded policy and its envs (the engine's worker side)
  Request current = run;  // `run` is the configuration's run; `current` may be a one-off episode
  bool have_work = true;  // false after an error, until a new request arrives

  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return quit_ || pending_ || have_work; });
      if (quit_) return;
      if (pending_) {
        current = std::move(*pending_);
        pending_.reset();
        have_work = true;
        if (current.mode == Mode::kRun) {
          run = current;
          published_.finished.clear();
          ++published_.configuration;
        }
        published_.error.clear();
        ++published_.version;
      }
      interrupt_ = false;
    }
    try {
      if (!runner) {
        runner = std::make_unique<EpisodeRunner>(current.config.gl, std::max(1, current.config.torch_threads),
                                                 current.config.make_policy);
      }
      const bool replay = current.mode == Mode::kReplay;
      const std::string spec = replay ? current.replay.label : current.config.policy;
      // A replay plays its own actions and leaves the loaded policy for the run that follows.
      std::unique_ptr<Policy> replay_policy;
      Policy* policy = nullptr;
      if (replay) {
        replay_policy = std::make_unique<ReplayPolicy>(current.replay.actions);
        policy = replay_policy.get();
      } else {
        if (!runner->loaded(spec)) Publish([&] { published_.status = fmt::format("loading {}", spec); });
        runner->ReleaseOthers(spec);
        policy = &runner->policy(spec);
      }
      const std::string task_name = replay ? current.replay.task : current.config.task;
      const std::shared_ptr<const Task> task = FindTask(task_name);
      TaskEnv& env = runner->env(*policy, task);
      const int index = replay ? 0 : current.index;
      const uint64_t seed = replay                           ? current.replay.seed
                            : current.mode == Mode::kEpisode ? current.seed
                                                             : EpisodeSeed(current.config.seed, task_name, index);

      Observer observer(*this, env);
      policy->SetDenoiseCallback([&observer](const DenoiseSample& s) { observer.denoising().push_back(s); });
      LiveEpisode episode;
      episode.id = next_episode_id_++;
      episode.task = task_name;
      episode.policy = spec;
      episode.index = index;
      episode.seed = seed;
      episode.max_steps = env.task().MaxSteps();
      episode.control_dt = env.env().ControlPeriod();
      observer.Begin(std::move(episode));
      Publish([&] { published_.status = fmt::format("running {} on {} #{}", spec, task_name, index); });

      const EpisodeJob job{spec, index, seed, current.config.timing};
      EpisodeRecord rec = replay ? runner->RunWith(*policy, job, task, true, {&observer})
                                 : runner->Run(job, task, {&observer});
      policy->SetDenoiseCallback({});
      if (replay) runner->ForgetEnvs(*policy);
      if (rec.failure == "interrupted") continue;  // a new request, a restart or quit
      const std::string outcome = rec.success ? fmt::format("success in {} steps", rec.steps_to_success)
                                              : fmt::format("{} after {} steps", rec.failure, rec.length);
      const bool one_off = current.mode != Mode::kRun;
      Publish([&] {
        LiveEpisode& e = published_.episode;
        e.finished = true;
        e.record = rec;
        if (!one_off) published_.finished.push_back(rec);
        if (one_off) published_.paused = true;  // stay on it, ready to scrub
        published_.status = fmt::format("{} on {} #{}: {}", spec, task_name, index, outcome);
      });
      if (one_off) {
        current = run;  // Play goes on with the configuration's run
      } else {
        current.index = ++run.index;
      }
      // Hold the last frame a moment at viewing speeds, and while paused, before the next episode.
      std::unique_lock lock(mu_);
      if (speed_ > 0) cv_.wait_for(lock, std::chrono::milliseconds(600), [&] { return interrupt_.load(); });
      cv_.wait(lock, [&] { return CanAdvance(); });
    } catch (const std::exception& e) {
      Publish([&] {
        published_.error = e.what();
        published_.status = fmt::format("error: {}", e.what());
      });
      have_work = false;
    }
  }
}

// ---- recording ----

void WriteLiveVideo(const LiveEpisode& episode, const ModelPtr& model, const FreeCamera& camera,
                    const std::string& path, GlBackend gl, int scene_size) {
  if (episode.steps.empty()) throw Error("video: the episode has no steps yet");
  const Image& first = episode.steps.front().camera;
  size_t slots = 0;
  for (const LiveStep& s : episode.steps) slots = std::max(slots, s.predictions.size());
  VideoConfig config;
  config.frame_height = first.height;
  config.frame_width = first.width;
  config.scale = std::max(1, scene_size / std::max(1, first.height) / 2);
  config.max_predicted = int(std::min<size_t>(slots, 3));
  config.scene_height = config.scene_width = scene_size;
  config.fps = episode.control_dt > 0 ? std::min(30.0, 1.0 / episode.control_dt) : 10;
  VideoWriter video(path, config);
  auto renderer = Renderer::Create({gl});
  auto env = Env::Create(model);
  Image scene;
  for (const LiveStep& s : episode.steps) {
    env->SetState(s.state);
    renderer->RenderFree(*env, camera, scene_size, scene_size, &scene);
    std::vector<std::pair<int, Image>> predicted;
    for (const LivePrediction& p : s.predictions) {
      if (int(predicted.size()) < config.max_predicted) predicted.emplace_back(p.horizon, p.rgb);
    }
    video.Add(s.camera, predicted, Caption(episode, s), &scene);
  }
  video.Close();
}

}  // namespace padbench
