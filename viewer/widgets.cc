#include "viewer/widgets.h"

#include <GL/gl.h>

#include <algorithm>
#include <cmath>
#include <string_view>

#include <fmt/format.h>

namespace padbench::viewer {

TextureCache::~TextureCache() {
  for (auto& [slot, entry] : textures_) glDeleteTextures(1, &entry.id);
}

ImTextureID TextureCache::Get(const std::string& slot, uint64_t tag, const Image& image) {
  Entry& e = textures_[slot];
  if (!e.id) {
    glGenTextures(1, &e.id);
    glBindTexture(GL_TEXTURE_2D, e.id);
    // Nearest: 64x64 policy frames stay crisp pixels when magnified.
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  }
  if (e.tag != tag && !image.empty()) {
    glBindTexture(GL_TEXTURE_2D, e.id);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    const GLenum format = image.channels == 4 ? GL_RGBA : image.channels == 1 ? GL_LUMINANCE : GL_RGB;
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, image.width, image.height, 0, format, GL_UNSIGNED_BYTE, image.data());
    e.tag = tag;
  }
  return reinterpret_cast<ImTextureID>(static_cast<intptr_t>(e.id));
}

void LabelledImage(TextureCache& textures, const std::string& slot, uint64_t tag, const Image& image,
                   float size, const std::string& caption) {
  ImGui::BeginGroup();
  ImGui::TextUnformatted(caption.c_str());
  if (image.empty()) {
    ImGui::Dummy({size, size});
  } else {
    ImGui::Image(textures.Get(slot, tag, image), {size, size * float(image.height) / float(image.width)});
  }
  ImGui::EndGroup();
}

ImU32 ActionColour(int component, int alpha) {
  static const ImU32 rgb[4] = {IM_COL32(235, 87, 87, 0), IM_COL32(111, 207, 151, 0), IM_COL32(86, 156, 245, 0),
                               IM_COL32(242, 201, 76, 0)};
  return rgb[component & 3] | (ImU32(alpha) << IM_COL32_A_SHIFT);
}

void Plot(const char* title, const std::vector<Series>& series, float x_min, float x_max, float y_min,
          float y_max, ImVec2 size, float marker_x) {
  ImDrawList* draw = ImGui::GetWindowDrawList();
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const ImVec2 p1(p0.x + size.x, p0.y + size.y);
  ImGui::Dummy(size);
  draw->AddRectFilled(p0, p1, IM_COL32(24, 26, 30, 255));
  draw->AddRect(p0, p1, IM_COL32(80, 80, 90, 255));
  if (x_max <= x_min) x_max = x_min + 1;
  if (y_max <= y_min) y_max = y_min + 1;
  auto to_screen = [&](float x, float y) {
    const float u = (x - x_min) / (x_max - x_min), v = (y - y_min) / (y_max - y_min);
    return ImVec2(p0.x + 2 + u * (size.x - 4), p1.y - 2 - std::clamp(v, 0.f, 1.f) * (size.y - 4));
  };
  draw->PushClipRect(p0, p1, true);
  if (y_min < 0 && y_max > 0) {
    draw->AddLine(to_screen(x_min, 0), to_screen(x_max, 0), IM_COL32(70, 70, 80, 255));
  }
  for (const Series& s : series) {
    for (size_t i = 1; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (s.dashed && i % 2 == 0) continue;
      draw->AddLine(to_screen(s.x[i - 1], s.y[i - 1]), to_screen(s.x[i], s.y[i]), s.colour, s.dashed ? 2.f : 1.5f);
    }
    if (s.x.size() == 1 && !s.y.empty()) draw->AddCircleFilled(to_screen(s.x[0], s.y[0]), 2.5f, s.colour);
  }
  if (marker_x >= x_min && marker_x <= x_max) {
    draw->AddLine(to_screen(marker_x, y_min), to_screen(marker_x, y_max), IM_COL32(255, 255, 255, 90));
  }
  draw->PopClipRect();
  const std::string_view shown = std::string_view(title).substr(0, std::string_view(title).find("##"));
  if (!shown.empty()) draw->AddText({p0.x + 4, p0.y + 2}, IM_COL32(200, 200, 210, 255), shown.data(), shown.data() + shown.size());
  const std::string range = fmt::format("[{:.3g}, {:.3g}]", y_min, y_max);
  const float range_w = ImGui::CalcTextSize(range.c_str()).x;
  if (size.x > 3 * range_w) draw->AddText({p1.x - 4 - range_w, p0.y + 2}, IM_COL32(140, 140, 150, 255), range.c_str());
}

}  // namespace padbench::viewer
