// Walks every registered task: reset, success predicate, expert, determinism.
#include <catch2/catch.hpp>

#include "sim/error.h"
#include "sim/renderer.h"
#include "tasks/registry.h"
#include "tasks/task_env.h"

namespace padbench {
namespace {

using Catch::Matchers::Contains;

// Joint positions and mocap positions (goals and fixtures are mocap bodies).
std::vector<double> State(const Env& env) {
  std::vector<double> s(env.data().qpos, env.data().qpos + env.model().nq);
  s.insert(s.end(), env.data().mocap_pos, env.data().mocap_pos + 3 * env.model().nmocap);
  return s;
}

TEST_CASE("tasks: the suite has at least 12 tasks in three groups with instructions", "[tasks]") {
  const auto& tasks = AllTasks();
  REQUIRE(tasks.size() >= 12);
  REQUIRE(SuiteTasks("easy").size() >= 6);
  REQUIRE(SuiteTasks("medium").size() >= 3);
  REQUIRE(SuiteTasks("hard").size() >= 3);
  REQUIRE(SuiteTasks("default").size() == tasks.size());
  for (const auto& task : tasks) {
    INFO(task->Name());
    REQUIRE(task->info().instructions.size() >= 2);
    REQUIRE(task->MaxSteps() > 0);
    REQUIRE(FindTask(std::string(task->Name())) == task);
  }
}

TEST_CASE("tasks: unknown task, suite and camera names list the valid ones", "[tasks]") {
  REQUIRE_THROWS_WITH(FindTask("fly"), Contains("unknown task 'fly'") && Contains("reach") && Contains("pick-place"));
  REQUIRE_THROWS_WITH(SuiteTasks("tricky"), Contains("default, all, easy, medium, hard"));
  TaskEnvConfig config;
  config.cameras = {"corner", "ceiling"};
  REQUIRE_THROWS_WITH(TaskEnv::Create(FindTask("reach"), config, nullptr),
                      Contains("unknown camera 'ceiling'") && Contains("corner"));
}

TEST_CASE("tasks: every task resets to a state where success is false and its expert succeeds", "[tasks][slow]") {
  for (const auto& task : AllTasks()) {
    auto env = TaskEnv::Create(task, {}, nullptr);
    for (uint64_t seed : {1, 2, 3}) {
      INFO(task->Name() << " seed " << seed);
      env->Reset(seed);
      REQUIRE_FALSE(env->Success());
      const ExpertEpisode ep = RunExpertEpisode(*env, seed, 0.0);
      REQUIRE(ep.failure == "");
      REQUIRE(ep.success);
      REQUIRE(env->env().warnings().empty());
    }
  }
}

TEST_CASE("tasks: the same seed gives bit-identical first observations and expert trajectories", "[tasks]") {
  auto renderer = Renderer::Create();
  TaskEnvConfig config;
  config.depth = true;
  for (const auto& task : AllTasks()) {
    INFO(task->Name());
    auto a = TaskEnv::Create(task, config, renderer.get());
    auto b = TaskEnv::Create(task, config, renderer.get());
    const Observation oa = a->Reset(7), ob = b->Reset(7);
    REQUIRE(oa.rgb.at("corner").pixels == ob.rgb.at("corner").pixels);
    REQUIRE(oa.depth.at("corner").metres == ob.depth.at("corner").metres);
    REQUIRE(oa.instruction == ob.instruction);
    // A different seed moves something.
    b->Reset(8);
    REQUIRE(State(a->env()) != State(b->env()));

    std::vector<std::vector<double>> ta, tb;
    for (auto* env : {a.get(), b.get()}) {
      auto& traj = env == a.get() ? ta : tb;
      RunExpertEpisode(*env, 11, 0.1, [&](const Observation&, const Action&) { traj.push_back(State(env->env())); });
    }
    REQUIRE(ta.size() > 1);
    REQUIRE(ta == tb);
  }
}

}  // namespace
}  // namespace padbench

namespace padbench {
namespace {

// The object mask behind the object-masked PSNR: the robot and what moves, not the static scene.
TEST_CASE("tasks: the object mask is non-empty for every task, covers the robot and leaves out the table",
          "[tasks]") {
  auto renderer = Renderer::Create();
  for (const auto& task : AllTasks()) {
    INFO(task->Name());
    auto env = TaskEnv::Create(task, TaskEnvConfig{}, renderer.get());
    env->Reset(5);
    const Image mask = env->ObjectMask("corner");
    REQUIRE(mask.channels == 1);
    REQUIRE(mask.height == 64);
    std::vector<int> ids;
    renderer->RenderGeomIds(env->env(), "corner", 64, 64, &ids);
    const mjModel& m = env->env().model();
    int robot = 0, robot_masked = 0, static_masked = 0, on = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      on += mask.pixels[i] != 0;
      if (ids[i] < 0) continue;
      // The robot: the links below robot_base (the base itself is fixed).
      int body = m.geom_bodyid[ids[i]];
      bool is_robot = false;
      for (int b = body; b > 0; b = m.body_parentid[b]) {
        const char* name = mj_id2name(&m, mjOBJ_BODY, b);
        if (b != body && name && std::string(name) == "robot_base") is_robot = true;
      }
      if (is_robot) {
        ++robot;
        robot_masked += mask.pixels[i] != 0;
      }
      if (body == 0) static_masked += mask.pixels[i] != 0;  // the world body: floor, table
    }
    REQUIRE(on > 0);
    REQUIRE(robot > 0);
    REQUIRE(robot_masked == robot);
    REQUIRE(static_masked == 0);
    REQUIRE(on < int(ids.size()) / 2);  // background and table dominate the frame
  }
}

}  // namespace
}  // namespace padbench
