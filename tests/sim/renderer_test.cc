#include "sim/renderer.h"

#include <algorithm>
#include <cmath>

#include <catch2/catch.hpp>
#include <mujoco/mujoco.h>

#include "sim/assets.h"
#include "sim/env.h"
#include "sim/error.h"

namespace padbench {
namespace {

using Catch::Matchers::Contains;

// Distinct pixel values: a constant (e.g. all-black) frame has 1.
size_t DistinctValues(const Image& img) {
  std::vector<int> seen(256 * 256 * 256 / 32, 0);
  size_t n = 0;
  for (size_t i = 0; i < img.pixels.size(); i += 3) {
    const int key = (img.pixels[i] << 16 | img.pixels[i + 1] << 8 | img.pixels[i + 2]) / 32;
    if (!seen[key]++) ++n;
  }
  return n;
}

double RowMean(const Image& img, int row) {
  double sum = 0;
  for (int i = 0; i < img.width * 3; ++i) sum += img.pixels[size_t(row) * img.width * 3 + i];
  return sum / (img.width * 3);
}

// Every test case runs in its own process under ctest, so each may pick its own GL backend.
void CheckBackend(GlBackend backend) {
  auto renderer = Renderer::Create({backend});
  REQUIRE(renderer->backend() == backend);
  auto env = Env::Create(LoadModel(AssetPath("tasks/reach.xml")));
  for (auto [h, w] : {std::pair{64, 64}, std::pair{37, 100}, std::pair{480, 640}}) {
    Image rgb;
    renderer->Render(*env, "corner", h, w, &rgb);
    REQUIRE(rgb.height == h);
    REQUIRE(rgb.width == w);
    REQUIRE(rgb.pixels.size() == size_t(h) * w * 3);
    REQUIRE(DistinctValues(rgb) > 10);
    // Rows are top-down: the bottom row is all bright table, the top row has the dark background.
    REQUIRE(RowMean(rgb, 0) < RowMean(rgb, h - 1));
  }
}

TEST_CASE("renderer: EGL renders frames of the requested size that are not constant", "[renderer]") {
  CheckBackend(GlBackend::kEgl);
}

TEST_CASE("renderer: OSMesa renders frames of the requested size that are not constant", "[renderer]") {
  CheckBackend(GlBackend::kOsmesa);
}

TEST_CASE("renderer: depth is metric (matches a ray cast along the optical axis)", "[renderer]") {
  auto renderer = Renderer::Create();
  auto env = Env::Create(LoadModel(AssetPath("tasks/reach.xml")));
  const mjModel& m = env->model();
  const mjData& d = env->data();
  for (const char* camera : {"corner", "wrist"}) {
    Image rgb;
    DepthImage depth;
    renderer->Render(*env, camera, 65, 65, &rgb, &depth);  // odd size: one pixel on the axis
    REQUIRE(depth.height == 65);
    REQUIRE(depth.width == 65);
    const int cam = mj_name2id(&m, mjOBJ_CAMERA, camera);
    const mjtNum* xmat = d.cam_xmat + 9 * cam;
    const mjtNum axis[3] = {-xmat[2], -xmat[5], -xmat[8]};  // the camera looks along its -z
    int geom = -1;
    const mjtNum hit = mj_ray(&m, &d, d.cam_xpos + 3 * cam, axis, nullptr, 1, -1, &geom);
    REQUIRE(hit > 0);
    // On a slanted surface depth changes by ~2% per pixel here; the ray must fall
    // within the 3x3 pixels around the axis (a wrong near/far mapping is off by far more).
    float lo = 1e9f, hi = 0;
    for (int r = 31; r <= 33; ++r)
      for (int c = 31; c <= 33; ++c) lo = std::min(lo, depth.metres[r * 65 + c]), hi = std::max(hi, depth.metres[r * 65 + c]);
    INFO(camera << ": ray " << hit << " m, depth around the axis " << lo << ".." << hi << " m");
    REQUIRE(hi - lo < 0.1);
    REQUIRE(lo <= hit + 1e-3);
    REQUIRE(hit - 1e-3 <= hi);
  }
}

TEST_CASE("renderer: a missing camera or a bad size is a clear error", "[renderer]") {
  auto renderer = Renderer::Create();
  auto env = Env::Create(LoadModel(AssetPath("tasks/reach.xml")));
  Image rgb;
  REQUIRE_THROWS_WITH(renderer->Render(*env, "nope", 64, 64, &rgb), Contains("unknown camera 'nope'") && Contains("corner"));
  REQUIRE_THROWS_AS(renderer->Render(*env, "corner", 0, 64, &rgb), Error);
  REQUIRE_THROWS_WITH(ParseGlBackend("vulkan"), Contains("auto, egl, osmesa"));
}

}  // namespace
}  // namespace padbench
