// The 3-D scene in the viewer window: MuJoCo's own renderer drawing a published state into a
// rectangle of the window, with a free camera driven by the mouse (as MuJoCo's simulate does).
#pragma once

#include <memory>

#include <mujoco/mujoco.h>

#include "sim/env.h"
#include "sim/renderer.h"

namespace padbench::viewer {

// Needs the window's GL context current on the calling thread (the GUI thread).
class SceneView {
 public:
  SceneView();
  ~SceneView();
  SceneView(const SceneView&) = delete;
  SceneView& operator=(const SceneView&) = delete;

  // Draws `state` of `model` into the window rectangle (pixels, origin bottom-left).
  // A new model rebuilds MuJoCo's scene and GPU context (once per task switch).
  void Draw(const ModelPtr& model, const SimState& state, int x, int y, int width, int height);

  // Mouse motion (pixels) while dragging inside the view, as in MuJoCo's simulate: left rotates,
  // right pans, middle zooms (shift: rotate about / pan in the horizontal plane).
  enum class Drag { kRotate, kRotateHorizontal, kPan, kPanHorizontal, kZoom };
  void Move(Drag drag, double dx, double dy);
  void Scroll(double amount);

  FreeCamera camera() const;
  void set_camera(const FreeCamera& camera);

 private:
  ModelPtr model_;
  std::unique_ptr<Env> env_;  // holds the drawn state (Env::SetState recomputes kinematics)
  mjvScene scene_;
  mjvOption option_;
  mjvCamera camera_;
  mjrContext context_;
  int height_ = 1;            // of the last draw, to scale mouse motion
};

}  // namespace padbench::viewer
