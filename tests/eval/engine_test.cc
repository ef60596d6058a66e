// The evaluation engine: determinism across workers, failure isolation, resume
// after a kill, shard + merge, and the results.json schema (golden file).
#include "eval/engine/engine.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "policies/registry.h"
#include "sim/error.h"
#include "sim/gl_context.h"
#include "sim/renderer.h"
#include "tasks/registry.h"
#include "tests/eval/fork_run.h"
#include "tests/test_util.h"

namespace padbench {
namespace {

using Catch::Matchers::Contains;
using json = nlohmann::json;

EvalConfig SmallRun(const std::string& out, int workers) {
  EvalConfig c;
  c.policies = {"expert", "random"};
  c.tasks = {FindTask("reach"), FindTask("push")};
  c.episodes = 3;
  c.seed = 11;
  c.workers = workers;
  c.out_dir = out;
  c.progress = false;
  c.write_plots = false;
  return c;
}

// The deterministic part of an episode record.
json Outcome(const EpisodeRecord& r) {
  json j = EpisodeToJson(r);
  for (const char* timing : {"act_ms", "warmup", "wall_s", "policy_s", "physics_s", "render_s"}) j.erase(timing);
  j.at("metrics").erase("act_stages");
  return j;
}

std::vector<json> Outcomes(const std::vector<EpisodeRecord>& records) {
  std::vector<json> out;
  for (const auto& r : records) out.push_back(Outcome(r));
  return out;
}

// A policy that fails in chosen ways: throws, returns NaN, or returns an empty chunk.
class FaultyPolicy final : public Policy {
 public:
  std::string_view Name() const override { return "faulty"; }
  void Reset(const EpisodeInfo& info) override {
    seed_ = info.seed;
    step_ = 0;
  }
  PolicyOutput Act(const Observation& obs) override {
    ++step_;
    const int mode = int(seed_ % 4);
    if (step_ == 3 && mode == 0) throw std::runtime_error("boom at step 3");
    if (step_ == 2 && mode == 1) return {{{0.f, std::nanf(""), 0.f, 0.f}}, {}, {}};
    if (step_ == 4 && mode == 2) return {};
    // Otherwise: move a little, and "predict" that the next frame equals this one.
    return {{{0.1f, 0.f, 0.f, 0.f}}, {{1, obs.rgb.at("corner"), PredictionKind::kFuture, "corner"}}, {}};
  }

 private:
  uint64_t seed_ = 0;
  int step_ = 0;
};

TEST_CASE("engine: per-episode outcomes are identical for 1 and 2 workers", "[engine]") {
  testing::TempPath a, b;
  const EvalOutcome two = RunEval(SmallRun(b.str(), 2));
  const EvalOutcome one = RunEval(SmallRun(a.str(), 1));
  REQUIRE_FALSE(GlContextCreated());  // one worker runs in a process of its own too
  REQUIRE(one.episodes.size() == 12);
  REQUIRE(Outcomes(one.episodes) == Outcomes(two.episodes));
  // A process that renders itself cannot fork workers; one worker then runs in-process, alike.
  auto renderer = Renderer::Create();
  REQUIRE(GlContextCreated());
  REQUIRE_THROWS_WITH(RunEval(SmallRun(b.str() + "_again", 2)), Contains("already created a GL context"));
  testing::TempPath c;
  REQUIRE(Outcomes(RunEval(SmallRun(c.str(), 1)).episodes) == Outcomes(two.episodes));
  const json& agg = two.results.at("aggregated").at("policies");
  REQUIRE(agg.at("expert").at("overall").at("successes") == 6);
  REQUIRE(agg.at("random").at("overall").at("successes") == 0);
  for (const char* file : {"results.json", "summary.md", "per_task.csv", "episodes.jsonl", "run.json"}) {
    REQUIRE(std::filesystem::exists(b.path() / file));
  }
}

TEST_CASE("engine: a failing policy is recorded per episode and the run goes on", "[engine]") {
  testing::TempPath out;
  EvalConfig c = SmallRun(out.str(), 1);
  c.policies = {"faulty"};
  c.tasks = {FindTask("reach")};
  c.episodes = 8;
  c.make_policy = [](const std::string&) { return std::make_unique<FaultyPolicy>(); };
  const EvalOutcome run = RunEval(c);
  REQUIRE(run.episodes.size() == 8);
  std::set<std::string> details;
  int errors = 0;
  for (const EpisodeRecord& r : run.episodes) {
    const int mode = int(r.seed % 4);
    INFO("seed " << r.seed << " mode " << mode << " failure " << r.failure << ": " << r.failure_detail);
    if (mode <= 2) {
      ++errors;
      REQUIRE(r.failure == "policy_error");
      REQUIRE_FALSE(r.success);
      details.insert(r.failure_detail.substr(0, 12));
    } else {
      REQUIRE(r.failure == "timeout");
      REQUIRE(r.length == FindTask("reach")->MaxSteps());
      // Prediction quality was measured for the "next frame = this frame" guess, which is
      // exactly the persistence baseline: the two metrics must agree to the bit.
      const json& prediction = r.metrics.at("prediction");
      REQUIRE(prediction.size() == 1);
      REQUIRE(prediction[0].at("kind") == "future");
      REQUIRE(prediction[0].at("camera") == "corner");
      REQUIRE(prediction[0].at("horizon") == 1);
      REQUIRE(prediction[0].at("count") == r.length);
      REQUIRE(prediction[0].at("psnr_sum").get<double>() / r.length > 15);
      const json& persistence = r.metrics.at("persistence");
      REQUIRE(persistence[0].at("count") == r.length);
      REQUIRE(persistence[0].at("psnr_sum") == prediction[0].at("psnr_sum"));
      REQUIRE(persistence[0].at("ssim_sum") == prediction[0].at("ssim_sum"));
      // Over the robot and movable objects, the model is again exactly the copy.
      const json& masked = r.metrics.at("masked_psnr");
      REQUIRE(masked[0].at("count").get<int>() > 0);
      REQUIRE(masked[0].at("psnr_sum") == masked[0].at("persistence_psnr_sum"));
      REQUIRE(masked[0].at("object_fraction_sum").get<double>() > 0);
    }
  }
  REQUIRE(errors > 0);
  const json& overall = run.results.at("aggregated").at("policies").at("faulty").at("overall");
  REQUIRE(overall.at("failures").at("policy_error") == errors);
}

TEST_CASE("engine: resume after SIGKILL finishes without losing or repeating an episode", "[engine][slow]") {
  testing::TempPath out;
  EvalConfig c = SmallRun(out.str(), 1);
  c.policies = {"random"};  // every episode runs its full length: slow enough to kill mid-run
  c.tasks = {FindTask("reach")};
  c.episodes = 12;
  const std::string jsonl = out.str() + "/episodes.jsonl";
  const pid_t child = testing::ForkRun(c);
  REQUIRE(child >= 0);
  auto lines = [&] {
    std::ifstream in(jsonl);
    return int(std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n'));
  };
  testing::WaitFor([&] { return lines() >= 3; }, std::chrono::seconds(60));
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  const int saved = lines();
  REQUIRE(saved >= 3);
  REQUIRE(saved < 12);
  // A torn line, as a kill in the middle of a write would leave.
  std::ofstream(jsonl, std::ios::app) << "{\"policy\":\"random\",\"ta";

  REQUIRE_THROWS_WITH(RunEval(c), Contains("--resume"));
  c.resume = true;
  const EvalOutcome resumed = RunEval(c);
  REQUIRE(resumed.episodes_resumed == saved);
  REQUIRE(resumed.episodes_run == 12 - saved);
  std::set<int> indices;
  for (const EpisodeRecord& r : resumed.episodes) indices.insert(r.index);
  REQUIRE(indices.size() == 12);
  REQUIRE(resumed.episodes.size() == 12);
  REQUIRE(lines() == 12);
  REQUIRE(ReadEpisodesJsonl(jsonl).size() == 12);

  // A different run cannot resume into this folder.
  c.seed = 12;
  REQUIRE_THROWS_WITH(RunEval(c), Contains("different run"));
}

TEST_CASE("engine: shards merged give the unsharded run's results", "[engine]") {
  testing::TempPath whole, s0, s1, merged;
  const EvalOutcome full = RunEval(SmallRun(whole.str(), 1));
  for (int i = 0; i < 2; ++i) {
    EvalConfig c = SmallRun((i ? s1 : s0).str(), 1);
    c.shard_index = i;
    c.shard_count = 2;
    const EvalOutcome part = RunEval(c);
    REQUIRE(part.episodes.size() == 6);
  }
  REQUIRE_THROWS_WITH(MergeShards({s0.str()}, merged.str(), "test", false), Contains("1 of 2 shards"));
  const EvalOutcome combined = MergeShards({s1.str(), s0.str()}, merged.str(), "test", false);
  REQUIRE(Outcomes(combined.episodes) == Outcomes(full.episodes));
  const json& a = full.results.at("aggregated").at("policies");
  const json& b = combined.results.at("aggregated").at("policies");
  for (const char* policy : {"expert", "random"}) {
    REQUIRE(a.at(policy).at("tasks") == b.at(policy).at("tasks"));
    REQUIRE(a.at(policy).at("overall") == b.at(policy).at("overall"));
  }
  REQUIRE(combined.results.at("config") == full.results.at("config"));
}

// Batches its rows, and what a row gets depends on its place and the batch's size (as float
// rounding can): row r of B returns chunks of r + 1 + B actions.
class RowPolicy final : public Policy {
 public:
  std::string_view Name() const override { return "rows"; }
  void Reset(const EpisodeInfo&) override {}
  PolicyOutput Act(const Observation& obs) override { return ActBatch({this}, {&obs})[0]; }
  std::vector<PolicyOutput> ActBatch(const std::vector<Policy*>& rows, const std::vector<const Observation*>&) override {
    std::vector<PolicyOutput> out(rows.size());
    for (size_t r = 0; r < rows.size(); ++r) {
      if (rows[r]) out[r].actions.assign(r + 1 + rows.size(), Action{0.02f, 0.f, 0.f, 0.f});
    }
    return out;
  }
};

EvalConfig BatchRun(const std::string& out, int workers) {
  EvalConfig c = SmallRun(out, workers);
  c.policies = {"rows"};
  c.tasks = {FindTask("reach")};
  c.episodes = 6;  // batches of 4 and 2 (two padding rows)
  c.batch_envs = 4;
  c.make_policy = [](const std::string& spec) -> std::unique_ptr<Policy> {
    if (spec == "rows") return std::make_unique<RowPolicy>();
    return MakePolicy(spec);
  };
  return c;
}

TEST_CASE("engine: batched episodes keep their rows whatever the workers, shards and resumes", "[engine][batch]") {
  testing::TempPath one, two;
  const EvalOutcome a = RunEval(BatchRun(one.str(), 1));
  REQUIRE(a.results.at("config").at("batch_envs") == 4);
  // Episode i runs in row i % 4 of a batch of 4: chunks of 5 + i % 4 over reach's 100 steps.
  for (const EpisodeRecord& r : a.episodes) {
    INFO("episode " << r.index);
    REQUIRE(r.length == 100);
    REQUIRE(r.act_calls == (100 + 4 + r.index % 4) / (5 + r.index % 4));
  }
  REQUIRE(Outcomes(RunEval(BatchRun(two.str(), 2)).episodes) == Outcomes(a.episodes));

  // Resume: the half-done first batch runs again, and only its missing episodes are kept.
  const std::string jsonl = one.str() + "/episodes.jsonl";
  std::vector<std::string> lines;
  for (std::ifstream in(jsonl); lines.size() < 6 && in;) {
    std::string line;
    if (std::getline(in, line)) lines.push_back(line);
  }
  std::ofstream(jsonl, std::ios::trunc) << lines[0] << "\n" << lines[3] << "\n";
  EvalConfig again = BatchRun(one.str(), 1);
  again.resume = true;
  const EvalOutcome resumed = RunEval(again);
  REQUIRE(resumed.episodes_resumed == 2);
  REQUIRE(resumed.episodes_run == 4);
  REQUIRE(ReadEpisodesJsonl(jsonl).size() == 6);
  REQUIRE(Outcomes(resumed.episodes) == Outcomes(a.episodes));
  again.batch_envs = 2;
  REQUIRE_THROWS_WITH(RunEval(again), Contains("different run"));

  // Shards hold the batches' other episodes as padding rows.
  testing::TempPath s0, s1, merged;
  for (int i = 0; i < 2; ++i) {
    EvalConfig c = BatchRun((i ? s1 : s0).str(), 1);
    c.shard_index = i;
    c.shard_count = 2;
    REQUIRE(RunEval(c).episodes.size() == 3);
  }
  REQUIRE(Outcomes(MergeShards({s0.str(), s1.str()}, merged.str(), "test", false).episodes) == Outcomes(a.episodes));
}

TEST_CASE("engine: policies acting one row at a time give the same episodes batched", "[engine][batch]") {
  testing::TempPath single, batched;
  EvalConfig c = SmallRun(batched.str(), 2);
  c.batch_envs = 4;
  REQUIRE(Outcomes(RunEval(c).episodes) == Outcomes(RunEval(SmallRun(single.str(), 2)).episodes));
}

TEST_CASE("engine: bad requests are clear errors", "[engine]") {
  testing::TempPath out;
  EvalConfig c = SmallRun(out.str(), 1);
  c.policies = {"expert", "nope"};
  REQUIRE_THROWS_WITH(RunEval(c), Contains("unknown policy 'nope'") && Contains("expert"));
  c = SmallRun(out.str(), 1);
  c.shard_index = 2;
  c.shard_count = 2;
  REQUIRE_THROWS_WITH(RunEval(c), Contains("bad shard"));
  c = SmallRun(out.str(), 1);
  c.policies = {"expert", "expert"};
  REQUIRE_THROWS_WITH(RunEval(c), Contains("twice"));
}

// Replaces every value by its type (arrays by their first element's schema): the shape of a document.
json Schema(const json& j) {
  if (j.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : j.items()) out[k] = Schema(v);
    return out;
  }
  if (j.is_array()) return j.empty() ? json::array() : json::array({Schema(j.front())});
  if (j.is_number()) return "number";
  return j.type_name();
}

// Predicts a goal image (the current frame, aiming 5 steps ahead) and a future frame of the
// same horizon, so the two kinds meet the same real frames and must be reported apart.
class GoalPolicy final : public Policy {
 public:
  std::string_view Name() const override { return "goal"; }
  void Reset(const EpisodeInfo&) override {}
  PolicyOutput Act(const Observation& obs) override {
    PolicyOutput out;
    out.actions.assign(5, {0.1f, 0.f, 0.f, 0.f});
    out.predicted.push_back({5, obs.rgb.at("corner"), PredictionKind::kGoal, ""});
    Image dark = obs.rgb.at("corner");
    for (uint8_t& v : dark.pixels) v = uint8_t(v / 2);
    out.predicted.push_back({5, dark, PredictionKind::kFuture, "corner"});
    return out;
  }
};

TEST_CASE("engine: a goal-kind prediction is scored against the frame at its horizon and reported as a goal",
          "[engine]") {
  testing::TempPath out;
  EvalConfig c = SmallRun(out.str(), 1);
  c.policies = {"goal"};
  c.tasks = {FindTask("reach")};
  c.episodes = 1;
  c.make_policy = [](const std::string&) { return std::make_unique<GoalPolicy>(); };
  const EvalOutcome run = RunEval(c);
  const json& rows = run.episodes.at(0).metrics.at("prediction");
  REQUIRE(rows.size() == 2);
  std::map<std::string, json> by_kind;
  for (const json& row : rows) by_kind[row.at("kind")] = row;
  REQUIRE(by_kind.count("goal"));
  REQUIRE(by_kind.count("future"));
  // Every 5-step chunk scores one goal against the frame 5 steps later (the last may not arrive).
  const int length = run.episodes.at(0).length;
  REQUIRE(by_kind.at("goal").at("count") == length / 5);
  REQUIRE(by_kind.at("goal").at("horizon") == 5);
  // The goal here is the current frame copied forward: it equals the persistence baseline, and
  // the darkened future frame scores worse than it.
  const json& persistence = run.episodes.at(0).metrics.at("persistence");
  for (const json& row : persistence) REQUIRE(row.at("count") == by_kind.at(row.at("kind")).at("count"));
  const json* goal_baseline = nullptr;
  for (const json& row : persistence)
    if (row.at("kind") == "goal") goal_baseline = &row;
  REQUIRE(goal_baseline);
  REQUIRE(goal_baseline->at("psnr_sum") == by_kind.at("goal").at("psnr_sum"));
  REQUIRE(by_kind.at("future").at("psnr_sum").get<double>() < by_kind.at("goal").at("psnr_sum").get<double>());
  // Aggregates and reports keep the kinds apart.
  const json& agg = run.results.at("aggregated").at("policies").at("goal").at("metrics").at("prediction");
  REQUIRE(agg.size() == 2);
  std::ifstream summary(out.path() / "summary.md");
  const std::string text((std::istreambuf_iterator<char>(summary)), std::istreambuf_iterator<char>());
  REQUIRE_THAT(text, Contains("| goal | goal | corner | 5 |"));
  REQUIRE_THAT(text, Contains("| goal | future | corner | 5 |"));
  REQUIRE_THAT(text, Contains("Persistence baseline"));
  REQUIRE_THAT(text, Contains("Object-masked PSNR"));
  std::ifstream csv(out.path() / "per_task.csv");
  std::string header;
  std::getline(csv, header);
  REQUIRE_THAT(header, Contains("pred_psnr_goal_h5") && Contains("pred_psnr_future_h5") &&
                           Contains("persist_psnr_goal_h5") && Contains("masked_psnr_future_h5"));
}

TEST_CASE("waypoints: the conversion to a delta action clips to the action bounds", "[engine]") {
  const std::array<float, 3> ee{0.1f, 0.5f, 0.2f};
  const Action near = WaypointAction({0.105f, 0.49f, 0.2f, 0.3f}, ee, 0.01);
  REQUIRE(near[0] == Approx(0.5).margin(1e-4));
  REQUIRE(near[1] == Approx(-1.0).margin(1e-4));
  REQUIRE(near[2] == Approx(0.0).margin(1e-4));
  REQUIRE(near[3] == Approx(0.3f));
  const Action far = WaypointAction({2.f, -3.f, 0.2f, 5.f}, ee, 0.01);
  REQUIRE((far == Action{1.f, -1.f, 0.f, 1.f}));
  REQUIRE((WaypointAction({0.1f, 0.5f, 0.2f, -7.f}, ee, 0.01) == Action{0.f, 0.f, 0.f, -1.f}));
}

// Plans one absolute target 8 cm along x and holds it for 30 steps, then checks (throwing
// when it fails) that the end effector got there and stays; delta actions afterwards.
class WaypointPolicy final : public Policy {
 public:
  explicit WaypointPolicy(ActionKind kind) : kind_(kind) {}
  std::string_view Name() const override { return "waypoint"; }
  void Reset(const EpisodeInfo&) override { acts_ = 0; }
  PolicyOutput Act(const Observation& obs) override {
    PolicyOutput out;
    if (acts_++ == 0) {
      target_ = {obs.ee_pos[0] + 0.08f, obs.ee_pos[1], obs.ee_pos[2], -1.f};
      out.actions.assign(30, target_);
      out.kind = kind_;
      return out;
    }
    const double error = std::hypot(obs.ee_pos[0] - target_[0], obs.ee_pos[1] - target_[1], obs.ee_pos[2] - target_[2]);
    if (acts_ == 2 && error > 0.005) throw std::runtime_error(fmt::format("{:.3f} m from the waypoint", error));
    out.actions.assign(5, {0.f, 0.f, 0.f, -1.f});
    return out;
  }

 private:
  ActionKind kind_;
  int acts_ = 0;
  Action target_{};
};

TEST_CASE("engine: waypoint chunks are tracked in closed loop within the action bounds", "[engine]") {
  for (const ActionKind kind : {ActionKind::kWaypoint, ActionKind::kDelta}) {
    testing::TempPath out;
    EvalConfig c = SmallRun(out.str(), 1);
    c.policies = {"waypoint"};
    c.tasks = {FindTask("reach")};
    c.episodes = 2;
    c.make_policy = [kind](const std::string&) { return std::make_unique<WaypointPolicy>(kind); };
    const EvalOutcome run = RunEval(c);
    int checked = 0;
    for (const EpisodeRecord& r : run.episodes) {
      if (r.success) continue;  // the reach target happened to lie on the way
      ++checked;
      INFO(r.failure_detail);
      if (kind == ActionKind::kWaypoint) {
        REQUIRE(r.failure == "timeout");
        REQUIRE(r.clipped_actions == 0);
      } else {
        // The same rows read as delta actions drive the hand elsewhere.
        REQUIRE(r.failure == "policy_error");
        REQUIRE_THAT(r.failure_detail, Contains("m from the waypoint"));
      }
    }
    REQUIRE(checked > 0);
  }
}

TEST_CASE("engine: results.json keeps the schema pinned in tests/data/results_schema.json", "[engine]") {
  testing::TempPath out;
  EvalConfig c = SmallRun(out.str(), 1);
  c.policies = {"faulty"};
  c.tasks = {FindTask("reach")};
  c.episodes = 4;
  c.make_policy = [](const std::string&) { return std::make_unique<FaultyPolicy>(); };
  json schema = Schema(RunEval(c).results);
  // Keys that name run-specific things (policies, tasks, failure reasons) are normalised.
  json& policies = schema["aggregated"]["policies"];
  policies = json{{"POLICY", policies.at("faulty")}};
  json& tasks = policies["POLICY"]["tasks"];
  tasks = json{{"TASK", tasks.at("reach")}};
  for (json* rate : {&policies["POLICY"]["overall"], &tasks["TASK"], &policies["POLICY"]["groups"]["easy"]}) {
    (*rate)["failures"] = json{{"REASON", "number"}};
  }
  policies["POLICY"]["groups"] = json{{"GROUP", policies["POLICY"]["groups"]["easy"]}};
  json& task_metrics = policies["POLICY"]["task_metrics"];
  task_metrics = json{{"TASK", task_metrics.at("reach")}};

  const std::string golden = std::string(PADBENCH_TEST_DATA) + "/results_schema.json";
  if (std::getenv("PADBENCH_UPDATE_GOLDEN")) std::ofstream(golden) << schema.dump(2) << "\n";
  std::ifstream in(golden);
  REQUIRE(in.good());
  const json expected = json::parse(in);
  INFO("schema now: " << schema.dump(2) << "\nregenerate with PADBENCH_UPDATE_GOLDEN=1 if the change is intended");
  REQUIRE(schema == expected);
}

}  // namespace
}  // namespace padbench
