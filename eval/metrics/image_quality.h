// Image-prediction quality (PSNR, SSIM) and latency summaries used in evaluation reports.
#pragma once

#include <vector>

#include "sim/types.h"

namespace padbench {

// PSNR values are capped here: identical images would otherwise give +inf, which JSON cannot hold.
inline constexpr double kPsnrCapDb = 100.0;

// Peak signal-to-noise ratio of two 8-bit images (peak 255) in dB, over all pixels and channels,
// capped at kPsnrCapDb. Throws padbench::Error when sizes or channel counts differ or an image is empty.
double Psnr(const Image& a, const Image& b);

// PSNR over the pixels where `mask` (one channel, same height and width) is non-zero, all
// channels, capped at kPsnrCapDb; NaN when the mask selects no pixel. Throws padbench::Error on
// size or channel mismatch.
double MaskedPsnr(const Image& a, const Image& b, const Image& mask);

// Mean SSIM (Wang et al. 2004) over channels: Gaussian window 11x11, sigma 1.5, K1 = 0.01,
// K2 = 0.03, L = 255, no downsampling, averaged over every window that lies fully inside the image
// (the reference ssim_index.m and skimage's cropping). Own implementation on OpenCV core/imgproc.
// Throws padbench::Error on size or channel mismatch, or an image smaller than 11x11.
double Ssim(const Image& a, const Image& b);

// Distribution summary of latencies (or any sample), in the unit of the input.
struct LatencyStats {
  int count = 0;
  double p50 = 0, p95 = 0, p99 = 0, max = 0, mean = 0;
};

// Percentiles by linear interpolation between order statistics (numpy's default);
// an empty input gives count 0 and zeros.
LatencyStats Summarize(std::vector<double> values);

}  // namespace padbench
