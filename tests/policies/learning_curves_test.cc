// padbench curves: every snapshot of every run evaluated, one eval run per training run, so
// adding a run to the curves evaluates only that run.
#include <filesystem>

#include <catch2/catch.hpp>

#include "eval/bench/learning_curves.h"
#include "eval/data/collect.h"
#include "tasks/registry.h"
#include "tests/policies/tiny_training.h"
#include "tests/test_util.h"

namespace padbench {
namespace {

namespace fs = std::filesystem;

TEST_CASE("curves: each run is evaluated in its own folder and a new run leaves the others alone", "[curves][slow]") {
  testing::TempPath dir;
  fs::create_directories(dir.path());
  CollectConfig collect;
  collect.tasks = {FindTask("reach")};
  collect.episodes = 2;
  collect.out = dir.str() + "/reach.hdf5";
  Collect(collect, false);
  const std::string a = testing::TrainTiny("diffusion_policy", {collect.out}, dir.str() + "/a");
  const std::string b = testing::TrainTiny("diffusion_policy", {collect.out}, dir.str() + "/b", {{"ddim_steps", 1}});

  LearningCurveConfig config;
  config.tasks = {FindTask("reach")};
  config.episodes = 2;
  config.eval_dir = dir.str() + "/eval";
  config.out_dir = dir.str() + "/curves";
  config.progress = false;
  config.runs = {{"a", a}};
  const auto first = RunLearningCurves(config);
  REQUIRE(first.size() == 2);  // the snapshot at half the run and the run's end
  REQUIRE(first[0].robot_samples == 8);
  REQUIRE(first[1].robot_samples == 12);
  for (const auto& p : first) REQUIRE(p.episodes == 2);
  const auto a_episodes = fs::path(config.eval_dir) / "a" / "episodes.jsonl";
  const auto written = fs::last_write_time(a_episodes);

  config.runs = {{"a", a}, {"b", b}};
  const auto both = RunLearningCurves(config);
  REQUIRE(both.size() == 4);
  REQUIRE(fs::exists(fs::path(config.eval_dir) / "b" / "episodes.jsonl"));
  REQUIRE(fs::last_write_time(a_episodes) == written);  // run a was not evaluated again
  REQUIRE(both[0].successes == first[0].successes);
  REQUIRE(fs::exists(config.out_dir + "/learning_curves.png"));
  REQUIRE(fs::exists(config.out_dir + "/learning_curves.csv"));
}

}  // namespace
}  // namespace padbench
