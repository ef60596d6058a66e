// Run folders that cannot be silently corrupted: one run at a time, only the run's own
// episodes are resumed or merged, torn lines are cut, a failed start blocks no retry.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>

#include "eval/engine/engine.h"
#include "sim/error.h"
#include "tasks/registry.h"
#include "tests/test_util.h"

namespace padbench {
namespace {

using Catch::Matchers::Contains;

EvalConfig Run(const std::string& out, int episodes = 3, uint64_t seed = 5) {
  EvalConfig c;
  c.policies = {"random"};
  c.tasks = {FindTask("reach")};
  c.episodes = episodes;
  c.seed = seed;
  c.workers = 1;
  c.out_dir = out;
  c.progress = false;
  c.write_plots = false;
  return c;
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

void WriteLines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path);
  for (const auto& l : lines) out << l << "\n";
}

TEST_CASE("run folder: a second run on a folder in use is refused", "[engine][run_folder]") {
  testing::TempPath out;
  EvalConfig c = Run(out.str(), 60);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    try {
      RunEval(c);
    } catch (...) {
      _exit(2);
    }
    _exit(0);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!std::filesystem::exists(out.path() / "run.json") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  c.resume = true;
  REQUIRE_THROWS_WITH(RunEval(c), Contains("in use by another padbench run"));
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  // Once it is gone the folder is free again: the run resumes.
  REQUIRE(RunEval(c).episodes.size() == 60);
}

TEST_CASE("run folder: --resume accepts only the run's own episodes and names the bad line", "[engine][run_folder]") {
  testing::TempPath out, other;
  RunEval(Run(out.str(), 3));
  RunEval(Run(other.str(), 3, 6));  // another seed: other episodes of the same names
  const std::string jsonl = out.str() + "/episodes.jsonl";
  const std::vector<std::string> mine = Lines(jsonl), foreign = Lines(other.str() + "/episodes.jsonl");
  REQUIRE(mine.size() == 3);
  EvalConfig c = Run(out.str(), 3);
  c.resume = true;

  WriteLines(jsonl, {mine[0], mine[1], mine[0]});
  REQUIRE_THROWS_WITH(RunEval(c), Contains("episodes.jsonl:3") && Contains("appears twice (first at line 1)"));
  WriteLines(jsonl, {mine[0], foreign[1]});
  REQUIRE_THROWS_WITH(RunEval(c), Contains("episodes.jsonl:2") && Contains("this run gives it"));
  std::string wrong_index = mine[2];
  wrong_index.replace(wrong_index.find("\"index\":2"), 9, "\"index\":7");
  WriteLines(jsonl, {mine[0], wrong_index});
  REQUIRE_THROWS_WITH(RunEval(c), Contains("episodes.jsonl:2") && Contains("outside this run's 0..2"));

  // A torn last line is cut, with or without its newline; the run then completes.
  WriteLines(jsonl, {mine[0], "{\"policy\":\"random\",\"ta"});
  REQUIRE(RunEval(c).episodes_resumed == 1);
  REQUIRE(Lines(jsonl).size() == 3);
}

TEST_CASE("run folder: a run that fails before its first episode leaves nothing that blocks a retry",
          "[engine][run_folder]") {
  testing::TempPath out;
  EvalConfig c = Run(out.str());
  c.workers = 2;
  c.make_policy = [](const std::string&) -> std::unique_ptr<Policy> { throw Error("checkpoint is corrupt"); };
  REQUIRE_THROWS_WITH(RunEval(c), Contains("checkpoint is corrupt"));
  REQUIRE_FALSE(std::filesystem::exists(out.path()));
  REQUIRE(RunEval(Run(out.str())).episodes.size() == 3);
}

TEST_CASE("run folder: a folder of other files is refused unless --force", "[engine][run_folder]") {
  testing::TempPath out;
  std::filesystem::create_directories(out.path());
  std::ofstream(out.path() / "results.json") << "{\"something\": \"else\"}\n";
  REQUIRE_THROWS_WITH(RunEval(Run(out.str())), Contains("not a padbench run (results.json)") && Contains("--force"));
  EvalConfig c = Run(out.str());
  c.force = true;
  REQUIRE(RunEval(c).episodes.size() == 3);
}

TEST_CASE("run folder: merge refuses an episode of another shard", "[engine][run_folder]") {
  testing::TempPath s0, s1, merged;
  for (int i = 0; i < 2; ++i) {
    EvalConfig c = Run((i ? s1 : s0).str(), 4);
    c.shard_index = i;
    c.shard_count = 2;
    RunEval(c);
  }
  const std::string jsonl0 = s0.str() + "/episodes.jsonl";
  std::vector<std::string> lines = Lines(jsonl0);
  lines.back() = Lines(s1.str() + "/episodes.jsonl").front();  // shard 1's episode in place of one of shard 0
  WriteLines(jsonl0, lines);
  REQUIRE_THROWS_WITH(MergeShards({s0.str(), s1.str()}, merged.str(), "merge", false),
                      Contains("episodes.jsonl:2") && Contains("belongs to shard 1 of 2, not 0"));
}

}  // namespace
}  // namespace padbench
