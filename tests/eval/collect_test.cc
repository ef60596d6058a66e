#include "eval/data/collect.h"

#include <filesystem>

#include <catch2/catch.hpp>

#include "sim/dataset.h"
#include "sim/error.h"
#include "tasks/registry.h"
#include "tests/test_util.h"

namespace padbench {
namespace {

using Catch::Matchers::Contains;

CollectConfig Config(const std::string& out) {
  CollectConfig c;
  c.tasks = {FindTask("reach"), FindTask("pick-place")};
  c.episodes = 2;
  c.seed = 5;
  c.out = out;
  c.env.image_size = 32;
  return c;
}

void RequireSameEpisode(const EpisodeData& a, const EpisodeData& b) {
  REQUIRE(a.task == b.task);
  REQUIRE(a.seed == b.seed);
  REQUIRE(a.instruction == b.instruction);
  REQUIRE(a.length == b.length);
  REQUIRE(a.images == b.images);
  REQUIRE(a.ee_pos == b.ee_pos);
  REQUIRE(a.gripper == b.gripper);
  REQUIRE(a.actions == b.actions);
  REQUIRE(a.rewards == b.rewards);
  REQUIRE(a.dones == b.dones);
}

TEST_CASE("collect: a seed gives the same dataset and the layout reads back", "[collect]") {
  testing::TempPath dir;
  std::filesystem::create_directories(dir.path());
  const std::string a = dir.str() + "/a.hdf5", b = dir.str() + "/b.hdf5";
  const CollectSummary sa = Collect(Config(a), false);
  Collect(Config(b), false);
  REQUIRE(sa.episodes == 4);
  REQUIRE_FALSE(std::filesystem::exists(a + ".partial"));
  auto ra = DatasetReader::Open(a), rb = DatasetReader::Open(b);
  REQUIRE(ra->NumEpisodes() == 4);
  REQUIRE(ra->HasActions());
  REQUIRE(ra->Cameras() == std::vector<std::string>{"corner"});
  REQUIRE(ra->TotalSamples() == sa.frames);
  REQUIRE_THAT(ra->EnvArgs(), Contains("\"image_size\":32"));
  for (int i = 0; i < 4; ++i) {
    const EpisodeData ea = ra->Read(i);
    RequireSameEpisode(ea, rb->Read(i));
    REQUIRE(ea.image_height == 32);
    REQUIRE(ea.images.at("corner").size() == size_t(ea.length) * 32 * 32 * 3);
    REQUIRE(ea.dones.back() == 1);
    REQUIRE(ea.rewards.back() == 1.0f);  // only successful episodes by default
  }
  REQUIRE(ra->Read(0).task == "reach");
  REQUIRE(ra->Read(2).task == "pick-place");
}

TEST_CASE("collect: --video-only writes the same frames without actions", "[collect]") {
  testing::TempPath dir;
  std::filesystem::create_directories(dir.path());
  CollectConfig with = Config(dir.str() + "/with.hdf5"), without = Config(dir.str() + "/without.hdf5");
  with.tasks = without.tasks = {FindTask("reach")};
  without.video_only = true;
  Collect(with, false);
  Collect(without, false);
  auto rw = DatasetReader::Open(with.out), rv = DatasetReader::Open(without.out);
  REQUIRE_FALSE(rv->HasActions());
  const EpisodeData ew = rw->Read(0), ev = rv->Read(0);
  REQUIRE(ev.actions.empty());
  REQUIRE(ev.images == ew.images);
}

TEST_CASE("collect: bad requests fail before writing", "[collect]") {
  testing::TempPath dir;
  CollectConfig c = Config(dir.str() + "/x.hdf5");
  c.env.cameras = {"ceiling"};
  REQUIRE_THROWS_WITH(Collect(c, false), Contains("unknown camera 'ceiling'"));
  // A folder cannot be made below a file.
  std::filesystem::create_directories(dir.path());
  testing::WriteText(dir.str() + "/file", "x");
  c = Config(dir.str() + "/file/dir/x.hdf5");
  REQUIRE_THROWS_WITH(Collect(c, false), Contains("cannot create the folder"));
  // --out naming a folder fails before anything is collected.
  c = Config(dir.str());
  REQUIRE_THROWS_WITH(Collect(c, false), Contains("is a folder"));
}

}  // namespace
}  // namespace padbench
