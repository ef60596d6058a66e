#include "sim/renderer.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <mujoco/mujoco.h>

#include "sim/env.h"
#include "sim/error.h"

namespace padbench {

struct Renderer::State {
  ModelPtr model;  // held so that a model is never freed (and its address reused) while bound
  std::unique_ptr<GlContext> gl;
  RendererConfig config;
  mjvScene scene;
  mjvOption option;
  mjrContext context;
  int buffer_width = 0, buffer_height = 0;
  std::vector<uint8_t> rgb_scratch;
  std::vector<float> depth_scratch;

  ~State() {
    if (gl) gl->MakeCurrent();
    mjr_freeContext(&context);
    mjv_freeScene(&scene);
  }

  // Makes MuJoCo's scene and render context follow `m` (textures and meshes are per model).
  void Bind(const ModelPtr& m) {
    if (m == model) return;
    mjr_freeContext(&context);
    mjv_freeScene(&scene);
    mjv_defaultScene(&scene);
    mjr_defaultContext(&context);
    mjv_makeScene(m.get(), &scene, 2000);
    model = m;
    const int w = std::max(buffer_width, 64), h = std::max(buffer_height, 64);
    buffer_width = buffer_height = 0;
    EnsureBuffer(w, h);
  }

  // (Re)creates MuJoCo's render context with an offscreen buffer of at least w x h.
  // The buffer size is read from the model, which is shared and immutable, so a
  // private copy with the new size is made for mjr_makeContext only.
  void EnsureBuffer(int w, int h) {
    if (w <= buffer_width && h <= buffer_height) return;
    const int new_w = std::max(w, buffer_width), new_h = std::max(h, buffer_height);
    mjModel* sized = mj_copyModel(nullptr, model.get());
    sized->vis.global.offwidth = new_w;
    sized->vis.global.offheight = new_h;
    mjr_freeContext(&context);
    mjr_defaultContext(&context);
    mjr_makeContext(sized, &context, mjFONTSCALE_100);
    mj_deleteModel(sized);
    mjr_setBuffer(mjFB_OFFSCREEN, &context);
    if (context.currentBuffer != mjFB_OFFSCREEN) throw Error("renderer: offscreen framebuffer is not supported");
    buffer_width = new_w;
    buffer_height = new_h;
  }

  void Draw(const Env& env, mjvCamera& camera, int h, int w, Image* rgb, DepthImage* depth, bool segment = false) {
    if (h < 1 || w < 1 || h > 4096 || w > 4096) throw Error(fmt::format("bad render size {}x{}", h, w));
    gl->MakeCurrent();
    Bind(env.model_ptr());
    EnsureBuffer(w, h);
    scene.flags[mjRND_SHADOW] = config.shadows && !segment;
    scene.flags[mjRND_SKYBOX] = config.skybox && !segment;
    // Segmentation draws each scene geom in a flat colour that encodes its index + 1.
    scene.flags[mjRND_SEGMENT] = segment;
    scene.flags[mjRND_IDCOLOR] = segment;
    mjv_updateScene(model.get(), const_cast<mjData*>(&env.data()), &option, nullptr, &camera, mjCAT_ALL, &scene);
    const mjrRect viewport{0, 0, w, h};
    mjr_render(viewport, &scene, &context);
    scene.flags[mjRND_SEGMENT] = 0;
    scene.flags[mjRND_IDCOLOR] = 0;
    const size_t n = size_t(w) * h;
    rgb_scratch.resize(3 * n);
    if (depth) depth_scratch.resize(n);
    mjr_readPixels(rgb_scratch.data(), depth ? depth_scratch.data() : nullptr, viewport, &context);

    // OpenGL's rows run bottom-up; images here run top-down.
    *rgb = Image(h, w, 3);
    for (int r = 0; r < h; ++r) {
      std::memcpy(rgb->data() + size_t(r) * w * 3, rgb_scratch.data() + size_t(h - 1 - r) * w * 3, size_t(w) * 3);
    }
    if (depth) {
      // Window depth in [0,1] -> metres, with the near/far planes MuJoCo used.
        const double extent = model->stat.extent;
      const double near = model->vis.map.znear * extent, far = model->vis.map.zfar * extent;
      *depth = DepthImage(h, w);
      for (int r = 0; r < h; ++r) {
        const float* src = depth_scratch.data() + size_t(h - 1 - r) * w;
        float* dst = depth->metres.data() + size_t(r) * w;
        for (int c = 0; c < w; ++c) dst[c] = float(near / (1.0 - src[c] * (1.0 - near / far)));
      }
    }
  }
};

std::unique_ptr<Renderer> Renderer::Create(const RendererConfig& config) {
  InstallMujocoHandlers();
  auto state = std::make_unique<State>();
  state->config = config;
  mjv_defaultScene(&state->scene);
  mjv_defaultOption(&state->option);
  mjr_defaultContext(&state->context);
  state->gl = GlContext::Create(config.backend);
  return std::unique_ptr<Renderer>(new Renderer(std::move(state)));
}

Renderer::Renderer(std::unique_ptr<State> state) : state_(std::move(state)) {}
Renderer::~Renderer() = default;

void Renderer::Render(const Env& env, const std::string& camera, int height, int width, Image* rgb,
                      DepthImage* depth) {
  const mjModel& m = env.model();
  const int id = mj_name2id(&m, mjOBJ_CAMERA, camera.c_str());
  if (id < 0) {
    std::string names;
    for (int i = 0; i < m.ncam; ++i) names += (i ? ", " : "") + std::string(mj_id2name(&m, mjOBJ_CAMERA, i));
    throw Error(fmt::format("unknown camera '{}'; valid: {}", camera, names.empty() ? "(none)" : names));
  }
  mjvCamera cam;
  mjv_defaultCamera(&cam);
  cam.type = mjCAMERA_FIXED;
  cam.fixedcamid = id;
  state_->Draw(env, cam, height, width, rgb, depth);
}

void Renderer::RenderGeomIds(const Env& env, const std::string& camera, int height, int width,
                             std::vector<int>* geom_ids) {
  const mjModel& m = env.model();
  const int id = mj_name2id(&m, mjOBJ_CAMERA, camera.c_str());
  if (id < 0) throw Error(fmt::format("unknown camera '{}'", camera));
  mjvCamera cam;
  mjv_defaultCamera(&cam);
  cam.type = mjCAMERA_FIXED;
  cam.fixedcamid = id;
  Image colours;
  state_->Draw(env, cam, height, width, &colours, nullptr, /*segment=*/true);
  // Pixel colour = segid + 1; segid -> model geom id (decorations and other objects: -1).
  const mjvScene& scene = state_->scene;
  std::vector<int> by_segid;
  for (int k = 0; k < scene.ngeom; ++k) {
    const mjvGeom& g = scene.geoms[k];
    if (g.segid < 0) continue;
    if (int(by_segid.size()) <= g.segid) by_segid.resize(g.segid + 1, -1);
    by_segid[g.segid] = g.objtype == mjOBJ_GEOM ? g.objid : -1;
  }
  geom_ids->assign(size_t(height) * width, -1);
  for (size_t i = 0; i < geom_ids->size(); ++i) {
    const uint8_t* c = colours.data() + 3 * i;
    const int segid = int(c[0]) + 256 * int(c[1]) + 65536 * int(c[2]) - 1;
    if (segid >= 0 && segid < int(by_segid.size())) (*geom_ids)[i] = by_segid[segid];
  }
}

void Renderer::RenderFree(const Env& env, const FreeCamera& camera, int height, int width, Image* rgb) {
  mjvCamera cam;
  mjv_defaultCamera(&cam);
  cam.type = mjCAMERA_FREE;
  std::copy_n(camera.lookat, 3, cam.lookat);
  cam.distance = camera.distance;
  cam.azimuth = camera.azimuth;
  cam.elevation = camera.elevation;
  state_->Draw(env, cam, height, width, rgb, nullptr);
}

GlBackend Renderer::backend() const { return state_->gl->backend(); }
std::string Renderer::gl_renderer() const { return state_->gl->RendererName(); }

}  // namespace padbench
