#include "eval/engine/episode_record.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sim/error.h"

namespace padbench {

std::string EpisodeKey(std::string_view policy, std::string_view task, int index) {
  return fmt::format("{}|{}|{}", policy, task, index);
}

std::string EpisodeRecord::Key() const { return EpisodeKey(policy, task, index); }

nlohmann::json EpisodeToJson(const EpisodeRecord& r) {
  nlohmann::json j = {{"policy", r.policy},
          {"task", r.task},
          {"group", r.group},
          {"index", r.index},
          {"seed", r.seed},
          {"instruction", r.instruction},
          {"success", r.success},
          {"steps_to_success", r.steps_to_success},
          {"length", r.length},
          {"failure", r.failure},
          {"failure_detail", r.failure_detail},
          {"clipped_actions", r.clipped_actions},
          {"act_calls", r.act_calls},
          {"metrics", r.metrics},
          {"act_ms", r.act_ms},
          {"warmup", r.warmup},
          {"wall_s", r.wall_s},
          {"policy_s", r.policy_s},
          {"physics_s", r.physics_s},
          {"render_s", r.render_s}};
  if (r.held_steps) j["held_steps"] = *r.held_steps;
  return j;
}

namespace {

template <typename T>
T Field(const nlohmann::json& j, const char* name) {
  if (!j.is_object() || !j.contains(name)) throw Error(fmt::format("episode record lacks '{}'", name));
  try {
    return j.at(name).get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("episode record field '{}' has the wrong type: {}", name, e.what()));
  }
}

}  // namespace

EpisodeRecord EpisodeFromJson(const nlohmann::json& j) {
  EpisodeRecord r;
  r.policy = Field<std::string>(j, "policy");
  r.task = Field<std::string>(j, "task");
  r.group = Field<std::string>(j, "group");
  r.index = Field<int>(j, "index");
  r.seed = Field<uint64_t>(j, "seed");
  r.instruction = Field<std::string>(j, "instruction");
  r.success = Field<bool>(j, "success");
  r.steps_to_success = Field<int>(j, "steps_to_success");
  r.length = Field<int>(j, "length");
  r.failure = Field<std::string>(j, "failure");
  r.failure_detail = Field<std::string>(j, "failure_detail");
  r.clipped_actions = Field<int>(j, "clipped_actions");
  r.act_calls = Field<int>(j, "act_calls");
  if (j.contains("held_steps")) r.held_steps = Field<int>(j, "held_steps");
  r.metrics = Field<nlohmann::json>(j, "metrics");
  if (!r.metrics.is_object()) throw Error("episode record field 'metrics' must be an object");
  r.act_ms = Field<std::vector<double>>(j, "act_ms");
  r.warmup = Field<bool>(j, "warmup");
  r.wall_s = Field<double>(j, "wall_s");
  r.policy_s = Field<double>(j, "policy_s");
  r.physics_s = Field<double>(j, "physics_s");
  r.render_s = Field<double>(j, "render_s");
  return r;
}

}  // namespace padbench
