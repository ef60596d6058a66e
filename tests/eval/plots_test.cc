#include "eval/report/plots.h"

#include <cmath>
#include <filesystem>
#include <random>

#include <catch2/catch.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "sim/error.h"
#include "tests/test_util.h"

namespace padbench {
namespace {

const std::vector<std::string> kTasks = {"reach",     "button-press", "drawer-open",    "drawer-close",
                                         "window-open", "window-close", "push",          "door-open",
                                         "plate-slide", "pick-place",   "peg-insert-side", "stack"};

// Realistic success data: three policies, 50 episodes per task, Wilson intervals.
SuccessPlotData Data() {
  SuccessPlotData data;
  data.tasks = kTasks;
  const std::vector<std::pair<std::string, int>> policies = {{"pad", 45}, {"gr1", 35}, {"diffusion", 20}};
  for (const auto& [name, base] : policies) {
    PolicySuccessSeries s;
    s.name = name;
    for (size_t t = 0; t < kTasks.size(); ++t) {
      const int successes = std::max(0, std::min(50, base - int(t) * 2));
      s.rate.push_back(successes / 50.0);
      s.interval.push_back(WilsonInterval(successes, 50));
    }
    data.policies.push_back(s);
  }
  return data;
}

// Reads a written plot back; checks it is a real, non-constant ~1000 px wide image.
cv::Mat CheckPlot(const std::string& path) {
  REQUIRE(std::filesystem::exists(path));
  CHECK(std::filesystem::file_size(path) > 0);
  const cv::Mat img = cv::imread(path, cv::IMREAD_COLOR);
  REQUIRE_FALSE(img.empty());
  CHECK(img.cols == 1000);
  CHECK(img.rows >= 400);
  CHECK(img.rows <= 900);
  double lo = 0, hi = 0;
  cv::minMaxLoc(img.reshape(1), &lo, &hi);
  CHECK(lo < 50);
  CHECK(hi == 255);
  return img;
}

TEST_CASE("plots: success bars are written and read back", "[plots]") {
  testing::TempPath dir;
  std::filesystem::create_directories(dir.path());
  const std::string path = (dir.path() / "success.png").string();
  PlotSuccess(path, Data());
  const cv::Mat img = CheckPlot(path);
  // The background is white and the first policy's colour (tab10 blue, BGR 180,119,31) is drawn.
  CHECK(img.at<cv::Vec3b>(2, 2) == cv::Vec3b(255, 255, 255));
  bool found = false;
  for (int y = 0; y < img.rows && !found; ++y) {
    for (int x = 0; x < img.cols && !found; ++x) found = img.at<cv::Vec3b>(y, x) == cv::Vec3b(180, 119, 31);
  }
  CHECK(found);
}

TEST_CASE("plots: success plot handles missing bars, no intervals and short names", "[plots]") {
  testing::TempPath dir;
  std::filesystem::create_directories(dir.path());
  SuccessPlotData data;
  data.tasks = {"reach", "push"};
  data.policies = {{"expert", {1.0, NAN}, {}}, {"random", {0.0, 0.1}, {}}};
  const std::string path = (dir.path() / "small.png").string();
  PlotSuccess(path, data);
  CheckPlot(path);
}

TEST_CASE("plots: latency CDF is written and read back", "[plots]") {
  testing::TempPath dir;
  std::filesystem::create_directories(dir.path());
  std::mt19937 rng(1);
  std::lognormal_distribution<double> fast(std::log(0.05), 0.5), slow(std::log(40.0), 0.6);
  std::vector<double> a, b;
  for (int i = 0; i < 2000; ++i) {
    a.push_back(fast(rng));
    b.push_back(slow(rng));
  }
  const std::string path = (dir.path() / "latency.png").string();
  PlotLatencyCdf(path, {{"expert", a}, {"pad", b}, {"empty", {}}, {"zeros", {0, 0, 1}}});
  CheckPlot(path);
  const std::string none = (dir.path() / "none.png").string();
  PlotLatencyCdf(none, {});
  CheckPlot(none);
}

TEST_CASE("plots: bad data and unwritable paths throw padbench::Error", "[plots]") {
  testing::TempPath dir;
  SuccessPlotData data = Data();
  data.policies[1].rate.pop_back();
  CHECK_THROWS_AS(PlotSuccess((std::filesystem::temp_directory_path() / "never.png").string(), data), Error);
  // `dir` was never created, so nothing can be written inside it.
  CHECK_THROWS_AS(PlotSuccess((dir.path() / "success.png").string(), Data()), Error);
  CHECK_THROWS_AS(PlotLatencyCdf((dir.path() / "latency.png").string(), {{"pad", {1.0, 2.0}}}), Error);
}

}  // namespace
}  // namespace padbench
