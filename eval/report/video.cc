#include "eval/report/video.h"

#include <algorithm>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "sim/error.h"

namespace padbench {
namespace {

constexpr int kGap = 4;        // pixels between panels and around the edge
constexpr int kHeaderH = 26;   // strip above each panel holding its label
constexpr int kLineH = 22;     // one caption line
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr double kFontScale = 0.55;
const cv::Scalar kBackground(32, 32, 32);
const cv::Scalar kPlaceholder(96, 96, 96);
const cv::Scalar kLabel(235, 235, 235);
const cv::Scalar kDim(170, 170, 170);

// Converts an RGB(A)/grey Image to a BGR Mat for OpenCV.
cv::Mat ToBgr(const Image& image) {
  const cv::Mat view(image.height, image.width, CV_8UC(image.channels),
                     const_cast<uint8_t*>(image.data()));
  cv::Mat bgr;
  switch (image.channels) {
    case 1: cv::cvtColor(view, bgr, cv::COLOR_GRAY2BGR); break;
    case 3: cv::cvtColor(view, bgr, cv::COLOR_RGB2BGR); break;
    case 4: cv::cvtColor(view, bgr, cv::COLOR_RGBA2BGR); break;
    default: throw Error(fmt::format("video: images must have 1, 3 or 4 channels, got {}", image.channels));
  }
  return bgr;
}

void CheckImage(const Image& image, const char* what) {
  if (image.empty() || image.pixels.size() != size_t(image.height) * image.width * image.channels) {
    throw Error(fmt::format("video: {} image is empty or its pixel buffer does not match {}x{}x{}",
                            what, image.height, image.width, image.channels));
  }
}

// Cuts `text` with "..." so it fits `width` pixels.
std::string FitText(const std::string& text, int width) {
  int baseline = 0;
  auto w = [&](const std::string& s) {
    return cv::getTextSize(s, kFont, kFontScale, 1, &baseline).width;
  };
  if (w(text) <= width) return text;
  std::string s = text;
  while (!s.empty() && w(s + "...") > width) s.pop_back();
  return s + "...";
}

void PutText(cv::Mat& img, const std::string& text, int x, int y, const cv::Scalar& colour) {
  cv::putText(img, text, {x, y}, kFont, kFontScale, colour, 1, cv::LINE_AA);
}

}  // namespace

struct VideoWriter::Impl {
  VideoConfig config;
  std::string path;
  cv::VideoWriter writer;
  std::string fourcc;
  cv::Size cell, scene, size;
  int frames = 0;
  bool closed = false;

  // Slot 0 is the real frame, 1.. the predictions; the scene panel (if any) sits left of slot 0.
  cv::Point CellOrigin(int slot) const {
    const int left = scene.width > 0 ? scene.width + kGap : 0;
    return {kGap + left + slot * (cell.width + kGap), kHeaderH};
  }

  // Draws a panel: `frame` (BGR, any size) upscaled into slot `slot` under `label`.
  void Panel(cv::Mat& canvas, int slot, const cv::Mat& frame, const std::string& label) const {
    const cv::Point o = CellOrigin(slot);
    cv::Mat roi = canvas(cv::Rect(o, cell));
    cv::resize(frame, roi, cell, 0, 0, cv::INTER_NEAREST);
    PutText(canvas, FitText(label, cell.width), o.x + 2, kHeaderH - 8, kLabel);
  }
};

VideoWriter::VideoWriter(const std::string& path, const VideoConfig& config)
    : impl_(std::make_unique<Impl>()) {
  if (config.frame_height <= 0 || config.frame_width <= 0 || config.scale <= 0 ||
      config.max_predicted < 0 || config.caption_lines < 0 || !(config.fps > 0) || config.scene_height < 0 ||
      config.scene_width < 0 || (config.scene_height > 0) != (config.scene_width > 0)) {
    throw Error(fmt::format("video: invalid config (frame {}x{}, scale {}, max_predicted {}, "
                            "caption_lines {}, fps {}, scene {}x{})",
                            config.frame_height, config.frame_width, config.scale,
                            config.max_predicted, config.caption_lines, config.fps, config.scene_height,
                            config.scene_width));
  }
  Impl& m = *impl_;
  m.config = config;
  m.path = path;
  m.cell = {config.frame_width * config.scale, config.frame_height * config.scale};
  m.scene = {config.scene_width, config.scene_height};
  const int slots = 1 + config.max_predicted;
  int w = m.CellOrigin(slots).x;
  int h = kHeaderH + std::max(m.cell.height, m.scene.height) + kGap + config.caption_lines * kLineH + kGap;
  // H.264 with 4:2:0 chroma needs even dimensions.
  m.size = {w + (w & 1), h + (h & 1)};
  // H.264 plays everywhere (browsers included) but needs an encoder OpenCV's FFmpeg may lack.
  for (const char* code : {"avc1", "mp4v"}) {
    const int fourcc = cv::VideoWriter::fourcc(code[0], code[1], code[2], code[3]);
    try {
      if (m.writer.open(path, cv::CAP_FFMPEG, fourcc, config.fps, m.size, true)) {
        m.fourcc = code;
        return;
      }
    } catch (const cv::Exception&) {
      // Some builds throw rather than return false for an unsupported codec: try the next one.
    }
  }
  throw Error(fmt::format("video: cannot open '{}' for writing with avc1 or mp4v", path));
}

VideoWriter::~VideoWriter() { Close(); }

void VideoWriter::Add(const Image& real, const std::vector<std::pair<int, Image>>& predicted,
                      const std::string& caption, const Image* scene) {
  Impl& m = *impl_;
  if (m.closed) throw Error(fmt::format("video: '{}' is closed", m.path));
  CheckImage(real, "real");
  if (real.height != m.config.frame_height || real.width != m.config.frame_width) {
    throw Error(fmt::format("video: real frame is {}x{}, the video was set up for {}x{}",
                            real.height, real.width, m.config.frame_height, m.config.frame_width));
  }
  if (int(predicted.size()) > m.config.max_predicted) {
    throw Error(fmt::format("video: {} predicted frames, the layout has {} slots",
                            predicted.size(), m.config.max_predicted));
  }
  if ((scene != nullptr) != (m.scene.width > 0)) {
    throw Error(m.scene.width > 0 ? "video: this layout has a scene panel; pass a scene image"
                                  : "video: a scene image was given, but the layout has no scene panel");
  }
  cv::Mat canvas(m.size, CV_8UC3, kBackground);
  if (scene) {
    CheckImage(*scene, "scene");
    if (scene->height != m.scene.height || scene->width != m.scene.width) {
      throw Error(fmt::format("video: scene is {}x{}, the layout has {}x{}", scene->height, scene->width,
                              m.scene.height, m.scene.width));
    }
    ToBgr(*scene).copyTo(canvas(cv::Rect({kGap, kHeaderH}, m.scene)));
    PutText(canvas, "scene", kGap + 2, kHeaderH - 8, kLabel);
  }
  m.Panel(canvas, 0, ToBgr(real), "t (real)");
  for (size_t i = 0; i < predicted.size(); ++i) {
    CheckImage(predicted[i].second, "predicted");
    m.Panel(canvas, int(i) + 1, ToBgr(predicted[i].second), fmt::format("predicted at t-{}", predicted[i].first));
  }
  for (int slot = int(predicted.size()) + 1; slot <= m.config.max_predicted; ++slot) {
    const cv::Point o = m.CellOrigin(slot);
    cv::rectangle(canvas, cv::Rect(o, m.cell), kPlaceholder, cv::FILLED);
    const std::string text = FitText("no prediction", m.cell.width - 8);
    int baseline = 0;
    const int w = cv::getTextSize(text, kFont, kFontScale, 1, &baseline).width;
    PutText(canvas, text, o.x + (m.cell.width - w) / 2, o.y + m.cell.height / 2 + 5, kDim);
  }
  int line = 0, y = kHeaderH + std::max(m.cell.height, m.scene.height) + kGap + kLineH - 6;
  size_t start = 0;
  while (line < m.config.caption_lines && start <= caption.size()) {
    const size_t end = std::min(caption.find('\n', start), caption.size());
    PutText(canvas, FitText(caption.substr(start, end - start), m.size.width - 2 * kGap), kGap + 2,
            y, kLabel);
    start = end + 1;
    y += kLineH;
    ++line;
  }
  m.writer.write(canvas);
  ++m.frames;
}

void VideoWriter::Close() {
  if (!impl_ || impl_->closed) return;
  impl_->writer.release();
  impl_->closed = true;
}

int VideoWriter::frames() const { return impl_->frames; }
int VideoWriter::width() const { return impl_->size.width; }
int VideoWriter::height() const { return impl_->size.height; }
std::string VideoWriter::fourcc() const { return impl_->fourcc; }

}  // namespace padbench
