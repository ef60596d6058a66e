// Report figures (PNG) drawn with OpenCV: success per task and latency distributions.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "eval/report/stats.h"

namespace padbench {

// One policy's bars in the success plot.
struct PolicySuccessSeries {
  std::string name;                // legend entry, e.g. the policy spec
  std::vector<double> rate;        // per task, fraction in [0, 1]; NaN leaves the bar out
  std::vector<Interval> interval;  // per task 95% interval (fractions), or empty for no whiskers
};

// Grouped-bar data: one group per task, one bar per policy.
struct SuccessPlotData {
  std::string title = "Success rate per task (95% Wilson intervals)";
  std::vector<std::string> tasks;             // x axis, left to right
  std::vector<PolicySuccessSeries> policies;  // colours follow this order
};

// Grouped bars with interval whiskers, y 0-100%, legend and title, written as PNG: 1000 px wide,
// wider only when bars would get thinner than 6 px (e.g. 50 tasks).
// Throws padbench::Error on inconsistent data or when the file cannot be written.
void PlotSuccess(const std::string& path, const SuccessPlotData& data);

// Empirical CDF per policy of latencies in ms on a log x axis with decade ticks, written as PNG.
// Values <= 0 cannot sit on a log axis: they count in the CDF and lift the curve's left end.
// Throws padbench::Error when the file cannot be written.
void PlotLatencyCdf(const std::string& path,
                    const std::vector<std::pair<std::string, std::vector<double>>>& latencies_ms);

// One curve of a line plot.
struct LineSeries {
  std::string name;
  std::vector<double> x, y;
  std::vector<double> low, high;  // optional: an interval per point, drawn as whiskers
};

// Line plot (e.g. training loss against steps), optional log-scale y axis, legend above.
// `y_range` fixes the y axis when low < high (else it fits the data).
// Throws padbench::Error when the file cannot be written.
void PlotLines(const std::string& path, const std::string& title, const std::string& x_label,
               const std::string& y_label, const std::vector<LineSeries>& series, bool log_y = false,
               std::pair<double, double> y_range = {0, 0});

}  // namespace padbench
