// Fault isolation in the engine's worker processes: a worker that dies costs at most its
// episode (retried once on a fresh worker), a stuck Act is killed, and a stop request ends a
// run promptly even while a policy hangs.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "eval/engine/engine.h"
#include "sim/gl_context.h"
#include "sim/rng.h"
#include "tasks/registry.h"
#include "tests/test_util.h"

namespace padbench {
namespace {

using Catch::Matchers::Contains;

constexpr uint64_t kSeed = 21;

uint64_t SeedOf(int index) { return EpisodeSeed(kSeed, "reach", uint64_t(index)); }

// Moves a little each step; on the episode with `target` seed it misbehaves in `mode`.
class FaultPolicy final : public Policy {
 public:
  enum class Mode { kCrashOnce, kCrashAlways, kHang };
  FaultPolicy(Mode mode, uint64_t target, std::string scratch)
      : mode_(mode), target_(target), scratch_(std::move(scratch)) {}
  std::string_view Name() const override { return "fault"; }
  void Reset(const EpisodeInfo& info) override {
    seed_ = info.seed;
    std::ofstream(scratch_ + "/pid_" + std::to_string(getpid())) << getpid();
  }
  PolicyOutput Act(const Observation& obs) override {
    if (seed_ == target_ && obs.step >= 3) {
      const std::string marker = scratch_ + "/crashed_once";
      switch (mode_) {
        case Mode::kCrashOnce:
          if (!std::filesystem::exists(marker)) {
            std::ofstream(marker) << "1";
            kill(getpid(), SIGKILL);  // as if killed from outside, mid-episode
          }
          break;
        case Mode::kCrashAlways:
          // Straight to the kernel: the test binary's own handlers (Catch2's, a sanitizer's),
          // which a forked worker inherits, must not turn the crash into something else.
          std::signal(SIGSEGV, SIG_DFL);
          std::raise(SIGSEGV);
          break;
        case Mode::kHang:
          std::this_thread::sleep_for(std::chrono::hours(1));
          break;
      }
    }
    return {{{0.2f, 0.f, 0.f, 0.f}}, {}, {}};
  }

 private:
  Mode mode_;
  uint64_t target_;
  std::string scratch_;
  uint64_t seed_ = 0;
};

EvalConfig FaultRun(const std::string& out, const std::string& scratch, FaultPolicy::Mode mode, int target,
                    int workers) {
  // With a GL context in this process RunEval runs one worker in-process, where no fault is
  // isolated (a hang would hang the test): these tests need a process of their own, as ctest
  // gives each test case.
  INFO("run the workers tests apart from tests that render in-process (ctest runs each case alone)");
  REQUIRE_FALSE(GlContextCreated());
  std::filesystem::create_directories(scratch);
  EvalConfig c;
  c.policies = {"fault"};
  c.tasks = {FindTask("reach")};
  c.episodes = 4;
  c.seed = kSeed;
  c.workers = workers;
  c.out_dir = out;
  c.progress = false;
  c.write_plots = false;
  c.make_policy = [=](const std::string&) { return std::make_unique<FaultPolicy>(mode, SeedOf(target), scratch); };
  return c;
}

const EpisodeRecord& Episode(const EvalOutcome& run, int index) {
  for (const EpisodeRecord& r : run.episodes)
    if (r.index == index) return r;
  FAIL("episode " << index << " missing");
  throw;
}

TEST_CASE("workers: a worker killed mid-episode is replaced and the episode retried to its normal end",
          "[engine][workers]") {
  testing::TempPath out, scratch, clean;
  const EvalOutcome run = RunEval(FaultRun(out.str(), scratch.str(), FaultPolicy::Mode::kCrashOnce, 1, 2));
  REQUIRE(std::filesystem::exists(scratch.path() / "crashed_once"));
  REQUIRE(run.episodes.size() == 4);
  // The retried episode is the same episode: it ends as a clean run of the policy ends.
  const EvalOutcome reference = RunEval(FaultRun(clean.str(), scratch.str(), FaultPolicy::Mode::kCrashOnce, 1, 1));
  for (int i = 0; i < 4; ++i) {
    INFO("episode " << i);
    REQUIRE(Episode(run, i).failure == Episode(reference, i).failure);
    REQUIRE(Episode(run, i).length == Episode(reference, i).length);
  }
}

TEST_CASE("workers: an episode whose worker dies twice is recorded as worker_crash and the run goes on",
          "[engine][workers]") {
  testing::TempPath out, scratch;
  const EvalOutcome run = RunEval(FaultRun(out.str(), scratch.str(), FaultPolicy::Mode::kCrashAlways, 2, 2));
  REQUIRE(run.episodes.size() == 4);
  const EpisodeRecord& crashed = Episode(run, 2);
  REQUIRE(crashed.failure == "worker_crash");
  REQUIRE_THAT(crashed.failure_detail, Contains("its worker died twice at step 3: killed by signal 11") &&
                                           Contains("then killed by signal 11"));
  REQUIRE(crashed.seed == SeedOf(2));
  REQUIRE(crashed.length == 3);
  REQUIRE(!crashed.instruction.empty());
  for (int i : {0, 1, 3}) REQUIRE(Episode(run, i).failure == "timeout");
  const auto& failures = run.results.at("aggregated").at("policies").at("fault").at("overall").at("failures");
  REQUIRE(failures.at("worker_crash") == 1);
  std::ifstream in(out.path() / "summary.md");
  const std::string summary((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE_THAT(summary, Contains("worker_crash") && Contains("fault reach #2: worker_crash"));
}

TEST_CASE("workers: an Act that does not return is killed and recorded as policy_timeout", "[engine][workers]") {
  testing::TempPath out, scratch;
  EvalConfig c = FaultRun(out.str(), scratch.str(), FaultPolicy::Mode::kHang, 0, 1);
  c.act_timeout_s = 1;
  const auto start = std::chrono::steady_clock::now();
  const EvalOutcome run = RunEval(c);
  REQUIRE(std::chrono::steady_clock::now() - start < std::chrono::seconds(60));
  REQUIRE(run.episodes.size() == 4);
  REQUIRE(Episode(run, 0).failure == "policy_timeout");
  REQUIRE_THAT(Episode(run, 0).failure_detail, Contains("did not return within 1 s"));
  for (int i : {1, 2, 3}) REQUIRE(Episode(run, i).failure == "timeout");
}

void OnTerm(int) { RequestEvalStop(); }

TEST_CASE("workers: SIGTERM stops a two-worker run within seconds, also while a policy hangs, and leaves no worker",
          "[engine][workers]") {
  testing::TempPath out, scratch;
  EvalConfig c = FaultRun(out.str(), scratch.str(), FaultPolicy::Mode::kHang, 0, 2);
  c.episodes = 40;
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::signal(SIGTERM, OnTerm);  // as the CLI does
    try {
      _exit(RunEval(c).interrupted ? 3 : 0);
    } catch (...) {
      _exit(2);
    }
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));  // one worker hangs inside Act by now
  const auto start = std::chrono::steady_clock::now();
  kill(child, SIGTERM);
  int status = 0;
  waitpid(child, &status, 0);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 3);  // interrupted: what was saved is kept for --resume
  REQUIRE(seconds < 5);
  // Every worker process that ran an episode is gone.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int workers = 0;
  for (const auto& entry : std::filesystem::directory_iterator(scratch.path())) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("pid_", 0) != 0) continue;
    ++workers;
    const pid_t pid = std::stoi(name.substr(4));
    INFO("worker " << pid);
    REQUIRE((kill(pid, 0) != 0 && errno == ESRCH));
  }
  REQUIRE(workers >= 1);
}

}  // namespace
}  // namespace padbench
