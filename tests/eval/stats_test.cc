#include "eval/report/stats.h"

#include <catch2/catch.hpp>

namespace padbench {
namespace {

// Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I, method 3.
TEST_CASE("stats: Wilson intervals match the published values", "[stats]") {
  struct Case {
    int successes, trials;
    double low, high;
  };
  for (const Case& c : {Case{81, 263, 0.2553, 0.3662}, Case{15, 148, 0.0624, 0.1605}, Case{0, 20, 0.0, 0.1611},
                        Case{1, 29, 0.0061, 0.1718}}) {
    INFO(c.successes << "/" << c.trials);
    const Interval ci = WilsonInterval(c.successes, c.trials);
    REQUIRE(ci.low == Approx(c.low).margin(5e-5));
    REQUIRE(ci.high == Approx(c.high).margin(5e-5));
  }
}

TEST_CASE("stats: Wilson intervals stay inside [0, 1] and cover nothing without trials", "[stats]") {
  const Interval all = WilsonInterval(10, 10);
  REQUIRE(all.high <= 1.0);
  REQUIRE(all.low == Approx(0.7225).margin(5e-5));
  const Interval none = WilsonInterval(0, 0);
  REQUIRE(none.low == 0.0);
  REQUIRE(none.high == 1.0);
}

}  // namespace
}  // namespace padbench
