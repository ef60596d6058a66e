// LiveSession: episodes of one policy in one task, run on a worker thread through
// RunEpisode and published step by step for a viewer (which only reads copies).
//
// The worker owns everything it runs (renderer, task env, policy); a viewer calls
// the control methods and Sync from its own thread, and neither side waits on the
// other for longer than a copy. Pause, single-step and speed act between control
// steps, inside the rollout's observer hooks, so stepping is never re-implemented.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "eval/engine/engine.h"
#include "eval/engine/episode_record.h"
#include "policies/policy.h"
#include "sim/env.h"
#include "sim/renderer.h"

namespace padbench {

// What to run: episode i of (task, policy) uses seed EpisodeSeed(seed, task, first_episode + i),
// exactly as `padbench eval --seed` does, so a viewer episode matches the eval episode.
struct LiveConfig {
  std::string task = "drawer-open";
  std::string policy = "expert";  // a spec for MakePolicy
  uint64_t seed = 0;
  int first_episode = 0;
  GlBackend gl = GlBackend::kAuto;
  int torch_threads = 1;
  ActTiming timing;               // synchronous, or real time (eval --realtime)
  PolicyFactory make_policy;      // default: MakePolicy
};

// A frame predicted for a step, scored against the real frame of that step.
struct LivePrediction {
  int horizon = 0;  // made this many steps earlier
  PredictionKind kind = PredictionKind::kFuture;
  Image rgb;
  double psnr = 0;              // dB against the frame that arrived (LiveStep::camera for the first camera)
  double persistence_psnr = 0;  // the frame seen when predicting, copied forward, against the same frame
  double masked_psnr = 0;       // over the robot and movable objects; NaN when none is in view
  double masked_persistence_psnr = 0;
};

// One control step; step 0 is the state right after reset.
struct LiveStep {
  int step = 0;
  SimState state;
  Image camera;                              // the policy's first camera
  Action action{};                           // the action that led here (zeros at step 0)
  std::vector<LivePrediction> predictions;   // ascending horizon (newest prediction first)
  bool success = false;
};

// One Act call: the chunk, the predicted frames and, for diffusion policies, every denoising sample.
struct LiveAct {
  int step = 0;  // the step whose observation the policy saw
  double ms = 0;
  std::vector<Action> actions;
  std::vector<PredictedFrame> predicted;
  std::vector<DenoiseSample> denoising;
};

// An episode as far as it has run.
struct LiveEpisode {
  int64_t id = -1;  // new for every episode the session starts
  std::string task, policy, instruction;
  int index = 0;
  uint64_t seed = 0;
  int max_steps = 0;
  double control_dt = 0;  // simulated seconds per control step
  std::vector<LiveStep> steps;
  std::vector<LiveAct> acts;
  bool finished = false;
  EpisodeRecord record;  // set when finished
};

// The goal a two-stage policy acts towards at `step`: the newest goal-kind prediction of the Act
// calls up to `step`, and the call that made it (both null when there is none).
struct LiveGoal {
  const LiveAct* act = nullptr;
  const PredictedFrame* frame = nullptr;
};
LiveGoal CurrentGoal(const LiveEpisode& episode, int step);
// The newest Act call up to `step` that predicted frames (null when none did).
const LiveAct* LatestPrediction(const LiveEpisode& episode, int step);

// A viewer's copy of what the session has published; LiveSession::Sync brings it up to date.
struct LiveView {
  ModelPtr model;                        // the task's model (null until the first episode starts)
  LiveEpisode episode;
  std::vector<EpisodeRecord> finished;   // finished episodes of the current configuration, in order
  int64_t configuration = -1;            // which configuration `finished` belongs to
  std::string status;                    // one line for a status bar
  std::string error;                     // why the session stopped (bad checkpoint, ...), else ""
  bool paused = false;
  int64_t version = -1;
};

// A recorded episode to play back through the engine (a dataset episode): its actions are
// executed in order from the episode's seed, reproducing the recorded states.
struct LiveReplay {
  std::string task;
  uint64_t seed = 0;
  std::vector<Action> actions;
  std::string label;  // shown as the policy, e.g. "data/robot.hdf5#12"
};

class LiveSession {
 public:
  // Checks the task name (throws padbench::Error listing valid ones) and starts the worker,
  // which creates the policy and runs episodes one after another (paused if `paused`).
  explicit LiveSession(const LiveConfig& config, bool paused = false);
  ~LiveSession();  // abandons the running episode and joins the worker
  LiveSession(const LiveSession&) = delete;
  LiveSession& operator=(const LiveSession&) = delete;

  // Abandons the current episode and starts over with a new configuration (clears the tally).
  void Configure(const LiveConfig& config);
  // Plays a recorded episode (unpausing), then pauses on it, as RunEpisodeAgain does.
  void Replay(LiveReplay replay);
  // Runs one episode with an exact seed and index (an eval run's episode: the same policy spec,
  // task and seed give the same episode), unpausing, then pauses on it; Play then goes on with
  // the configuration's run. Throws padbench::Error on an unknown task.
  void RunEpisodeAgain(const std::string& task, const std::string& policy, int index, uint64_t seed);
  void Play();
  void Pause();
  // While paused: one more control step (an Act call when the chunk is used up).
  void Step();
  // Abandons the current episode and starts the same one again.
  void Restart();
  // 1 = simulated time runs at wall-clock speed; 0 = as fast as the worker goes.
  void SetSpeed(double factor);

  const LiveConfig& config() const { return config_; }
  // Copies what changed since `view` was last synced (new steps and acts are appended,
  // a new episode replaces the old one). Returns false when nothing changed.
  bool Sync(LiveView* view) const;

 private:
  enum class Mode { kRun, kEpisode, kReplay };
  struct Request;
  class Observer;
  void Worker(Request run);
  void Post(Mode mode, LiveConfig config, LiveReplay replay, int index, uint64_t seed);
  // Blocks the worker between control steps while paused; a single step's allowance is used up here.
  void Gate();
  // Whether the worker may go on (mu_ held): interrupted, playing, or a step allowed.
  bool CanAdvance() const;
  void Publish(const std::function<void()>& change);

  LiveConfig config_;  // the viewer thread's view of the configuration
  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_: requests from the viewer...
  std::unique_ptr<Request> pending_;
  int step_allowance_ = 0;
  double speed_ = 1;
  bool quit_ = false;
  // ...and what the worker publishes (published_.paused is also the pause request).
  LiveView published_;
  std::atomic<bool> interrupt_{false};  // polled by the rollout between steps
  int64_t next_episode_id_ = 0;
  std::thread worker_;
};

// Writes a LiveEpisode as mp4: the scene from `camera` (rendered again from the recorded
// states, with a renderer created on the calling thread), the policy's camera and the frames
// predicted for each step, side by side, with a caption. Throws padbench::Error when the
// episode has no steps or the file cannot be written.
void WriteLiveVideo(const LiveEpisode& episode, const ModelPtr& model, const FreeCamera& camera,
                    const std::string& path, GlBackend gl = GlBackend::kAuto, int scene_size = 384);

}  // namespace padbench
