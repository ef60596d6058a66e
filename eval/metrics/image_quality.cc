#include "eval/metrics/image_quality.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "sim/error.h"

namespace padbench {
namespace {

constexpr int kSsimWindow = 11;
constexpr double kSsimSigma = 1.5;

void CheckComparable(const Image& a, const Image& b, const char* metric) {
  if (a.empty() || b.empty()) throw Error(fmt::format("{}: empty image", metric));
  if (a.height != b.height || a.width != b.width || a.channels != b.channels) {
    throw Error(fmt::format("{}: image sizes differ ({}x{}x{} vs {}x{}x{})", metric, a.height,
                            a.width, a.channels, b.height, b.width, b.channels));
  }
  const size_t expected = size_t(a.height) * a.width * a.channels;
  if (a.pixels.size() != expected || b.pixels.size() != expected) {
    throw Error(fmt::format("{}: pixel buffer does not match {}x{}x{}", metric, a.height, a.width,
                            a.channels));
  }
}

// Wraps the pixels without copying; the caller keeps `image` alive.
cv::Mat View(const Image& image) {
  return cv::Mat(image.height, image.width, CV_8UC(image.channels),
                 const_cast<uint8_t*>(image.data()));
}

// Linear interpolation between order statistics of sorted `v` at quantile q (numpy "linear").
double Quantile(const std::vector<double>& v, double q) {
  const double pos = q * double(v.size() - 1);
  const size_t lo = size_t(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - double(lo)) * (v[hi] - v[lo]);
}

}  // namespace

double Psnr(const Image& a, const Image& b) {
  CheckComparable(a, b, "PSNR");
  double sse = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) {
    const double d = double(a.pixels[i]) - double(b.pixels[i]);
    sse += d * d;
  }
  if (sse == 0) return kPsnrCapDb;
  const double mse = sse / double(a.pixels.size());
  return std::min(kPsnrCapDb, 10.0 * std::log10(255.0 * 255.0 / mse));
}

double MaskedPsnr(const Image& a, const Image& b, const Image& mask) {
  CheckComparable(a, b, "masked PSNR");
  if (mask.channels != 1 || mask.height != a.height || mask.width != a.width ||
      mask.pixels.size() != size_t(a.height) * a.width) {
    throw Error(fmt::format("masked PSNR: the mask is {}x{}x{}, the images {}x{}", mask.height, mask.width,
                            mask.channels, a.height, a.width));
  }
  double sse = 0;
  size_t n = 0;
  for (size_t p = 0; p < mask.pixels.size(); ++p) {
    if (!mask.pixels[p]) continue;
    for (int c = 0; c < a.channels; ++c) {
      const double d = double(a.pixels[p * a.channels + c]) - double(b.pixels[p * a.channels + c]);
      sse += d * d;
    }
    n += size_t(a.channels);
  }
  if (n == 0) return std::nan("");
  if (sse == 0) return kPsnrCapDb;
  return std::min(kPsnrCapDb, 10.0 * std::log10(255.0 * 255.0 / (sse / double(n))));
}

double Ssim(const Image& a, const Image& b) {
  CheckComparable(a, b, "SSIM");
  if (a.height < kSsimWindow || a.width < kSsimWindow) {
    throw Error(fmt::format("SSIM: image {}x{} is smaller than the {}x{} window", a.height,
                            a.width, kSsimWindow, kSsimWindow));
  }
  const double c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255);
  std::vector<cv::Mat> ca, cb;
  cv::split(View(a), ca);
  cv::split(View(b), cb);
  // Only windows fully inside the image are averaged, so the border mode never matters.
  const int r = kSsimWindow / 2;
  const cv::Rect valid(r, r, a.width - 2 * r, a.height - 2 * r);
  const cv::Size window(kSsimWindow, kSsimWindow);
  auto blur = [&](const cv::Mat& m) {
    cv::Mat out;
    cv::GaussianBlur(m, out, window, kSsimSigma, kSsimSigma, cv::BORDER_REPLICATE);
    return cv::Mat(out, valid);
  };
  double total = 0;
  for (int c = 0; c < a.channels; ++c) {
    cv::Mat x, y;
    ca[c].convertTo(x, CV_64F);
    cb[c].convertTo(y, CV_64F);
    const cv::Mat mx = blur(x), my = blur(y);
    const cv::Mat mx2 = mx.mul(mx), my2 = my.mul(my), mxy = mx.mul(my);
    const cv::Mat sx2 = blur(x.mul(x)) - mx2, sy2 = blur(y.mul(y)) - my2;
    const cv::Mat sxy = blur(x.mul(y)) - mxy;
    cv::Mat num = (2 * mxy + c1).mul(2 * sxy + c2);
    cv::Mat den = (mx2 + my2 + c1).mul(sx2 + sy2 + c2);
    cv::Mat map;
    cv::divide(num, den, map);
    total += cv::mean(map)[0];
  }
  return total / a.channels;
}

LatencyStats Summarize(std::vector<double> values) {
  LatencyStats s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.count = int(values.size());
  s.p50 = Quantile(values, 0.50);
  s.p95 = Quantile(values, 0.95);
  s.p99 = Quantile(values, 0.99);
  s.max = values.back();
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / double(values.size());
  return s;
}

}  // namespace padbench
