#include "sim/env.h"

#include <cmath>
#include <limits>

#include <catch2/catch.hpp>

#include "sim/assets.h"
#include "sim/error.h"
#include "tests/test_util.h"

namespace padbench {
namespace {

using Catch::Matchers::Contains;

ModelPtr Reach() { return LoadModel(AssetPath("tasks/reach.xml")); }

TEST_CASE("env: a malformed MJCF file gives padbench::Error naming the file", "[env]") {
  testing::TempPath path(".xml");
  testing::WriteText(path.str(), "<mujoco><worldbody><geom type='box' size='1 1 1'/></worldbody");
  REQUIRE_THROWS_WITH(LoadModel(path.str()), Contains(path.str()) && Contains("cannot load MJCF"));
  REQUIRE_THROWS_WITH(LoadModel("/nonexistent/model.xml"), Contains("/nonexistent/model.xml"));
}

TEST_CASE("env: a model without the robot convention is rejected with what is missing", "[env]") {
  testing::TempPath path(".xml");
  testing::WriteText(path.str(), "<mujoco><worldbody><geom type='plane' size='1 1 1'/></worldbody></mujoco>");
  REQUIRE_THROWS_WITH(Env::Create(LoadModel(path.str())), Contains("unknown body 'mocap'"));
}

TEST_CASE("env: MuJoCo errors become padbench::Error instead of waiting for Enter", "[env]") {
  InstallMujocoHandlers();
  REQUIRE_THROWS_AS(mju_error("boom"), Error);
  REQUIRE_THROWS_WITH(mju_error("boom"), Contains("MuJoCo error: boom"));
}

TEST_CASE("env: actions move the end effector and out-of-range components are clipped and counted", "[env]") {
  auto env = Env::Create(Reach());
  const auto start = env->EePos();
  StepResult r = env->Step({0.5f, 0.f, 0.f, 0.f});
  REQUIRE(r.status == StepStatus::kOk);
  REQUIRE_FALSE(r.clipped);
  for (int i = 0; i < 20; ++i) r = env->Step({3.f, 0.f, 0.f, -1.f});
  REQUIRE(r.clipped);
  REQUIRE(env->clipped_actions() == 20);
  REQUIRE(env->steps() == 21);
  // Clipped to 1: at most 1 cm per step of mocap motion (21 steps -> < 0.21 m + lag).
  const auto end = env->EePos();
  REQUIRE(end[0] - start[0] > 0.1);
  REQUIRE(end[0] - start[0] < 0.21);
  REQUIRE(std::abs(end[1] - start[1]) < 0.01);
  // The gripper opened at effort -1.
  REQUIRE(env->GripperOpening() > 0.07);
  REQUIRE_THROWS_AS(env->Step({std::nanf(""), 0.f, 0.f, 0.f}), Error);
}

TEST_CASE("env: physics divergence is reported, not silently reset", "[env]") {
  auto env = Env::Create(Reach());
  env->mutable_data().qvel[0] = std::numeric_limits<double>::infinity();
  const StepResult r = env->Step({0.f, 0.f, 0.f, 0.f});
  REQUIRE(r.status == StepStatus::kDiverged);
  REQUIRE(env->diverged());
  REQUIRE_FALSE(r.message.empty());
  REQUIRE_FALSE(env->warnings().empty());
  env->Reset();
  REQUIRE_FALSE(env->diverged());
  REQUIRE(env->Step({0.f, 0.f, 0.f, 0.f}).status == StepStatus::kOk);
}

TEST_CASE("env: Reset restores the initial state exactly", "[env]") {
  auto env = Env::Create(Reach());
  const std::vector<double> q0(env->data().qpos, env->data().qpos + env->model().nq);
  for (int i = 0; i < 10; ++i) env->Step({1.f, -1.f, 0.5f, 1.f});
  env->Reset();
  const std::vector<double> q1(env->data().qpos, env->data().qpos + env->model().nq);
  REQUIRE(q0 == q1);
  REQUIRE(env->steps() == 0);
  REQUIRE(env->clipped_actions() == 0);
}

TEST_CASE("env: a state copied into another Env reproduces the scene and the rest of the episode", "[env]") {
  auto a = Env::Create(Reach());
  for (int i = 0; i < 8; ++i) a->Step({1.f, 0.5f, -0.5f, 1.f});
  const SimState state = a->State();
  auto b = Env::Create(a->model_ptr());
  b->SetState(state);
  // Derived quantities are recomputed (a's lag one physics substep behind its qpos).
  for (int k = 0; k < 3; ++k) REQUIRE(std::abs(b->EePos()[k] - a->EePos()[k]) < 2e-3);
  REQUIRE(b->data().time == a->data().time);
  // Stepping both from the copied state stays identical (nothing the physics needs is missing).
  for (int i = 0; i < 5; ++i) {
    a->Step({-0.3f, 0.2f, 0.1f, -1.f});
    b->Step({-0.3f, 0.2f, 0.1f, -1.f});
  }
  const std::vector<double> qa(a->data().qpos, a->data().qpos + a->model().nq);
  const std::vector<double> qb(b->data().qpos, b->data().qpos + b->model().nq);
  REQUIRE(qa == qb);
  SimState bad = state;
  bad.qpos.pop_back();
  REQUIRE_THROWS_WITH(b->SetState(bad), Contains("qpos has"));
}

TEST_CASE("env: unknown names list what the model has", "[env]") {
  auto env = Env::Create(Reach());
  REQUIRE_THROWS_WITH(env->CameraId("nope"), Contains("corner") && Contains("unknown camera 'nope'"));
  REQUIRE_THROWS_WITH(env->BodyId("nope"), Contains("goal"));
}

}  // namespace
}  // namespace padbench
