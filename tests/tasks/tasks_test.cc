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
