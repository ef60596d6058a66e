// Run folders that cannot be silently corrupted: one run at a time, only the run's own
// episodes are resumed or merged, torn lines are cut, a failed start blocks no retry.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
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
#include "tests/eval/fork_run.h"
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
  const pid_t child = testing::ForkRun(c);
  REQUIRE(child >= 0);
  testing::WaitFor([&] { return std::filesystem::exists(out.path() / "run.json"); }, std::chrono::seconds(30));
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

// Runs both shards of a two-shard run of `episodes` episodes into `s0` and `s1`.
void RunShards(const testing::TempPath& s0, const testing::TempPath& s1, int episodes) {
  for (int i = 0; i < 2; ++i) {
    EvalConfig c = Run((i ? s1 : s0).str(), episodes);
    c.shard_index = i;
    c.shard_count = 2;
    RunEval(c);
  }
}

TEST_CASE("run folder: merge refuses an episode of another shard", "[engine][run_folder]") {
  testing::TempPath s0, s1, merged;
  RunShards(s0, s1, 4);
  const std::string jsonl0 = s0.str() + "/episodes.jsonl";
  std::vector<std::string> lines = Lines(jsonl0);
  lines.back() = Lines(s1.str() + "/episodes.jsonl").front();  // shard 1's episode in place of one of shard 0
  WriteLines(jsonl0, lines);
  REQUIRE_THROWS_WITH(MergeShards({s0.str(), s1.str()}, merged.str(), "merge", false),
                      Contains("episodes.jsonl:2") && Contains("belongs to shard 1 of 2, not 0"));
}

TEST_CASE("run folder: merge writes a new folder, never a shard's, and waits for no running shard",
          "[engine][run_folder]") {
  testing::TempPath s0, s1, merged;
  RunShards(s0, s1, 2);
  const std::vector<std::string> shards = {s0.str(), s1.str()};
  REQUIRE_THROWS_WITH(MergeShards(shards, s1.str(), "merge", false, true), Contains("is one of the shard folders"));
  REQUIRE(Lines(s1.str() + "/episodes.jsonl").size() == 1);

  std::filesystem::create_directories(merged.path());
  std::ofstream(merged.path() / "notes.txt") << "mine\n";
  REQUIRE_THROWS_WITH(MergeShards(shards, merged.str(), "merge", false), Contains("is not empty (notes.txt)"));
  REQUIRE(MergeShards(shards, merged.str(), "merge", false, true).episodes.size() == 2);
  REQUIRE(Lines(merged.str() + "/episodes.jsonl").size() == 2);

  // A shard whose run still holds its lock is not read.
  const int fd = ::open((s0.str() + "/.lock").c_str(), O_RDWR | O_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(flock(fd, LOCK_EX | LOCK_NB) == 0);
  testing::TempPath again;
  REQUIRE_THROWS_WITH(MergeShards(shards, again.str(), "merge", false), Contains("in use by another padbench run"));
  ::close(fd);
  REQUIRE(MergeShards(shards, again.str(), "merge", false).episodes.size() == 2);
}

}  // namespace
}  // namespace padbench
