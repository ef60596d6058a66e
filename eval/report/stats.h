// Small statistics used in reports.
#pragma once

namespace padbench {

struct Interval {
  double low = 0, high = 0;
};

// Wilson score interval for `successes` out of `trials` at normal quantile z (1.96: 95%).
Interval WilsonInterval(int successes, int trials, double z = 1.959963984540054);

}  // namespace padbench
