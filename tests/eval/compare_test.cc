#include "eval/report/compare.h"

#include <algorithm>
#include <map>
#include <utility>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "sim/error.h"

namespace padbench {
namespace {

using Catch::Matchers::Contains;
using nlohmann::json;

// The part of results.json that Compare reads: policy -> task -> (successes, episodes), p50,
// and the run's config (seed 0, the episode count of the tasks, one shard).
json Results(const std::map<std::string, std::map<std::string, std::pair<int, int>>>& policies,
             const std::map<std::string, double>& p50_ms = {}) {
  json doc;
  doc["aggregated"]["policies"] = json::object();
  doc["config"] = {{"seed", 0}, {"episodes", 0}, {"shard_index", 0}, {"shard_count", 1}};
  for (const auto& [policy, tasks] : policies) {
    json& p = doc["aggregated"]["policies"][policy];
    p["tasks"] = json::object();
    for (const auto& [task, counts] : tasks) {
      p["tasks"][task] = {{"successes", counts.first}, {"episodes", counts.second}};
      doc["config"]["episodes"] = counts.second;
    }
    auto it = p50_ms.find(policy);
    if (it != p50_ms.end()) p["latency"] = {{"p50_ms", it->second}, {"p95_ms", 2 * it->second}};
  }
  return doc;
}

// Reference values: exact hypergeometric lower tails computed with Python's fractions and
// math.comb (scipy.stats.fisher_exact(..., alternative='greater') on [[base s, base f],
// [new s, new f]] gives the same numbers).
TEST_CASE("compare: Fisher exact one-sided p-values on known tables", "[compare]") {
  CHECK(FisherDropPValue(10, 10, 5, 10) == Approx(0.016253869969040248).epsilon(1e-10));
  CHECK(FisherDropPValue(5, 10, 5, 10) == Approx(0.6718591006516703).epsilon(1e-10));
  CHECK(FisherDropPValue(90, 100, 75, 100) == Approx(0.004251785739311978).epsilon(1e-9));
  CHECK(FisherDropPValue(50, 100, 60, 100) == Approx(0.9411418375003133).epsilon(1e-9));
  CHECK(FisherDropPValue(3, 5, 0, 5) == Approx(1.0 / 12).epsilon(1e-10));
  CHECK(FisherDropPValue(900, 1000, 850, 1000) == Approx(0.00044754376934534465).epsilon(1e-8));
  CHECK(FisherDropPValue(1000, 1000, 900, 1000) == Approx(5.825449826314945e-32).epsilon(1e-6));
  CHECK(FisherDropPValue(0, 10, 0, 10) == Approx(1.0));
  CHECK(FisherDropPValue(10, 10, 10, 10) == Approx(1.0));
  // No episodes on one side: no evidence of a drop.
  CHECK(FisherDropPValue(0, 0, 0, 10) == 1.0);
  CHECK(FisherDropPValue(5, 10, 0, 0) == 1.0);
  CHECK_THROWS_AS(FisherDropPValue(11, 10, 0, 10), Error);
}

TEST_CASE("compare: a big drop regresses, equal and a rise do not", "[compare]") {
  const json base = Results({{"pad", {{"reach", {10, 10}}, {"push", {5, 10}}, {"stack", {2, 10}}}}});
  // reach 10/10 -> 3/10: p = 0.0015 alone, 0.0062 after Holm over the 4 rows.
  const json now = Results({{"pad", {{"reach", {3, 10}}, {"push", {5, 10}}, {"stack", {8, 10}}}}});
  const CompareResult r = Compare(base, now);
  REQUIRE(r.rows.size() == 3);
  // Rows are sorted by policy then task.
  CHECK(r.rows[0].task == "push");
  CHECK_FALSE(r.rows[0].significant);
  CHECK(r.rows[0].p_value == Approx(0.6718591006516703));
  CHECK(r.rows[1].task == "reach");
  CHECK(r.rows[1].significant);
  CHECK(r.rows[1].base_rate == 1.0);
  CHECK(r.rows[1].new_rate == 0.3);
  CHECK(r.rows[1].p_holm == Approx(4 * r.rows[1].p_value));
  CHECK(r.rows[2].task == "stack");
  CHECK_FALSE(r.rows[2].significant);
  CHECK(r.rows[2].p_value > 0.9);
  REQUIRE(r.overall.size() == 1);
  CHECK(r.overall[0].task == kAllTasks);
  CHECK(r.overall[0].base_successes == 17);
  CHECK(r.overall[0].new_successes == 16);
  CHECK(r.overall[0].base_episodes == 30);
  CHECK_FALSE(r.overall[0].significant);
  CHECK(r.regressed);

  CHECK_FALSE(Compare(base, base).regressed);
  CHECK_FALSE(Compare(now, Results({{"pad", {{"reach", {10, 10}}, {"push", {9, 10}}, {"stack", {8, 10}}}}})).regressed);
}

TEST_CASE("compare: the overall row catches a drop spread over tasks", "[compare]") {
  // Each task drops 5 points (p = 0.196 alone); summed, 1080/1200 -> 1020/1200 gives p = 1.3e-4.
  std::map<std::string, std::pair<int, int>> base_tasks, new_tasks;
  for (int t = 0; t < 12; ++t) {
    base_tasks["task" + std::to_string(t)] = {90, 100};
    new_tasks["task" + std::to_string(t)] = {85, 100};
  }
  const CompareResult r = Compare(Results({{"dp", base_tasks}}), Results({{"dp", new_tasks}}));
  for (const CompareRow& row : r.rows) CHECK_FALSE(row.significant);
  REQUIRE(r.overall.size() == 1);
  CHECK(r.overall[0].p_value == Approx(0.00013050013263145053).epsilon(1e-8));
  CHECK(r.overall[0].significant);
  CHECK(r.regressed);
}

TEST_CASE("compare: alpha decides significance", "[compare]") {
  const json base = Results({{"pad", {{"reach", {10, 10}}}}});
  const json now = Results({{"pad", {{"reach", {5, 10}}}}});  // p = 0.01625
  CompareOptions strict;
  strict.alpha = 0.01;
  CHECK(Compare(base, now).regressed);
  CHECK_FALSE(Compare(base, now, strict).regressed);
}

TEST_CASE("compare: latency ratio trips the verdict", "[compare]") {
  const auto tasks = std::map<std::string, std::map<std::string, std::pair<int, int>>>{
      {"pad", {{"reach", {9, 10}}}}, {"dp", {{"reach", {9, 10}}}}};
  const CompareResult r = Compare(Results(tasks, {{"pad", 10.0}, {"dp", 4.0}}),
                                  Results(tasks, {{"pad", 16.0}, {"dp", 5.0}}));
  REQUIRE(r.latency.size() == 2);
  CHECK(r.latency[0].policy == "dp");
  CHECK(r.latency[0].available);
  CHECK(r.latency[0].ratio == Approx(1.25));
  CHECK_FALSE(r.latency[0].exceeded);
  CHECK(r.latency[1].policy == "pad");
  CHECK(r.latency[1].ratio == Approx(1.6));
  CHECK(r.latency[1].exceeded);
  CHECK(r.regressed);
  const std::string text = FormatCompare(r);
  CHECK_THAT(text, Contains("pad latency p50 x1.60"));
  CHECK_THAT(text, Contains("SLOWER"));

  CompareOptions lenient;
  lenient.latency_ratio = 2.0;
  CHECK_FALSE(Compare(Results(tasks, {{"pad", 10.0}}), Results(tasks, {{"pad", 16.0}}), lenient).regressed);
  // Missing timings on one side are not compared and do not fail.
  const CompareResult missing = Compare(Results(tasks, {{"pad", 10.0}}), Results(tasks));
  CHECK_FALSE(missing.latency[1].available);
  CHECK_FALSE(missing.regressed);
}

TEST_CASE("compare: entries in only one run are reported, not failures", "[compare]") {
  const json base = Results({{"pad", {{"reach", {9, 10}}, {"push", {9, 10}}}}, {"gr1", {{"reach", {9, 10}}}}});
  const json now = Results({{"pad", {{"reach", {9, 10}}, {"stack", {0, 10}}}}, {"susie", {{"reach", {0, 10}}}}});
  const CompareResult r = Compare(base, now);
  REQUIRE(r.rows.size() == 1);
  CHECK(r.only_in_base == std::vector<std::string>{"gr1", "pad / push"});
  CHECK(r.only_in_new == std::vector<std::string>{"pad / stack", "susie"});
  CHECK_FALSE(r.regressed);
  const std::string text = FormatCompare(r);
  CHECK_THAT(text, Contains("only in base (not compared): gr1, pad / push"));
  CHECK_THAT(text, Contains("only in new (not compared): pad / stack, susie"));
}

TEST_CASE("compare: nothing in common, or nothing compared, is an error rather than no regression", "[compare]") {
  const json pad = Results({{"pad", {{"reach", {9, 10}}}}});
  REQUIRE_THROWS_WITH(Compare(pad, Results({{"dp", {{"reach", {9, 10}}}}})),
                      Contains("share no policy and task") && Contains("only in base: pad; only in new: dp"));
  REQUIRE_THROWS_WITH(Compare(pad, Results({{"pad", {{"push", {9, 10}}}}})), Contains("share no policy and task"));
  REQUIRE_THROWS_WITH(Compare(Results({{"pad", {{"reach", {0, 0}}}}}), pad), Contains("nothing was compared"));
}

// A per_episode list of `episodes` entries of one task, with seeds base_seed + index.
json WithEpisodeSeeds(json doc, const std::string& task, int episodes, uint64_t base_seed) {
  for (int i = 0; i < episodes; ++i) doc["per_episode"].push_back({{"task", task}, {"index", i}, {"seed", base_seed + i}});
  return doc;
}

TEST_CASE("compare: both runs' identities are checked", "[compare]") {
  const json base = Results({{"pad", {{"reach", {9, 10}}}}});
  SECTION("a shard is not a run") {
    json shard = base;
    shard["config"]["shard_index"] = 1;
    shard["config"]["shard_count"] = 2;
    REQUIRE_THROWS_WITH(Compare(base, shard), Contains("the new run is shard 1 of 2") && Contains("padbench merge"));
  }
  SECTION("a (policy, task) short of the run's episode count is an incomplete run") {
    json partial = Results({{"pad", {{"reach", {9, 10}}, {"push", {2, 10}}}}});
    partial["aggregated"]["policies"]["pad"]["tasks"]["push"]["episodes"] = 4;
    REQUIRE_THROWS_WITH(Compare(partial, base), Contains("the base run has 4 of its 10 episodes of pad / push"));
  }
  SECTION("another seed is refused unless an unpaired comparison is asked for") {
    json other = base;
    other["config"]["seed"] = 7;
    REQUIRE_THROWS_WITH(Compare(base, other), Contains("different seeds (base 0, new 7)") &&
                                                  Contains("--different-episodes"));
    CompareOptions unpaired;
    unpaired.allow_different_episodes = true;
    const CompareResult r = Compare(base, other, unpaired);
    CHECK(r.new_run.seed == 7);
    CHECK_THAT(FormatCompare(r), Contains("new: seed 7, 10 episodes per task") && Contains("unpaired"));
  }
  SECTION("the same seed with other episode seeds (a changed derivation) is refused") {
    const json a = WithEpisodeSeeds(base, "reach", 10, 100);
    CHECK_NOTHROW(Compare(a, WithEpisodeSeeds(base, "reach", 10, 100)));
    REQUIRE_THROWS_WITH(Compare(a, WithEpisodeSeeds(base, "reach", 10, 200)),
                        Contains("episode reach #0 has seed 100 in the base run and 200 in the new one"));
  }
  SECTION("runs at other control periods are different tasks") {
    json a = base, b = base;
    a["aggregated"]["control_period_ms"] = 50.0;
    b["aggregated"]["control_period_ms"] = 40.0;
    REQUIRE_THROWS_WITH(Compare(a, b), Contains("different control periods"));
  }
  SECTION("who made each run is shown") {
    json a = base;
    a["metadata"] = {{"git_revision", "1c161af32eb8ef95964a7f4e5981363a2edecedd"}, {"git_dirty", true},
                     {"date_utc", "2026-12-01T10:28:49Z"}};
    CHECK_THAT(FormatCompare(Compare(a, base)),
               Contains("base: seed 0, 10 episodes per task, revision 1c161af32e+dirty, 2026-12-01T10:28:49Z") &&
                   Contains("new: seed 0, 10 episodes per task\n"));
  }
  SECTION("a document without config is named") {
    json bare = base;
    bare.erase("config");
    REQUIRE_THROWS_WITH(Compare(base, bare), Contains("new run has no 'config'"));
  }
}

TEST_CASE("compare: Holm-Bonferroni keeps many unchanged tasks from failing by chance", "[compare]") {
  // 50 tasks; one drops 10/10 -> 6/10 (p = 0.0433 alone, significant per task), the rest equal.
  std::map<std::string, std::pair<int, int>> base_tasks, new_tasks;
  for (int t = 0; t < 50; ++t) base_tasks["task" + std::to_string(t)] = new_tasks["task" + std::to_string(t)] = {8, 10};
  base_tasks["task0"] = {10, 10};
  new_tasks["task0"] = {6, 10};
  const CompareResult r = Compare(Results({{"dp", base_tasks}}), Results({{"dp", new_tasks}}));
  const auto row = std::find_if(r.rows.begin(), r.rows.end(), [](const CompareRow& x) { return x.task == "task0"; });
  CHECK(row->p_value < 0.05);
  CHECK(row->p_holm == Approx(std::min(1.0, 51 * row->p_value)));
  CHECK_FALSE(row->significant);
  CHECK_FALSE(r.regressed);
}

TEST_CASE("compare: FormatCompare names the test and each failing row", "[compare]") {
  const json base = Results({{"pad", {{"reach", {10, 10}}, {"push", {9, 10}}}}});
  const json now = Results({{"pad", {{"reach", {5, 10}}, {"push", {9, 10}}}}});
  const std::string text = FormatCompare(Compare(base, now));
  CHECK_THAT(text, Contains("| policy | task | base | new | delta | p (drop) | Holm p | verdict |"));
  // Three rows (reach, push, all): reach's p = 0.0163 is the smallest, x3 = 0.0488 < 0.05.
  CHECK_THAT(text, Contains("| pad | reach | 10/10 100.0% | 5/10 50.0% | -50.0 pp | 0.0163 | 0.0488 | REGRESSED |"));
  CHECK_THAT(text, Contains("| pad | push | 9/10 90.0% | 9/10 90.0% | +0.0 pp |"));
  CHECK_THAT(text, Contains("| pad | **all** | 19/20 95.0% | 14/20 70.0% |"));
  CHECK_THAT(text, Contains("one-sided Fisher exact test, alpha=0.05"));
  CHECK_THAT(text, Contains("verdict: REGRESSED"));
  CHECK_THAT(text, Contains("pad / reach (p=0.0163, Holm 0.0488)"));
  const std::string fine = FormatCompare(Compare(base, base));
  CHECK_THAT(fine, Contains("verdict: no regression (one-sided Fisher exact test, alpha=0.05"));
}

TEST_CASE("compare: malformed results name the field", "[compare]") {
  const json good = Results({{"pad", {{"reach", {1, 2}}}}});
  CHECK_THROWS_WITH(Compare(json::object(), good), Contains("base run has no 'aggregated'"));
  json bad = good;
  bad["aggregated"]["policies"]["pad"]["tasks"]["reach"].erase("episodes");
  CHECK_THROWS_WITH(Compare(good, bad), Contains("new run policy 'pad' task 'reach' has no 'episodes'"));
  bad = good;
  bad["aggregated"]["policies"]["pad"]["tasks"]["reach"]["successes"] = 3;
  CHECK_THROWS_AS(Compare(good, bad), Error);
  bad = good;
  bad["aggregated"]["policies"]["pad"]["tasks"]["reach"]["episodes"] = 2.5;
  CHECK_THROWS_AS(Compare(good, bad), Error);
}

}  // namespace
}  // namespace padbench
