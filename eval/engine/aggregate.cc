#include "eval/engine/aggregate.h"

#include <map>
#include <optional>

#include "eval/metrics/image_quality.h"
#include "eval/metrics/metric.h"
#include "eval/report/stats.h"

namespace padbench {
namespace {

using json = nlohmann::json;

// Success counts and lengths of a set of episodes.
struct Tally {
  int episodes = 0, successes = 0;
  int64_t length_sum = 0, success_steps_sum = 0, clipped = 0;
  std::optional<int64_t> held;  // real-time runs: steps the arm held still waiting for a chunk
  std::map<std::string, int> failures;

  void Add(const EpisodeRecord& r) {
    ++episodes;
    successes += r.success;
    length_sum += r.length;
    clipped += r.clipped_actions;
    if (r.success) success_steps_sum += r.steps_to_success;
    if (!r.failure.empty()) ++failures[r.failure];
    if (r.held_steps) held = held.value_or(0) + *r.held_steps;
  }
  json ToJson() const {
    const Interval ci = WilsonInterval(successes, episodes);
    json j = {{"episodes", episodes},
            {"successes", successes},
            {"success_rate", episodes ? double(successes) / episodes : 0.0},
            {"ci95", {ci.low, ci.high}},
            {"mean_length", episodes ? double(length_sum) / episodes : 0.0},
            {"mean_steps_to_success", successes ? double(success_steps_sum) / successes : 0.0},
            {"failures", failures},
            {"clipped_actions", clipped}};
    if (held) j["held_fraction"] = length_sum ? double(*held) / length_sum : 0.0;
    return j;
  }
};

// Every metric's aggregate over `episodes`: {name: aggregate}, metrics with nothing to report left out.
json MetricsJson(const std::vector<const EpisodeRecord*>& episodes) {
  json out = json::object();
  for (const Metric& m : Metrics()) {
    std::vector<const json*> values;
    for (const EpisodeRecord* r : episodes) {
      if (r->metrics.contains(m.name)) values.push_back(&r->metrics.at(std::string(m.name)));
    }
    if (values.empty()) continue;
    json agg = m.aggregate(values);
    if (!agg.is_null()) out[std::string(m.name)] = std::move(agg);
  }
  return out;
}

json LatencyJson(const std::vector<const EpisodeRecord*>& episodes, double control_period_ms) {
  std::vector<double> steady, warmup;
  double act_ms_sum = 0;
  int64_t steps = 0;
  for (const EpisodeRecord* r : episodes) {
    for (size_t i = 0; i < r->act_ms.size(); ++i) {
      (r->warmup && i == 0 ? warmup : steady).push_back(r->act_ms[i]);
      act_ms_sum += r->act_ms[i];
    }
    steps += r->length;
  }
  const LatencyStats s = Summarize(steady), w = Summarize(warmup);
  const double per_step = steps ? act_ms_sum / steps : 0.0;
  return {{"act_calls", s.count},
          {"p50_ms", s.p50},
          {"p95_ms", s.p95},
          {"p99_ms", s.p99},
          {"max_ms", s.max},
          {"mean_ms", s.mean},
          {"warmup_calls", w.count},
          {"warmup_mean_ms", w.mean},
          {"warmup_max_ms", w.max},
          {"per_step_ms", per_step},
          // How many times faster than the control period the policy runs, chunking included.
          {"headroom", per_step > 0 ? control_period_ms / per_step : 0.0}};
}

}  // namespace

json Aggregate(const std::vector<EpisodeRecord>& records, const std::vector<std::string>& policy_order,
               const RunTiming& timing) {
  json policies = json::object();
  for (const std::string& policy : policy_order) {
    Tally overall;
    std::map<std::string, Tally> groups, tasks;
    std::vector<const EpisodeRecord*> mine;
    std::map<std::string, std::vector<const EpisodeRecord*>> by_task;
    std::vector<std::string> task_order;
    std::map<std::string, std::string> task_group;
    for (const EpisodeRecord& r : records) {
      if (r.policy != policy) continue;
      mine.push_back(&r);
      overall.Add(r);
      groups[r.group].Add(r);
      if (!tasks.count(r.task)) task_order.push_back(r.task);
      task_group[r.task] = r.group;
      tasks[r.task].Add(r);
      by_task[r.task].push_back(&r);
    }
    json task_json = json::object(), group_json = json::object(), task_metrics = json::object();
    for (const std::string& t : task_order) {
      task_json[t] = tasks[t].ToJson();
      task_json[t]["group"] = task_group[t];
      json m = MetricsJson(by_task[t]);
      if (!m.empty()) task_metrics[t] = std::move(m);
    }
    for (const auto& [g, tally] : groups) group_json[g] = tally.ToJson();
    policies[policy] = {{"overall", overall.ToJson()},
                        {"groups", group_json},
                        {"tasks", task_json},
                        {"latency", LatencyJson(mine, timing.control_period_ms)},
                        {"metrics", MetricsJson(mine)},
                        {"task_metrics", task_metrics}};
  }
  const double minutes = timing.wall_s / 60.0;
  return {{"policies", policies},
          {"control_period_ms", timing.control_period_ms},
          {"throughput",
           {{"wall_s", timing.wall_s},
            {"episodes_run", timing.episodes_run},
            {"env_steps_run", timing.env_steps_run},
            {"episodes_per_min", minutes > 0 ? timing.episodes_run / minutes : 0.0},
            {"env_steps_per_s", timing.wall_s > 0 ? timing.env_steps_run / timing.wall_s : 0.0}}}};
}

}  // namespace padbench
