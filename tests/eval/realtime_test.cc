// Real-time evaluation (ActTiming): what the arm does while an Act call is on its way.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include <catch2/catch.hpp>

#include "eval/engine/engine.h"
#include "eval/engine/rollout.h"
#include "sim/error.h"
#include "tasks/registry.h"
#include "tests/test_util.h"

namespace padbench {
namespace {

using Catch::Matchers::Contains;

// Returns chunks of `length` entries; entry i of the k-th chunk moves x by 0.1 (i + 1) and y by
// 0.01 (k + 1), so that every applied action tells which chunk and entry it came from. The
// gripper closes in even chunks and opens in odd ones. Sees no images.
class ChunkPolicy final : public Policy {
 public:
  explicit ChunkPolicy(int length, int sleep_ms = 0) : length_(length), sleep_ms_(sleep_ms) {}
  std::string_view Name() const override { return "chunks"; }
  PolicyInputs Inputs() const override { return {{}, 64, false}; }
  void Reset(const EpisodeInfo&) override {
    chunks_ = 0;
    act_steps.clear();
  }
  PolicyOutput Act(const Observation& obs) override {
    if (sleep_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms_));
    act_steps.push_back(obs.step);
    PolicyOutput out;
    for (int i = 0; i < length_; ++i) {
      out.actions.push_back({0.1f * float(i + 1), 0.01f * float(chunks_ + 1), 0.f, chunks_ % 2 == 0 ? 1.f : -1.f});
    }
    ++chunks_;
    return out;
  }
  std::vector<int> act_steps;  // the observation step of each Act

 private:
  int length_, sleep_ms_, chunks_ = 0;
};

// What was applied at each step: {chunk, entry}, or {-1, -1} for the arm holding still; and the
// gripper effort of each applied action.
struct Applied final : RolloutObserver {
  std::vector<std::pair<int, int>> steps;
  std::vector<float> gripper;
  void OnStep(const Action& a, const Observation&, const std::vector<ScoredPrediction>&) override {
    if (a[0] == 0 && a[1] == 0 && a[2] == 0) {
      steps.push_back({-1, -1});
    } else {
      steps.push_back({int(std::lround(a[1] / 0.01f)) - 1, int(std::lround(a[0] / 0.1f)) - 1});
    }
    gripper.push_back(a[3]);
  }
};

struct Run {
  EpisodeRecord record;
  Applied applied;
  std::vector<int> act_steps;
};

Run RunChunks(int length, ActTiming timing, int sleep_ms = 0) {
  ChunkPolicy policy(length, sleep_ms);
  auto env = MakeTaskEnv(FindTask("drawer-open"), policy, nullptr);
  Run run;
  run.record = RunEpisode(*env, policy, {"chunks", 0, 3, timing}, false, {&run.applied});
  run.act_steps = policy.act_steps;
  return run;
}

// Steps the observer saw the arm hold still.
int Held(const Run& run) { return int(std::count(run.applied.steps.begin(), run.applied.steps.end(), std::pair(-1, -1))); }

TEST_CASE("realtime: with no latency it equals the synchronous episode", "[realtime]") {
  const Run sync = RunChunks(4, {});
  const Run zero = RunChunks(4, {true, 0});
  REQUIRE(sync.record.length > 20);
  REQUIRE(zero.applied.steps == sync.applied.steps);
  REQUIRE(zero.act_steps == sync.act_steps);
  REQUIRE(zero.record.length == sync.record.length);
  REQUIRE_FALSE(sync.record.held_steps.has_value());  // synchronous records stay as they were
  REQUIRE(zero.record.held_steps == 0);
  REQUIRE(sync.applied.steps[5] == std::pair(1, 1));
}

TEST_CASE("realtime: a 30 ms Act holds the arm for two steps, then hides behind the chunk", "[realtime]") {
  const Run run = RunChunks(4, {true, 30});
  // Act on step 0 arrives at step 2: two held steps, then entries 2 and 3 (0 and 1 are past). The
  // next Act starts on arrival (2 entries left, the last delay was 2) and lands as the chunk ends.
  const std::vector<std::pair<int, int>> expected{{-1, -1}, {-1, -1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 2}};
  REQUIRE(std::vector(run.applied.steps.begin(), run.applied.steps.begin() + 7) == expected);
  REQUIRE(std::vector(run.act_steps.begin(), run.act_steps.begin() + 4) == std::vector{0, 2, 4, 6});
  REQUIRE(run.record.held_steps == 2);
  REQUIRE(Held(run) == 2);
  REQUIRE(run.record.act_calls == (run.record.length + 1) / 2);
}

TEST_CASE("realtime: a chunk shorter than the delay keeps its last entry and the gripper holds", "[realtime]") {
  const Run run = RunChunks(1, {true, 50});  // ceil(50 / 20) = 3 steps
  const std::vector<std::pair<int, int>> expected{{-1, -1}, {-1, -1}, {-1, -1}, {0, 0}, {-1, -1},
                                                  {-1, -1}, {1, 0},   {-1, -1}, {-1, -1}, {2, 0}};
  REQUIRE(std::vector(run.applied.steps.begin(), run.applied.steps.begin() + 10) == expected);
  REQUIRE(std::vector(run.act_steps.begin(), run.act_steps.begin() + 3) == std::vector{0, 3, 6});
  // Holding still repeats the gripper's last command: closed after chunk 0, open after chunk 1.
  REQUIRE(run.applied.gripper[4] == Approx(1.0f));
  REQUIRE(run.applied.gripper[5] == Approx(1.0f));
  REQUIRE(run.applied.gripper[7] == Approx(-1.0f));
  REQUIRE(*run.record.held_steps == Held(run));
}

TEST_CASE("realtime: with a fixed latency episodes repeat exactly; measured latency is the wall time", "[realtime]") {
  const Run a = RunChunks(4, {true, 45}), b = RunChunks(4, {true, 45});
  REQUIRE(a.applied.steps == b.applied.steps);
  REQUIRE(std::vector(a.applied.steps.begin(), a.applied.steps.begin() + 4) ==
          std::vector<std::pair<int, int>>{{-1, -1}, {-1, -1}, {-1, -1}, {0, 3}});
  REQUIRE(*a.record.held_steps == Held(a));
  // An Act sleeping 25 ms takes at least two control steps (20 ms each) of simulated time.
  const Run measured = RunChunks(8, {true, -1}, 25);
  REQUIRE(*measured.record.held_steps >= 2);
  REQUIRE(measured.applied.steps[0] == std::pair(-1, -1));
  REQUIRE(measured.applied.steps[1] == std::pair(-1, -1));
}

TEST_CASE("realtime: the run names its timing, and --resume refuses the other timing", "[realtime][engine]") {
  testing::TempPath out;
  EvalConfig c;
  c.policies = {"expert"};
  c.tasks = {FindTask("reach")};
  c.episodes = 2;
  c.workers = 1;
  c.out_dir = out.str();
  c.progress = false;
  c.write_plots = false;
  c.timing = {true, 40};
  const EvalOutcome run = RunEval(c);
  REQUIRE(run.results.at("config").at("act_timing").at("latency_ms") == 40.0);
  const auto& overall = run.results.at("aggregated").at("policies").at("expert").at("overall");
  REQUIRE(overall.at("held_fraction").get<double>() > 0);
  for (const EpisodeRecord& r : run.episodes) REQUIRE(r.held_steps >= 2);
  c.resume = true;
  c.timing = {};
  REQUIRE_THROWS_WITH(RunEval(c), Contains("holds a different run"));
}

}  // namespace
}  // namespace padbench
