// Offscreen MuJoCo renderer: RGB uint8 and metric depth from any named camera at any size.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sim/gl_context.h"
#include "sim/types.h"

namespace padbench {

struct RendererConfig {
  GlBackend backend = GlBackend::kAuto;
  bool shadows = true;
  bool skybox = false;
};

class Env;

// A free camera orbiting `lookat` (MuJoCo's mjCAMERA_FREE): the viewer's scene view and
// recorded scene panels. The default frames the table from the front-left corner.
struct FreeCamera {
  double lookat[3] = {0.0, 0.45, 0.15};
  double distance = 2.1;
  double azimuth = 125;   // degrees
  double elevation = -30; // degrees
};

// Owns a GL context (current on the creating thread) and MuJoCo's render state.
// Use one Renderer per thread; it renders any Env, rebuilding MuJoCo's render
// context (a few ms) when the model changes.
class Renderer {
 public:
  static std::unique_ptr<Renderer> Create(const RendererConfig& config = {});
  ~Renderer();
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  // Renders `camera` at height x width. `depth` may be null. The offscreen
  // buffer grows to fit the request. Throws padbench::Error on an unknown
  // camera (listing the model's cameras) or a bad size.
  void Render(const Env& env, const std::string& camera, int height, int width, Image* rgb,
              DepthImage* depth = nullptr);
  // Segmentation of `camera`: per pixel (row-major, top row first) the model geom id seen
  // there, or -1 for background and decorations. Leaves the RGB rendering state as it was.
  void RenderGeomIds(const Env& env, const std::string& camera, int height, int width, std::vector<int>* geom_ids);
  // Renders the scene from a free camera (viewer recordings).
  void RenderFree(const Env& env, const FreeCamera& camera, int height, int width, Image* rgb);

  GlBackend backend() const;
  std::string gl_renderer() const;

 private:
  struct State;
  explicit Renderer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace padbench
