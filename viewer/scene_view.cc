#include "viewer/scene_view.h"

#include <algorithm>

namespace padbench::viewer {

SceneView::SceneView() {
  mjv_defaultScene(&scene_);
  mjv_defaultOption(&option_);
  mjv_defaultCamera(&camera_);
  mjr_defaultContext(&context_);
  set_camera(FreeCamera{});
}

SceneView::~SceneView() {
  mjr_freeContext(&context_);
  mjv_freeScene(&scene_);
}

void SceneView::Draw(const ModelPtr& model, const SimState& state, int x, int y, int width, int height) {
  if (!model || width <= 0 || height <= 0) return;
  if (model != model_) {
    mjr_freeContext(&context_);
    mjv_freeScene(&scene_);
    model_ = model;
    env_ = Env::Create(model_);
    mjv_makeScene(model_.get(), &scene_, 4000);
    mjr_makeContext(model_.get(), &context_, mjFONTSCALE_150);
  }
  env_->SetState(state);
  height_ = height;
  mjv_updateScene(model_.get(), &env_->mutable_data(), &option_, nullptr, &camera_, mjCAT_ALL, &scene_);
  mjr_setBuffer(mjFB_WINDOW, &context_);
  mjr_render(mjrRect{x, y, width, height}, &scene_, &context_);
}

void SceneView::Move(Drag drag, double dx, double dy) {
  if (!model_) return;
  const mjtMouse action = drag == Drag::kRotate             ? mjMOUSE_ROTATE_V
                          : drag == Drag::kRotateHorizontal ? mjMOUSE_ROTATE_H
                          : drag == Drag::kPan              ? mjMOUSE_MOVE_V
                          : drag == Drag::kPanHorizontal    ? mjMOUSE_MOVE_H
                                                            : mjMOUSE_ZOOM;
  mjv_moveCamera(model_.get(), action, dx / height_, dy / height_, &scene_, &camera_);
}

void SceneView::Scroll(double amount) {
  // Wheel forward (amount > 0) zooms in.
  if (model_) mjv_moveCamera(model_.get(), mjMOUSE_ZOOM, 0, 0.05 * amount, &scene_, &camera_);
}

FreeCamera SceneView::camera() const {
  FreeCamera c;
  std::copy_n(camera_.lookat, 3, c.lookat);
  c.distance = camera_.distance;
  c.azimuth = camera_.azimuth;
  c.elevation = camera_.elevation;
  return c;
}

void SceneView::set_camera(const FreeCamera& c) {
  camera_.type = mjCAMERA_FREE;
  std::copy_n(c.lookat, 3, camera_.lookat);
  camera_.distance = c.distance;
  camera_.azimuth = c.azimuth;
  camera_.elevation = c.elevation;
}

}  // namespace padbench::viewer
