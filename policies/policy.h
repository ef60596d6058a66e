// Policy: observations in, action chunks (and optionally predicted frames) out.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/types.h"

namespace padbench {

class Env;
class Task;

// What a policy learns about an episode before its first observation.
struct EpisodeInfo {
  std::string task;
  std::string instruction;
  uint64_t seed = 0;
  int max_steps = 0;
  // Privileged simulator state. Only the scripted expert reads it; learned
  // policies must act from observations alone.
  const Env* env = nullptr;
  const Task* task_def = nullptr;
};

// What a predicted frame claims to be. Both kinds are scored against the frame that arrives
// `horizon` steps later, and reported apart.
enum class PredictionKind {
  kFuture,  // the frame exactly `horizon` steps ahead (PAD, GR-1, a video plan)
  kGoal,    // a goal image the policy aims to reach about `horizon` steps ahead (SuSIE)
};
// "future" or "goal", as results.json writes it.
const char* PredictionKindName(PredictionKind kind);

// A frame the policy predicts `horizon` control steps ahead of the observation it was given
// (horizon 1 = the next observation), of one of its cameras.
struct PredictedFrame {
  int horizon = 1;
  Image rgb;
  PredictionKind kind = PredictionKind::kFuture;
  std::string camera;  // empty: the policy's first camera (PolicyInputs::cameras)
};

// What the rows of a policy's action chunk are.
enum class ActionKind {
  kDelta,     // end-effector delta xyz and gripper effort, each in [-1, 1] (Action)
  kWaypoint,  // absolute end-effector targets xyz (world frame, m) and gripper effort: the engine
              // turns each into a delta action in closed loop when its step comes (WaypointAction)
};

// The delta action that moves the end effector from `ee_pos` toward `waypoint`'s xyz in one
// control step (the mocap target moves action * action_scale), clipped to [-1, 1]; the gripper
// effort passes through, clipped too.
Action WaypointAction(const Action& waypoint, const std::array<float, 3>& ee_pos, double action_scale);

struct PolicyOutput {
  // The action chunk the policy commits to, executed in order (at least one).
  std::vector<Action> actions;
  // Predicted future frames of the policy's camera (empty if it predicts none).
  std::vector<PredictedFrame> predicted;
  // Inference timings in milliseconds by stage ("encode", "denoise", ...), optional.
  std::map<std::string, double> timings_ms;
  // What the rows of `actions` are.
  ActionKind kind = ActionKind::kDelta;
};

// The observations a policy needs; the engine renders exactly these.
struct PolicyInputs {
  std::vector<std::string> cameras{"corner"};
  int image_size = 64;
  bool depth = false;
};

// An intermediate sample of an iterative (diffusion) policy, for viewers.
struct DenoiseSample {
  int step = 0;                       // denoising step just finished
  int total_steps = 0;
  std::vector<Action> actions;        // the current estimate of the chunk
  std::vector<PredictedFrame> frames; // the current estimate of predicted frames (may be empty)
};
using DenoiseCallback = std::function<void(const DenoiseSample&)>;

// A policy instance is used by one thread at a time; the engine gives each
// worker its own instance, so policies may keep per-episode state.
class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string_view Name() const = 0;
  virtual PolicyInputs Inputs() const { return {}; }
  // Called before each episode's first Act.
  virtual void Reset(const EpisodeInfo& episode) = 0;
  // Sees every observation of the episode in order, also those inside an action chunk
  // (policies with an observation history keep them); the first comes right after Reset.
  virtual void Observe(const Observation& obs) {}
  // Called with the latest observation when the previous action chunk is used up.
  virtual PolicyOutput Act(const Observation& obs) = 0;
  // Several episodes side by side (eval --batch-envs): `rows[i]` is an instance of this policy's
  // spec (this one or another; each keeps its own episode state and noise) acting on *obs[i], or
  // null for a padding row that acts for no episode. A batch keeps its rows from call to call,
  // so that what one episode gets does not depend on which others act. Called on the batch's
  // first instance; returns one output per row (an empty one for padding); a throw fails every
  // acting row. Default: each row's own Act. Families that batch their model compute the padding
  // rows as well (copies of an acting row, with zero noise) and drop them.
  virtual std::vector<PolicyOutput> ActBatch(const std::vector<Policy*>& rows,
                                             const std::vector<const Observation*>& obs);
  // Receives intermediate samples during Act (diffusion policies); others ignore it.
  virtual void SetDenoiseCallback(DenoiseCallback callback) {}
};

}  // namespace padbench
