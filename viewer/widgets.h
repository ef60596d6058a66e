// Small Dear ImGui building blocks for the viewer: images as textures and line plots.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <imgui.h>

#include "sim/types.h"

namespace padbench::viewer {

// GL textures for images shown in panels, keyed by slot; an image is uploaded again only
// when its slot's tag changes. Needs the window's GL context current.
class TextureCache {
 public:
  ~TextureCache();
  // The texture of `slot` holding `image` (uploaded when `tag` differs from the last call's).
  ImTextureID Get(const std::string& slot, uint64_t tag, const Image& image);

 private:
  struct Entry {
    unsigned id = 0;
    uint64_t tag = ~0ull;
  };
  std::map<std::string, Entry> textures_;
};

// Shows an image scaled to `size` with a caption line above it.
void LabelledImage(TextureCache& textures, const std::string& slot, uint64_t tag, const Image& image,
                   float size, const std::string& caption);

// One line of a plot: y over x, optionally dashed (predictions against what happened).
struct Series {
  std::vector<float> x, y;
  ImU32 colour = IM_COL32(255, 255, 255, 255);
  bool dashed = false;
};

// A line plot of several series in a fixed y range, with a vertical marker at `marker_x` (if
// finite) and the y range and `title` written in the corner.
void Plot(const char* title, const std::vector<Series>& series, float x_min, float x_max, float y_min,
          float y_max, ImVec2 size, float marker_x = -1e30f);

// Four distinguishable colours for the action components (x, y, z, gripper).
ImU32 ActionColour(int component, int alpha = 255);

}  // namespace padbench::viewer
