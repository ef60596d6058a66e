// Hooks into a running episode: metrics, videos and the live viewer implement them, the rollout
// (eval/engine/rollout.h) calls them. All calls happen on the rollout's thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "policies/policy.h"

namespace padbench {

// A predicted frame meeting the real frame it targets, on the step that frame arrives.
struct ScoredPrediction {
  int horizon = 0;  // made this many steps earlier
  PredictionKind kind = PredictionKind::kFuture;
  std::string camera;
  const Image* frame = nullptr;   // the prediction (pointers valid during the OnStep call)
  const Image* real = nullptr;    // the frame that arrived
  const Image* origin = nullptr;  // the camera's frame when the prediction was made: copying it
                                  // forward is the persistence baseline
  double psnr = 0, ssim = 0;      // frame against real
  // One channel, 255 where the real frame shows the robot or a movable object (TaskEnv::ObjectMask);
  // rendered on first use, once per step and camera.
  std::function<const Image&()> object_mask;
};

class RolloutObserver {
 public:
  virtual ~RolloutObserver() = default;
  // After reset, with the first observation.
  virtual void OnReset(const EpisodeInfo& info, const Observation& obs) {}
  // Right before each Act call (the engine's workers start their Act watchdog here).
  virtual void OnActStart(const Observation& obs) {}
  // After each Act call, with its output and wall time.
  virtual void OnAct(const Observation& obs, const PolicyOutput& output, double ms) {}
  // After each environment step: the action applied, the new observation, and the predicted
  // frames that targeted this step, scored, ordered by kind, camera and ascending horizon (the
  // newest prediction first).
  virtual void OnStep(const Action& action, const Observation& obs, const std::vector<ScoredPrediction>& predictions) {}
  // Polled between steps; true abandons the episode (the record says "interrupted").
  virtual bool ShouldStop() { return false; }
};

}  // namespace padbench
