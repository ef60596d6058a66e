// Core value types shared by every layer: images, observations, actions.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace padbench {

// Row-major HWC uint8 image (RGB when channels == 3), top row first.
struct Image {
  int height = 0;
  int width = 0;
  int channels = 3;
  std::vector<uint8_t> pixels;  // height * width * channels

  Image() = default;
  Image(int h, int w, int c = 3) : height(h), width(w), channels(c), pixels(size_t(h) * w * c) {}
  bool empty() const { return pixels.empty(); }
  uint8_t* data() { return pixels.data(); }
  const uint8_t* data() const { return pixels.data(); }
};

// Row-major float image of metric depth (metres along the camera axis), top row first.
struct DepthImage {
  int height = 0;
  int width = 0;
  std::vector<float> metres;  // height * width

  DepthImage() = default;
  DepthImage(int h, int w) : height(h), width(w), metres(size_t(h) * w) {}
  bool empty() const { return metres.empty(); }
};

// 4-D action, Meta-World convention: end-effector delta xyz and gripper effort
// (-1 open, +1 close), each in [-1, 1].
using Action = std::array<float, 4>;
inline constexpr int kActionDim = 4;

// What a policy sees at one control step.
struct Observation {
  std::map<std::string, Image> rgb;         // camera name -> RGB image
  std::map<std::string, DepthImage> depth;  // camera name -> depth (when requested)
  std::array<float, 3> ee_pos{};            // end-effector position, world frame (m)
  float gripper = 0;                        // finger opening (m)
  std::string instruction;                  // language instruction of the episode
  int step = 0;                             // control step index within the episode
};

}  // namespace padbench
