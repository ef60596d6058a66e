#include "eval/report/video.h"

#include <filesystem>

#include <catch2/catch.hpp>
#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>

#include "sim/error.h"
#include "sim/image_io.h"
#include "tests/test_util.h"

namespace padbench {
namespace {

// A 64x64 RGB frame whose content moves with `step`, so the encoder sees real motion.
Image Frame(int step, int h = 64, int w = 64) {
  Image img(h, w);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &img.pixels[(size_t(y) * w + x) * 3];
      const bool square = std::abs(x - (10 + step * 3) % w) < 8 && std::abs(y - 32) < 8;
      p[0] = square ? 220 : uint8_t(40 + x);
      p[1] = square ? 30 : uint8_t(60 + y);
      p[2] = square ? 30 : 90;
    }
  }
  return img;
}

TEST_CASE("video: frames are written and read back with the layout size", "[video]") {
  testing::TempPath dir;
  std::filesystem::create_directories(dir.path());
  const std::string path = (dir.path() / "episode.mp4").string();
  VideoConfig config;
  config.scale = 2;
  config.max_predicted = 3;
  int width = 0, height = 0;
  {
    VideoWriter video(path, config);
    CHECK((video.fourcc() == "avc1" || video.fourcc() == "mp4v"));
    width = video.width();
    height = video.height();
    CHECK(width % 2 == 0);
    CHECK(height % 2 == 0);
    // Four panels of 128 px side by side, plus gaps.
    CHECK(width >= 4 * 128);
    CHECK(height >= 128);
    for (int step = 0; step < 12; ++step) {
      std::vector<std::pair<int, Image>> predicted;
      // Fewer predictions on some frames, and one at a lower resolution, exercise the placeholders and the resize.
      for (int h = 1; h <= step % 4; ++h) predicted.emplace_back(h, h == 2 ? Frame(step + h, 32, 32) : Frame(step + h));
      video.Add(Frame(step), predicted, "task reach  step " + std::to_string(step) + "\naction [0.1, -0.2, 0.0, 1.0]");
    }
    CHECK(video.frames() == 12);
  }  // the destructor finalises the file
  cv::VideoCapture capture(path);
  REQUIRE(capture.isOpened());
  CHECK(int(capture.get(cv::CAP_PROP_FRAME_WIDTH)) == width);
  CHECK(int(capture.get(cv::CAP_PROP_FRAME_HEIGHT)) == height);
  int frames = 0;
  cv::Mat frame;
  while (capture.read(frame)) {
    CHECK(frame.cols == width);
    CHECK(frame.rows == height);
    ++frames;
  }
  CHECK(frames == 12);
}

TEST_CASE("video: a scene panel sits left of the frames and is required on every frame", "[video]") {
  testing::TempPath dir;
  std::filesystem::create_directories(dir.path());
  const std::string path = (dir.path() / "scene.mp4").string();
  VideoConfig config;
  config.max_predicted = 1;
  config.scene_height = 300;  // taller than the 256-px frame cells
  config.scene_width = 200;
  VideoWriter plain((dir.path() / "plain.mp4").string(), VideoConfig{config.frame_height, config.frame_width,
                                                                     config.scale, config.max_predicted});
  {
    VideoWriter video(path, config);
    CHECK(video.width() >= plain.width() + 200);
    CHECK(video.height() > plain.height());  // the scene panel is taller than the frames
    const Image scene = Resize(Frame(3), 300, 200);
    video.Add(Frame(0), {{4, Frame(1)}}, "with scene", &scene);
    CHECK_THROWS_WITH(video.Add(Frame(0), {}, ""), Catch::Matchers::Contains("pass a scene image"));
    const Image small = Frame(0);
    CHECK_THROWS_WITH(video.Add(Frame(0), {}, "", &small), Catch::Matchers::Contains("scene is 64x64"));
    CHECK_THROWS_AS(plain.Add(Frame(0), {}, "", &scene), Error);
    CHECK(video.frames() == 1);
  }
  cv::VideoCapture capture(path);
  REQUIRE(capture.isOpened());
  cv::Mat frame;
  REQUIRE(capture.read(frame));
  // The scene panel's red square (from Frame(3), resized) shows in the left part of the frame.
  const cv::Vec3b red = frame.at<cv::Vec3b>(26 + 150, 4 + 200 * (10 + 9) / 64);
  CHECK(red[2] > 150);
  CHECK(red[1] < 100);
  VideoConfig half = config;
  half.scene_width = 0;
  CHECK_THROWS_AS(VideoWriter((dir.path() / "z.mp4").string(), half), Error);
}

TEST_CASE("video: Close finalises once and rejects later frames", "[video]") {
  testing::TempPath dir;
  std::filesystem::create_directories(dir.path());
  const std::string path = (dir.path() / "closed.mp4").string();
  VideoWriter video(path, VideoConfig{});
  video.Add(Frame(0), {}, "");
  video.Close();
  video.Close();
  CHECK(std::filesystem::file_size(path) > 0);
  CHECK_THROWS_AS(video.Add(Frame(1), {}, ""), Error);
}

TEST_CASE("video: bad frames, configs and paths throw padbench::Error", "[video]") {
  testing::TempPath dir;
  VideoConfig config;
  config.max_predicted = 1;
  // `dir` does not exist, so neither codec can open a file inside it.
  CHECK_THROWS_AS(VideoWriter((dir.path() / "x.mp4").string(), config), Error);
  VideoConfig bad;
  bad.scale = 0;
  CHECK_THROWS_AS(VideoWriter((dir.path() / "x.mp4").string(), bad), Error);

  std::filesystem::create_directories(dir.path());
  VideoWriter video((dir.path() / "y.mp4").string(), config);
  CHECK_THROWS_AS(video.Add(Frame(0, 32, 32), {}, ""), Error);
  CHECK_THROWS_AS(video.Add(Frame(0), {{1, Frame(1)}, {2, Frame(2)}}, ""), Error);
  CHECK_THROWS_AS(video.Add(Frame(0), {{1, Image()}}, ""), Error);
  video.Add(Frame(0), {{1, Frame(1)}}, "ok");
  CHECK(video.frames() == 1);
}

}  // namespace
}  // namespace padbench
