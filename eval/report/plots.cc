#include "eval/report/plots.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "eval/metrics/image_quality.h"
#include "sim/error.h"

// Index: ---- drawing helpers ---- (text, rotated text, legend, saving)
//        ---- success plot ----
//        ---- latency CDF ----

namespace padbench {
namespace {

// ---- drawing helpers ----

const cv::Scalar kWhite(255, 255, 255);
const cv::Scalar kText(30, 30, 30);
const cv::Scalar kAxis(80, 80, 80);
const cv::Scalar kGrid(222, 222, 222);
const cv::Scalar kMinorGrid(240, 240, 240);
const cv::Scalar kBand(248, 248, 248);
const cv::Scalar kWhisker(40, 40, 40);

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr int kTitleFont = cv::FONT_HERSHEY_DUPLEX;
constexpr double kTickScale = 0.5;    // 12 px digits and capitals, 17 px with descenders
constexpr double kLabelScale = 0.55;
constexpr double kTitleScale = 0.75;
constexpr int kWidth = 1000;

// matplotlib's tab10 (BGR), the palette readers of ML papers already know.
const cv::Scalar kPalette[] = {{180, 119, 31}, {14, 127, 255}, {44, 160, 44},  {40, 39, 214},
                               {189, 103, 148}, {75, 86, 140},  {194, 119, 227}, {127, 127, 127},
                               {34, 189, 188},  {207, 190, 23}};

cv::Scalar Colour(size_t i) { return kPalette[i % (sizeof(kPalette) / sizeof(kPalette[0]))]; }

enum class Align { kLeft, kCentre, kRight };

struct Font {
  int face = kFont;
  double scale = kTickScale;
  int thickness = 1;
};

cv::Size TextSize(const std::string& s, const Font& f) {
  int baseline = 0;
  return cv::getTextSize(s, f.face, f.scale, f.thickness, &baseline);
}

// Draws `s` with its baseline at y, aligned horizontally at x.
void Text(cv::Mat& img, const std::string& s, int x, int y, const Font& f, Align align,
          const cv::Scalar& colour = kText) {
  const int w = TextSize(s, f).width;
  if (align == Align::kCentre) x -= w / 2;
  if (align == Align::kRight) x -= w;
  cv::putText(img, s, {x, y}, f.face, f.scale, colour, f.thickness, cv::LINE_AA);
}

// Draws `s` rotated `degrees` counter-clockwise; the anchor (its right end or centre, at half
// the capital height) lands on `target`. putText cannot rotate, so the text is drawn into a mask,
// warped, and blended.
void RotatedText(cv::Mat& img, const std::string& s, cv::Point2f target, double degrees,
                 const Font& f, Align anchor, const cv::Scalar& colour = kText) {
  const cv::Size size = TextSize(s, f);
  const int pad = 4;
  cv::Mat mask(size.height * 2 + 2 * pad, size.width + 2 * pad, CV_8U, cv::Scalar(0));
  cv::putText(mask, s, {pad, pad + size.height}, f.face, f.scale, cv::Scalar(255), f.thickness,
              cv::LINE_AA);
  const float ax = anchor == Align::kRight    ? float(pad + size.width)
                   : anchor == Align::kCentre ? float(pad + size.width / 2.0)
                                              : float(pad);
  const cv::Point2f a(ax, float(pad + size.height / 2.0));
  cv::Mat m = cv::getRotationMatrix2D(a, degrees, 1.0);
  m.at<double>(0, 2) += target.x - a.x;
  m.at<double>(1, 2) += target.y - a.y;
  cv::Mat warped;
  cv::warpAffine(mask, warped, m, img.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar(0));
  for (int y = 0; y < img.rows; ++y) {
    const uint8_t* w = warped.ptr<uint8_t>(y);
    cv::Vec3b* p = img.ptr<cv::Vec3b>(y);
    for (int x = 0; x < img.cols; ++x) {
      if (w[x] == 0) continue;
      const double alpha = w[x] / 255.0;
      for (int c = 0; c < 3; ++c) {
        p[x][c] = cv::saturate_cast<uint8_t>(p[x][c] * (1 - alpha) + colour[c] * alpha);
      }
    }
  }
}

// Shortens a label to `max_chars` so long task names cannot eat the plot.
std::string Abbreviate(const std::string& s, size_t max_chars) {
  if (s.size() <= max_chars) return s;
  return s.substr(0, max_chars - 1) + ".";
}

void DrawTitle(cv::Mat& img, const std::string& title) {
  Text(img, title, img.cols / 2, 30, {kTitleFont, kTitleScale, 1}, Align::kCentre);
}

constexpr int kSwatch = 14, kSwatchGap = 6, kLegendGap = 28, kLegendRowH = 24;

int LegendEntryWidth(const std::string& name, const Font& f) {
  return kSwatch + kSwatchGap + TextSize(name, f).width;
}

// Splits legend entries into rows no wider than `width`.
std::vector<std::vector<size_t>> LegendRows(const std::vector<std::string>& names, int width,
                                            const Font& f) {
  std::vector<std::vector<size_t>> rows(1);
  int row_w = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    const int w = LegendEntryWidth(names[i], f);
    if (row_w > 0 && row_w + kLegendGap + w > width) {
      rows.emplace_back();
      row_w = 0;
    }
    row_w += (row_w > 0 ? kLegendGap : 0) + w;
    rows.back().push_back(i);
  }
  return rows;
}

// Horizontal legend of colour swatches, each row centred, starting at y = `top`.
void DrawSwatchLegend(cv::Mat& img, const std::vector<std::string>& names,
                      const std::vector<std::vector<size_t>>& rows, int top, const Font& f) {
  int y = top;
  for (const auto& row : rows) {
    int total = -kLegendGap;
    for (size_t i : row) total += LegendEntryWidth(names[i], f) + kLegendGap;
    int x = (img.cols - total) / 2;
    for (size_t i : row) {
      cv::rectangle(img, {x, y, kSwatch, kSwatch}, Colour(i), cv::FILLED);
      Text(img, names[i], x + kSwatch + kSwatchGap, y + kSwatch - 1, f, Align::kLeft);
      x += LegendEntryWidth(names[i], f) + kLegendGap;
    }
    y += kLegendRowH;
  }
}

void Save(const std::string& path, const cv::Mat& img) {
  bool ok = false;
  try {
    ok = cv::imwrite(path, img);
  } catch (const cv::Exception& e) {
    throw Error(fmt::format("cannot write plot '{}': {}", path, e.err));
  }
  if (!ok) throw Error(fmt::format("cannot write plot '{}'", path));
}

// ---- success plot ----

void CheckSuccessData(const SuccessPlotData& data) {
  for (const PolicySuccessSeries& p : data.policies) {
    if (p.rate.size() != data.tasks.size()) {
      throw Error(fmt::format("success plot: policy '{}' has {} rates for {} tasks", p.name,
                              p.rate.size(), data.tasks.size()));
    }
    if (!p.interval.empty() && p.interval.size() != data.tasks.size()) {
      throw Error(fmt::format("success plot: policy '{}' has {} intervals for {} tasks", p.name,
                              p.interval.size(), data.tasks.size()));
    }
  }
}

}  // namespace

void PlotSuccess(const std::string& path, const SuccessPlotData& data) {
  CheckSuccessData(data);
  const Font tick{kFont, kTickScale, 1}, label{kFont, kLabelScale, 1};
  const int left = 80, right = 24, plot_h = 380;
  const size_t n_tasks = std::max<size_t>(1, data.tasks.size());
  const size_t n_pol = std::max<size_t>(1, data.policies.size());
  // ~1000 px wide unless that leaves bars under 6 px (e.g. MT50): then the figure grows instead.
  const int min_slot = int(std::ceil(6.0 * double(n_pol) / 0.8)) + 2;
  const int plot_w = std::max(kWidth - left - right, int(n_tasks) * min_slot);
  const int width = left + plot_w + right;
  const double slot = double(plot_w) / double(n_tasks);

  // Task labels lie flat when they fit their slot, else tilt 40 degrees (right end at the tick),
  // or stand upright when even tilted neighbours would touch.
  std::vector<std::string> names;
  int widest = 0;
  for (const std::string& t : data.tasks) {
    names.push_back(Abbreviate(t, 22));
    widest = std::max(widest, TextSize(names.back(), label).width);
  }
  const int cap = TextSize("Ag", label).height;
  const bool tilt = widest > slot * 0.92;
  const double angle = slot * std::sin(40 * CV_PI / 180) >= cap + 4 ? 40 : 90;
  const double rad = angle * CV_PI / 180;
  const int labels_h = tilt ? int(widest * std::sin(rad) + cap * std::cos(rad)) + 4 : cap + 4;

  std::vector<std::string> legend;
  for (const auto& p : data.policies) legend.push_back(p.name);
  const auto legend_rows = LegendRows(legend, width - 80, label);
  const int legend_top = 46;
  const int top = legend_top + int(legend_rows.size()) * kLegendRowH + 14;
  const int height = top + plot_h + 10 + labels_h + 44;
  cv::Mat img(height, width, CV_8UC3, kWhite);
  DrawTitle(img, data.title);
  DrawSwatchLegend(img, legend, legend_rows, legend_top, label);

  const int bottom = top + plot_h;
  auto y_of = [&](double fraction) {
    return int(std::lround(bottom - std::clamp(fraction, 0.0, 1.0) * plot_h));
  };
  for (size_t t = 1; t < n_tasks; t += 2) {  // alternate bands make 12+ groups easy to follow
    const int x0 = left + int(std::lround(t * slot)), x1 = left + int(std::lround((t + 1) * slot));
    cv::rectangle(img, cv::Rect(x0, top, x1 - x0, plot_h), kBand, cv::FILLED);
  }
  for (int pct = 0; pct <= 100; pct += 20) {
    const int y = y_of(pct / 100.0);
    if (pct > 0) cv::line(img, {left, y}, {left + plot_w, y}, kGrid, 1);
    cv::line(img, {left - 5, y}, {left, y}, kAxis, 1);
    Text(img, fmt::format("{}%", pct), left - 9, y + 5, tick, Align::kRight);
  }
  RotatedText(img, "success rate", {20.0f, float(top + plot_h / 2)}, 90, label, Align::kCentre);

  const double group = slot * 0.8, bar = group / double(n_pol);
  for (size_t t = 0; t < data.tasks.size(); ++t) {
    const double group_x = left + t * slot + (slot - group) / 2;
    for (size_t p = 0; p < data.policies.size(); ++p) {
      const PolicySuccessSeries& s = data.policies[p];
      const double rate = s.rate[t];
      if (!std::isfinite(rate)) continue;
      const int x0 = int(std::lround(group_x + p * bar)) + 1;
      const int x1 = int(std::lround(group_x + (p + 1) * bar)) - 1;
      // A zero rate still gets a sliver so it reads as "measured, 0%" rather than "missing".
      const int y = std::min(y_of(rate), bottom - 2);
      cv::rectangle(img, cv::Point(x0, y), cv::Point(x1, bottom), Colour(p), cv::FILLED);
      if (!s.interval.empty()) {
        const int cx = (x0 + x1) / 2, half = std::max(2, std::min(6, (x1 - x0) / 3));
        const int ylo = y_of(s.interval[t].low), yhi = y_of(s.interval[t].high);
        cv::line(img, {cx, ylo}, {cx, yhi}, kWhisker, 1, cv::LINE_AA);
        cv::line(img, {cx - half, ylo}, {cx + half, ylo}, kWhisker, 1, cv::LINE_AA);
        cv::line(img, {cx - half, yhi}, {cx + half, yhi}, kWhisker, 1, cv::LINE_AA);
      }
    }
    const int cx = left + int(std::lround((t + 0.5) * slot));
    cv::line(img, {cx, bottom}, {cx, bottom + 4}, kAxis, 1);
    if (tilt) {
      RotatedText(img, names[t], {float(cx + (angle < 90 ? 3 : 0)), float(bottom + 10)}, angle, label,
                  Align::kRight);
    } else {
      Text(img, names[t], cx, bottom + 8 + cap, label, Align::kCentre);
    }
  }
  cv::line(img, {left, top}, {left, bottom}, kAxis, 1);
  cv::line(img, {left, bottom}, {left + plot_w, bottom}, kAxis, 1);
  Text(img, "task", left + plot_w / 2, height - 14, label, Align::kCentre);
  Save(path, img);
}

// ---- latency CDF ----

namespace {

std::string DecadeLabel(int e) {
  if (e >= 0 && e <= 5) return fmt::format("{}", static_cast<long>(std::lround(std::pow(10.0, e))));
  if (e < 0 && e >= -4) return fmt::format("{:.{}f}", std::pow(10.0, e), -e);
  return fmt::format("1e{}", e);
}

}  // namespace

void PlotLatencyCdf(const std::string& path,
                    const std::vector<std::pair<std::string, std::vector<double>>>& latencies_ms) {
  const Font tick{kFont, kTickScale, 1}, label{kFont, kLabelScale, 1};

  // NaN or infinite timings are measurement faults, not latencies; they are left out.
  std::vector<std::vector<double>> sorted;
  double lo_v = std::numeric_limits<double>::infinity(), hi_v = 0;
  for (const auto& entry : latencies_ms) {
    std::vector<double>& v = sorted.emplace_back();
    for (double x : entry.second) {
      if (!std::isfinite(x)) continue;
      v.push_back(x);
      if (x > 0) {
        lo_v = std::min(lo_v, x);
        hi_v = std::max(hi_v, x);
      }
    }
    std::sort(v.begin(), v.end());
  }
  int lo = -1, hi = 2;  // an empty plot still shows a sensible 0.1-100 ms axis
  if (hi_v > 0) {
    lo = int(std::floor(std::log10(lo_v)));
    hi = std::max(lo + 1, int(std::ceil(std::log10(hi_v))));
  }

  // The legend is a small table above the plot: curves can cover any corner inside it.
  const int row = 22, legend_top = 48;
  const int top = legend_top + int(latencies_ms.size() + 1) * row + 12;
  const int left = 80, right = 24, plot_h = 420, plot_w = kWidth - left - right;
  const int bottom = top + plot_h, height = bottom + 70;
  auto x_of = [&](double v) { return left + (std::log10(v) - lo) / double(hi - lo) * plot_w; };
  auto y_of = [&](double f) { return bottom - f * plot_h; };

  cv::Mat img(height, kWidth, CV_8UC3, kWhite);
  DrawTitle(img, "Latency per Act call (empirical CDF)");
  for (int e = lo; e < hi; ++e) {
    for (int m = 2; m <= 9; ++m) {
      const int x = int(std::lround(x_of(m * std::pow(10.0, e))));
      cv::line(img, {x, top}, {x, bottom}, kMinorGrid, 1);
      cv::line(img, {x, bottom}, {x, bottom + 3}, kAxis, 1);
    }
  }
  for (int e = lo; e <= hi; ++e) {
    const int x = int(std::lround(x_of(std::pow(10.0, e))));
    if (e > lo) cv::line(img, {x, top}, {x, bottom}, kGrid, 1);
    cv::line(img, {x, bottom}, {x, bottom + 6}, kAxis, 1);
    Text(img, DecadeLabel(e), x, bottom + 24, tick, Align::kCentre);
  }
  for (int i = 0; i <= 5; ++i) {
    const int y = int(std::lround(y_of(i / 5.0)));
    if (i > 0) cv::line(img, {left, y}, {left + plot_w, y}, kGrid, 1);
    cv::line(img, {left - 5, y}, {left, y}, kAxis, 1);
    Text(img, fmt::format("{:.1f}", i / 5.0), left - 9, y + 5, tick, Align::kRight);
  }
  cv::line(img, {left, top}, {left, bottom}, kAxis, 1);
  cv::line(img, {left, bottom}, {left + plot_w, bottom}, kAxis, 1);
  Text(img, "latency (ms, log scale)", left + plot_w / 2, height - 16, label, Align::kCentre);
  RotatedText(img, "fraction of calls <= x", {20.0f, float(top + plot_h / 2)}, 90, label,
              Align::kCentre);

  // Legend table: swatch, name, then right-aligned p50 / p99 / calls columns.
  std::vector<std::array<std::string, 4>> cells = {{"", "p50 ms", "p99 ms", "calls"}};
  for (size_t p = 0; p < latencies_ms.size(); ++p) {
    const LatencyStats st = Summarize(sorted[p]);
    if (st.count == 0) {
      cells.push_back({Abbreviate(latencies_ms[p].first, 48), "-", "-", "0"});
    } else {
      cells.push_back({Abbreviate(latencies_ms[p].first, 48), fmt::format("{:.3g}", st.p50),
                       fmt::format("{:.3g}", st.p99), fmt::format("{}", st.count)});
    }
  }
  std::array<int, 4> col_w{};
  for (const auto& r : cells) {
    for (size_t c = 0; c < 4; ++c) col_w[c] = std::max(col_w[c], TextSize(r[c], label).width);
  }
  const int swatch = 30, col_gap = 26;
  const int table_w = swatch + 8 + col_w[0] + 3 * col_gap + col_w[1] + col_w[2] + col_w[3];
  const int tx = (kWidth - table_w) / 2;
  for (size_t r = 0; r < cells.size(); ++r) {
    const int y = legend_top + int(r) * row + 15;
    const cv::Scalar colour = r == 0 ? kAxis : kText;
    int x = tx;
    if (r > 0) cv::line(img, {x, y - 5}, {x + swatch, y - 5}, Colour(r - 1), 3, cv::LINE_AA);
    x += swatch + 8;
    Text(img, cells[r][0], x, y, label, Align::kLeft, colour);
    x += col_w[0];
    for (size_t c = 1; c < 4; ++c) {
      x += col_gap + col_w[c];
      Text(img, cells[r][c], x, y, label, Align::kRight, colour);
    }
  }

  for (size_t p = 0; p < sorted.size(); ++p) {
    const std::vector<double>& v = sorted[p];
    const size_t n = v.size();
    if (n == 0) continue;
    const size_t below = size_t(std::count_if(v.begin(), v.end(), [](double x) { return x <= 0; }));
    // A step curve in pixel space; consecutive duplicates are dropped so 1e5 samples stay cheap.
    std::vector<cv::Point> curve;
    auto add = [&](double x, double f) {
      const cv::Point pt(int(std::lround(x)), int(std::lround(y_of(f))));
      if (!curve.empty() && curve.back() == pt) return;
      curve.push_back(pt);
    };
    // Starting at the first sample (not the left edge) keeps the x axis visible under the curves.
    if (below > 0) add(left, double(below) / n);
    for (size_t i = below; i < n; ++i) {
      const double x = x_of(v[i]);
      add(x, double(i) / n);
      add(x, double(i + 1) / n);
    }
    add(left + plot_w, 1.0);
    cv::polylines(img, curve, false, Colour(p), 2, cv::LINE_AA);
  }
  Save(path, img);
}

void PlotLines(const std::string& path, const std::string& title, const std::string& x_label,
               const std::string& y_label, const std::vector<LineSeries>& series, bool log_y,
               std::pair<double, double> y_range) {
  const Font tick{kFont, kTickScale, 1}, label{kFont, kLabelScale, 1};
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  for (const LineSeries& s : series) {
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]) || (log_y && s.y[i] <= 0)) continue;
      x_lo = std::min(x_lo, s.x[i]);
      x_hi = std::max(x_hi, s.x[i]);
      const double y = log_y ? std::log10(s.y[i]) : s.y[i];
      y_lo = std::min(y_lo, y);
      y_hi = std::max(y_hi, y);
    }
  }
  if (!(x_hi > x_lo)) x_lo = 0, x_hi = std::max(1.0, x_hi);
  if (!(y_hi > y_lo)) y_lo = std::isfinite(y_lo) ? y_lo - 1 : 0, y_hi = y_lo + 2;
  if (log_y) y_lo = std::floor(y_lo), y_hi = std::ceil(y_hi);
  if (!log_y && y_range.first < y_range.second) y_lo = y_range.first, y_hi = y_range.second;

  const int legend_top = 48, top = legend_top + 40;
  const int left = 90, right = 24, plot_h = 420, plot_w = kWidth - left - right;
  const int bottom = top + plot_h, height = bottom + 70;
  auto x_of = [&](double v) { return left + (v - x_lo) / (x_hi - x_lo) * plot_w; };
  auto y_of = [&](double v) { return bottom - ((log_y ? std::log10(v) : v) - y_lo) / (y_hi - y_lo) * plot_h; };

  cv::Mat img(height, kWidth, CV_8UC3, kWhite);
  DrawTitle(img, title);
  for (int i = 0; i <= 5; ++i) {
    const double xv = x_lo + (x_hi - x_lo) * i / 5;
    const int x = int(std::lround(x_of(xv)));
    if (i > 0) cv::line(img, {x, top}, {x, bottom}, kGrid, 1);
    cv::line(img, {x, bottom}, {x, bottom + 6}, kAxis, 1);
    Text(img, fmt::format("{:.4g}", xv), x, bottom + 24, tick, Align::kCentre);
  }
  const int y_ticks = log_y ? int(y_hi - y_lo) : 5;
  for (int i = 0; i <= y_ticks; ++i) {
    const double yv = y_lo + (y_hi - y_lo) * i / y_ticks;
    const int y = int(std::lround(bottom - (yv - y_lo) / (y_hi - y_lo) * plot_h));
    if (i > 0) cv::line(img, {left, y}, {left + plot_w, y}, kGrid, 1);
    cv::line(img, {left - 5, y}, {left, y}, kAxis, 1);
    Text(img, log_y ? DecadeLabel(int(std::lround(yv))) : fmt::format("{:.3g}", yv), left - 9, y + 5, tick,
         Align::kRight);
  }
  cv::line(img, {left, top}, {left, bottom}, kAxis, 1);
  cv::line(img, {left, bottom}, {left + plot_w, bottom}, kAxis, 1);
  Text(img, x_label, left + plot_w / 2, height - 16, label, Align::kCentre);
  RotatedText(img, y_label, {20.0f, float(top + plot_h / 2)}, 90, label, Align::kCentre);
  std::vector<std::string> names;
  for (const LineSeries& s : series) names.push_back(s.name);
  std::vector<size_t> all(names.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  DrawSwatchLegend(img, names, {all}, legend_top, label);
  for (size_t k = 0; k < series.size(); ++k) {
    std::vector<cv::Point> curve;
    for (size_t i = 0; i < series[k].x.size() && i < series[k].y.size(); ++i) {
      if (!std::isfinite(series[k].y[i]) || (log_y && series[k].y[i] <= 0)) continue;
      curve.emplace_back(int(std::lround(x_of(series[k].x[i]))), int(std::lround(y_of(series[k].y[i]))));
    }
    if (curve.size() == 1) cv::circle(img, curve[0], 3, Colour(k), cv::FILLED, cv::LINE_AA);
    cv::polylines(img, curve, false, Colour(k), 2, cv::LINE_AA);
    const LineSeries& s = series[k];
    for (size_t i = 0; i < s.x.size() && i < s.low.size() && i < s.high.size() && !log_y; ++i) {
      const int x = int(std::lround(x_of(s.x[i]))), lo = int(std::lround(y_of(s.low[i]))),
                hi = int(std::lround(y_of(s.high[i])));
      cv::line(img, {x, lo}, {x, hi}, Colour(k), 1, cv::LINE_AA);
      cv::line(img, {x - 4, lo}, {x + 4, lo}, Colour(k), 1, cv::LINE_AA);
      cv::line(img, {x - 4, hi}, {x + 4, hi}, Colour(k), 1, cv::LINE_AA);
      if (i < s.y.size()) cv::circle(img, {x, int(std::lround(y_of(s.y[i])))}, 3, Colour(k), cv::FILLED, cv::LINE_AA);
    }
  }
  Save(path, img);
}

}  // namespace padbench
