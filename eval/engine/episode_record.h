// One evaluated episode, as appended to episodes.jsonl and stored in results.json.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace padbench {

struct EpisodeRecord {
  // Identity (deterministic).
  std::string policy;  // the spec as given on the command line
  std::string task;
  std::string group;   // easy / medium / hard
  int index = 0;       // episode index within (policy, task)
  uint64_t seed = 0;
  std::string instruction;
  // Outcome (deterministic for a seed, whatever the worker count).
  bool success = false;
  int steps_to_success = -1;  // control steps until success, -1 if never
  int length = 0;             // control steps taken
  std::string failure;        // "" | "timeout" | "physics_divergence" | "policy_error"
  std::string failure_detail; // the message behind a failure
  int clipped_actions = 0;
  int act_calls = 0;
  // Real-time runs only: control steps the arm held still waiting for an Act's chunk.
  std::optional<int> held_steps;
  // Each registered metric's value by name (eval/metrics/metric.h); metrics that measured
  // nothing are absent. Prediction quality is deterministic; stage timings are not.
  nlohmann::json metrics = nlohmann::json::object();
  // Timing (varies run to run).
  std::vector<double> act_ms;  // wall time of each Act call, in order
  bool warmup = false;         // act_ms[0] was the first call of a fresh policy instance
  double wall_s = 0, policy_s = 0, physics_s = 0, render_s = 0;

  // Key identifying the episode within a run (EpisodeKey).
  std::string Key() const;
};

// The key of episode `index` of (policy, task) within a run.
std::string EpisodeKey(std::string_view policy, std::string_view task, int index);

nlohmann::json EpisodeToJson(const EpisodeRecord& record);
// Throws padbench::Error naming the missing or mistyped field.
EpisodeRecord EpisodeFromJson(const nlohmann::json& json);

}  // namespace padbench
