#include "eval/metrics/image_quality.h"

#include <cmath>
#include <numeric>
#include <random>

#include <catch2/catch.hpp>

#include "sim/error.h"

namespace padbench {
namespace {


// Deterministic textured RGB image: a gradient plus seeded noise.
Image Textured(int h, int w, unsigned seed) {
  Image img(h, w);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> noise(0, 60);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int c = 0; c < 3; ++c) {
        img.pixels[(size_t(y) * w + x) * 3 + c] = uint8_t(40 + (x * 2 + y + 30 * c) % 140 + noise(rng));
      }
    }
  }
  return img;
}

Image Constant(int h, int w, uint8_t value, int channels = 3) {
  Image img(h, w, channels);
  std::fill(img.pixels.begin(), img.pixels.end(), value);
  return img;
}

TEST_CASE("metrics: PSNR known answers", "[metrics]") {
  const Image a = Textured(32, 32, 1);
  CHECK(Psnr(a, a) == kPsnrCapDb);
  Image b = a;
  for (auto& p : b.pixels) p = uint8_t(p + 10);  // Textured stays below 245, so no wrap-around
  CHECK(Psnr(a, b) == Approx(20 * std::log10(255.0 / 10)).epsilon(1e-12));
  CHECK(Psnr(a, b) == Approx(28.1308).margin(1e-4));
  CHECK(Psnr(b, a) == Psnr(a, b));
  // Black vs white: MSE = 255^2, so 0 dB.
  CHECK(Psnr(Constant(4, 4, 0), Constant(4, 4, 255)) == Approx(0).margin(1e-12));
}

TEST_CASE("metrics: SSIM known answers", "[metrics]") {
  const Image a = Textured(64, 64, 2);
  CHECK(Ssim(a, a) == Approx(1.0).margin(1e-12));

  // Against a constant image the structure term is C2 / (var + C2): tiny for uniform noise.
  Image noise(64, 64);
  std::mt19937 rng(4);
  for (auto& p : noise.pixels) p = uint8_t(rng() % 256);
  CHECK(Ssim(noise, Constant(64, 64, 128)) < 0.05);
  CHECK(Ssim(a, Constant(64, 64, 128)) < 0.2);

  const Image b = Textured(64, 64, 3);
  CHECK(Ssim(a, b) == Approx(Ssim(b, a)).margin(1e-12));
  CHECK(Ssim(a, b) < 1.0);

  // Two constant images: every variance is 0, so SSIM = (2 m1 m2 + C1) / (m1^2 + m2^2 + C1).
  const double c1 = 2.55 * 2.55;
  CHECK(Ssim(Constant(16, 16, 100), Constant(16, 16, 110)) ==
        Approx((2 * 100.0 * 110 + c1) / (100.0 * 100 + 110.0 * 110 + c1)).margin(1e-9));
  CHECK(Ssim(Constant(16, 16, 100), Constant(16, 16, 110)) == Approx(0.9954764).margin(1e-6));
}

TEST_CASE("metrics: SSIM of one grey 11x11 window matches the closed form", "[metrics]") {
  // An 11x11 image holds exactly one window; with constant images every variance is 0 and SSIM
  // reduces to the luminance term (2 m1 m2 + C1) / (m1^2 + m2^2 + C1).
  const Image a = Constant(11, 11, 50, 1), b = Constant(11, 11, 90, 1);
  const double c1 = 2.55 * 2.55;
  CHECK(Ssim(a, b) == Approx((2 * 50.0 * 90 + c1) / (50.0 * 50 + 90.0 * 90 + c1)).margin(1e-9));
}

TEST_CASE("metrics: SSIM matches a NumPy reference value", "[metrics]") {
  // Image: pixel (y, x, c) = (7x + 13y + 29c) mod 256 vs (5x + 11y + 31c + 40) mod 256, 20x24.
  // Reference: Gaussian-weighted SSIM (11x11, sigma 1.5, valid windows only) computed in NumPy
  // with an explicit window sum, independent of OpenCV; see the comment in metrics.h.
  Image a(20, 24), b(20, 24);
  for (int y = 0; y < 20; ++y) {
    for (int x = 0; x < 24; ++x) {
      for (int c = 0; c < 3; ++c) {
        a.pixels[(size_t(y) * 24 + x) * 3 + c] = uint8_t((7 * x + 13 * y + 29 * c) % 256);
        b.pixels[(size_t(y) * 24 + x) * 3 + c] = uint8_t((5 * x + 11 * y + 31 * c + 40) % 256);
      }
    }
  }
  CHECK(Ssim(a, b) == Approx(0.7509751469323981).margin(1e-9));
}

TEST_CASE("metrics: PSNR and SSIM reject mismatched images", "[metrics]") {
  const Image a = Textured(32, 32, 1);
  CHECK_THROWS_AS(Psnr(a, Textured(32, 16, 1)), Error);
  CHECK_THROWS_AS(Psnr(a, Constant(32, 32, 0, 1)), Error);
  CHECK_THROWS_AS(Ssim(a, Textured(16, 32, 1)), Error);
  CHECK_THROWS_AS(Ssim(a, Constant(32, 32, 0, 4)), Error);
  CHECK_THROWS_AS(Psnr(Image(), Image()), Error);
  CHECK_THROWS_AS(Ssim(Constant(8, 8, 0), Constant(8, 8, 0)), Error);  // smaller than the window
}

TEST_CASE("metrics: percentiles of 1..100 follow numpy's linear rule", "[metrics]") {
  std::vector<double> v(100);
  std::iota(v.begin(), v.end(), 1.0);
  std::shuffle(v.begin(), v.end(), std::mt19937(7));
  const LatencyStats s = Summarize(v);
  CHECK(s.count == 100);
  CHECK(s.p50 == Approx(50.5));
  CHECK(s.p95 == Approx(95.05));
  CHECK(s.p99 == Approx(99.01));
  CHECK(s.max == 100);
  CHECK(s.mean == Approx(50.5));
}

TEST_CASE("metrics: summaries of empty and single samples", "[metrics]") {
  const LatencyStats empty = Summarize({});
  CHECK(empty.count == 0);
  CHECK(empty.p50 == 0);
  CHECK(empty.p99 == 0);
  CHECK(empty.max == 0);
  CHECK(empty.mean == 0);
  const LatencyStats one = Summarize({3.5});
  CHECK(one.count == 1);
  CHECK(one.p50 == 3.5);
  CHECK(one.p95 == 3.5);
  CHECK(one.p99 == 3.5);
  CHECK(one.max == 3.5);
  CHECK(one.mean == 3.5);
  // numpy.percentile([1, 2, 3, 4], [50, 95, 99]) = [2.5, 3.85, 3.97]
  const LatencyStats four = Summarize({4, 1, 3, 2});
  CHECK(four.p50 == Approx(2.5));
  CHECK(four.p95 == Approx(3.85));
  CHECK(four.p99 == Approx(3.97));
}

}  // namespace
}  // namespace padbench
