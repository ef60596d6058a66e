#include "sim/image_io.h"

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "sim/error.h"

namespace padbench {
namespace {

cv::Mat View(const Image& img) {
  PADBENCH_CHECK(img.channels == 3, "RGB images only");
  return cv::Mat(img.height, img.width, CV_8UC3, const_cast<uint8_t*>(img.data()));
}

Image FromMat(const cv::Mat& rgb) {
  Image out(rgb.rows, rgb.cols, 3);
  cv::Mat dst(out.height, out.width, CV_8UC3, out.data());
  rgb.copyTo(dst);
  return out;
}

}  // namespace

void WritePng(const std::string& path, const Image& rgb) {
  if (rgb.empty()) throw Error(fmt::format("cannot write {}: empty image", path));
  cv::Mat bgr;
  cv::cvtColor(View(rgb), bgr, cv::COLOR_RGB2BGR);
  bool ok = false;
  try {
    ok = cv::imwrite(path, bgr);
  } catch (const cv::Exception& e) {
    throw Error(fmt::format("cannot write {}: {}", path, e.what()));
  }
  if (!ok) throw Error(fmt::format("cannot write {}", path));
}

Image ReadPng(const std::string& path) {
  cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
  if (bgr.empty()) throw Error(fmt::format("cannot read image {}", path));
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return FromMat(rgb);
}

Image Tile(const std::vector<Image>& images, int columns, int gap) {
  if (images.empty()) return {};
  const int h = images[0].height, w = images[0].width;
  const int rows = (int(images.size()) + columns - 1) / columns;
  Image out(rows * h + (rows - 1) * gap, columns * w + (columns - 1) * gap, 3);
  std::fill(out.pixels.begin(), out.pixels.end(), 255);
  cv::Mat canvas = View(out);
  for (size_t i = 0; i < images.size(); ++i) {
    PADBENCH_CHECK(images[i].height == h && images[i].width == w, "Tile needs images of one size");
    const int r = int(i) / columns, c = int(i) % columns;
    View(images[i]).copyTo(canvas(cv::Rect(c * (w + gap), r * (h + gap), w, h)));
  }
  return out;
}

Image Resize(const Image& rgb, int height, int width) {
  cv::Mat dst;
  const bool down = height < rgb.height;
  cv::resize(View(rgb), dst, cv::Size(width, height), 0, 0, down ? cv::INTER_AREA : cv::INTER_LINEAR);
  return FromMat(dst);
}

void Label(Image& rgb, const std::string& text, int x, int y, double scale) {
  cv::Mat canvas = View(rgb);
  int baseline = 0;
  const cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &baseline);
  cv::rectangle(canvas, cv::Rect(x, y, size.width + 4, size.height + baseline + 4), cv::Scalar(255, 255, 255),
                cv::FILLED);
  cv::putText(canvas, text, cv::Point(x + 2, y + 2 + size.height), cv::FONT_HERSHEY_SIMPLEX, scale,
              cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
}

}  // namespace padbench
