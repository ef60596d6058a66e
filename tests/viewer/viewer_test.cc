// The viewer as a user meets it, headless: under Xvfb it renders frames of a running episode
// and saves a screenshot that must show the scene, not a blank window.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "sim/image_io.h"
#include "tests/test_util.h"

namespace padbench {
namespace {

int Run(const std::string& command) { return std::system(command.c_str()); }

// The share of pixels in a rectangle that look like the lit table top (tan: red > green > blue).
double TanShare(const Image& image, int x0, int y0, int x1, int y1) {
  int tan = 0;
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) {
      const uint8_t* p = &image.pixels[(size_t(y) * image.width + x) * 3];
      tan += p[0] > 150 && p[0] > p[1] + 15 && p[1] > p[2] + 15;
    }
  }
  return double(tan) / ((x1 - x0) * (y1 - y0));
}

TEST_CASE("viewer: a headless run under Xvfb saves a screenshot that shows the scene and the panels",
          "[viewer][xvfb]") {
  testing::TempPath dir;
  const std::string png = dir.str() + "/shot.png";
  const std::string command =
      fmt::format("{} -a -s '-screen 0 1280x800x24' {} --task drawer-open --policy expert --speed 0 --size 1200 "
                  "--frames 40 --screenshot {} --record --out {}",
                  PADBENCH_XVFB_RUN, PADBENCH_VIEWER, png, dir.str());
  REQUIRE(Run(command) == 0);
  const Image shot = ReadPng(png);
  REQUIRE(shot.width == 1200);
  REQUIRE(shot.height == 720);
  // The scene fills the left part (the panels take the right 520 px): the table is in view...
  const double table = TanShare(shot, 0, 0, 1200 - 520, 720 - 64);
  INFO("table share " << table);
  CHECK(table > 0.10);
  CHECK(table < 0.90);
  // ...and the panel column is drawn (not the clear colour everywhere): some bright text pixels.
  int bright = 0;
  for (int y = 0; y < 720; ++y) {
    for (int x = 1200 - 520; x < 1200; ++x) bright += shot.pixels[(size_t(y) * 1200 + x) * 3 + 1] > 180;
  }
  CHECK(bright > 500);
  // --record wrote the episode beside it.
  CHECK(Run(fmt::format("ls {}/videos/expert/drawer-open_*.mp4 > /dev/null", dir.str())) == 0);
}

// Distinct colours in a rectangle: an image shows many, an empty panel a handful.
int Colours(const Image& image, int x0, int y0, int x1, int y1) {
  std::set<uint32_t> colours;
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) {
      const uint8_t* p = &image.pixels[(size_t(y) * image.width + x) * 3];
      colours.insert(uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2]);
    }
  }
  return int(colours.size());
}

TEST_CASE("viewer: a two-stage policy's current goal image is shown beside the camera", "[viewer][xvfb]") {
  testing::TempPath dir;
  // A quarter of real time on a long task, so that the screenshot falls inside the first episode
  // (after its first Act).
  auto shot = [&](const std::string& policy, const std::string& name) {
    return Run(fmt::format("{} -a -s '-screen 0 1280x800x24' {} --task stack --speed 0.25 --size 1200 --frames 90 "
                           "--policy {} --screenshot {}/{}.png > /dev/null",
                           PADBENCH_XVFB_RUN, PADBENCH_VIEWER, policy, dir.str(), name));
  };
  REQUIRE(shot(fmt::format("image_goal={}/assets/checkpoints/susie", PADBENCH_SOURCE_DIR), "goal") == 0);
  REQUIRE(shot("expert", "expert") == 0);
  // The slot right of the policy's camera thumbnail (the panel column starts at x = 680).
  const int x0 = 815, y0 = 360, x1 = 890, y1 = 420;
  const int goal = Colours(ReadPng(dir.str() + "/goal.png"), x0, y0, x1, y1);
  const int none = Colours(ReadPng(dir.str() + "/expert.png"), x0, y0, x1, y1);
  INFO("colours with a goal " << goal << ", without " << none);
  CHECK(goal > 150);
  CHECK(none < 20);
}

TEST_CASE("viewer: an eval run's episode and a dataset episode play again to the same outcome", "[viewer][xvfb]") {
  testing::TempPath dir;
  const std::string log = dir.str() + "/log.txt";
  const std::string xvfb = fmt::format("{} -a -s '-screen 0 1280x800x24' {} --size 1000 --speed 0 --frames 40", PADBENCH_XVFB_RUN,
                                       PADBENCH_VIEWER);
  // An eval run of two expert episodes; the viewer runs row 1 again.
  REQUIRE(Run(fmt::format("{} eval --policy expert --task push --episodes 2 --seed 5 --out {}/run > /dev/null 2>&1", PADBENCH_CLI,
                          dir.str())) == 0);
  REQUIRE(Run(fmt::format("{} --eval-run {}/run --eval-episode 1 --screenshot {}/a.png > {}", xvfb, dir.str(), dir.str(),
                          log)) == 0);
  CHECK(Run(fmt::format("grep -q 'expert on push #1: success' {}", log)) == 0);
  // A collected episode replays from its seed to success.
  REQUIRE(Run(fmt::format("{} collect --task reach --episodes 2 --seed 3 --out {}/d.hdf5 > /dev/null 2>&1", PADBENCH_CLI,
                          dir.str())) == 0);
  REQUIRE(Run(fmt::format("{} --dataset {}/d.hdf5 --dataset-episode 1 --screenshot {}/b.png > {}", xvfb, dir.str(),
                          dir.str(), log)) == 0);
  CHECK(Run(fmt::format("grep -q 'd.hdf5#1 on reach #0: success' {}", log)) == 0);
  // Out of range: a clear error, non-zero exit.
  CHECK(Run(fmt::format("{} --dataset {}/d.hdf5 --dataset-episode 7 --screenshot {}/c.png > {} 2>&1", xvfb, dir.str(),
                        dir.str(), log)) != 0);
  CHECK(Run(fmt::format("grep -q 'has 2 episodes; there is no episode 7' {}", log)) == 0);
}

TEST_CASE("viewer: a screenshot that cannot be written fails the headless run", "[viewer][xvfb]") {
  testing::TempPath dir;
  const std::string log = dir.str() + "/log.txt";
  std::filesystem::create_directories(dir.path());
  std::ofstream(dir.path() / "file") << "x";  // a folder cannot be made below a file
  const int code = Run(fmt::format("{} -a -s '-screen 0 1280x800x24' {} --size 800 --frames 3 --screenshot {}/file/shot.png > {} 2>&1",
                                   PADBENCH_XVFB_RUN, PADBENCH_VIEWER, dir.str(), log));
  CHECK(WIFEXITED(code));
  CHECK(WEXITSTATUS(code) == 1);
  CHECK(Run(fmt::format("grep -q 'padbench-viewer: error: cannot write screenshot' {}", log)) == 0);
}

TEST_CASE("viewer: bad input fails before a window opens, with a clear message", "[viewer]") {
  testing::TempPath dir;
  const std::string log = dir.str() + ".log";
  CHECK(Run(fmt::format("{} --task fly > {} 2>&1", PADBENCH_VIEWER, log)) != 0);
  CHECK(Run(fmt::format("grep -q \"unknown task 'fly'\" {}", log)) == 0);
  CHECK(Run(fmt::format("{} --policy wizard > {} 2>&1", PADBENCH_VIEWER, log)) != 0);
  CHECK(Run(fmt::format("grep -q \"unknown policy 'wizard'\" {}", log)) == 0);
  CHECK(Run(fmt::format("{} --help > {} 2>&1", PADBENCH_VIEWER, log)) == 0);
  CHECK(Run(fmt::format("grep -q -- '--screenshot' {}", log)) == 0);
  std::remove(log.c_str());
}

}  // namespace
}  // namespace padbench
