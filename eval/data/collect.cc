#include "eval/data/collect.h"

#include <chrono>
#include <filesystem>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "eval/report/progress.h"
#include "sim/dataset.h"
#include "sim/error.h"

namespace padbench {

std::string CollectEnvArgs(const CollectConfig& config) {
  nlohmann::json tasks = nlohmann::json::array();
  for (const auto& task : config.tasks) tasks.push_back(task->Name());
  const EnvConfig& env = config.env.env;
  nlohmann::json args = {
      {"env_name", "padbench"},
      {"type", "padbench"},
      {"env_kwargs",
       {{"tasks", tasks},
        {"cameras", config.env.cameras},
        {"image_size", config.env.image_size},
        {"depth", config.env.depth},
        {"frame_skip", env.frame_skip},
        {"action_scale", env.action_scale},
        {"seed", config.seed},
        {"expert_noise", config.noise},
        {"video_only", config.video_only},
        {"sample_instruction", config.env.sample_instruction}}}};
  return args.dump();
}

CollectSummary Collect(const CollectConfig& config, bool progress) {
  if (config.tasks.empty()) throw Error("collect: no tasks");
  if (config.episodes < 1) throw Error(fmt::format("collect: --episodes must be >= 1, got {}", config.episodes));
  if (std::filesystem::is_directory(config.out)) {
    throw Error(fmt::format("collect: --out {} is a folder; give the .hdf5 file to write", config.out));
  }
  if (const auto parent = std::filesystem::path(config.out).parent_path(); !parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) throw Error(fmt::format("collect: cannot create the folder of --out {}: {}", config.out, ec.message()));
  }
  const auto start = std::chrono::steady_clock::now();
  auto renderer = Renderer::Create({config.gl});
  // Every task environment first: bad cameras or sizes fail before a file is touched.
  std::vector<std::unique_ptr<TaskEnv>> envs;
  for (const auto& task : config.tasks) envs.push_back(TaskEnv::Create(task, config.env, renderer.get()));
  // Written under a temporary name and renamed when complete, so an interrupted
  // run never leaves a file that looks finished.
  const std::string partial = config.out + ".partial";
  auto writer = DatasetWriter::Create(partial, CollectEnvArgs(config));
  CollectSummary summary;
  std::optional<ProgressBar> bar;
  if (progress) bar.emplace(int64_t(config.tasks.size()) * config.episodes, "collect");

  for (auto& env : envs) {
    const std::string name(env->task().Name());
    int written = 0, attempts = 0;
    while (written < config.episodes) {
      if (attempts >= config.episodes * config.max_attempts_per_episode) {
        throw Error(fmt::format("collect: the expert of {} succeeded in only {} of {} attempts", name, written,
                                attempts));
      }
      EpisodeData ep;
      ep.task = name;
      ep.seed = EpisodeSeed(config.seed, name, uint64_t(attempts));
      ep.image_height = ep.image_width = config.env.image_size;
      const ExpertEpisode result =
          RunExpertEpisode(*env, ep.seed, config.noise, [&](const Observation& obs, const Action& action) {
            for (const auto& [camera, image] : obs.rgb) {
              auto& dst = ep.images[camera];
              dst.insert(dst.end(), image.pixels.begin(), image.pixels.end());
            }
            for (const auto& [camera, depth] : obs.depth) {
              auto& dst = ep.depths[camera];
              dst.insert(dst.end(), depth.metres.begin(), depth.metres.end());
            }
            ep.ee_pos.insert(ep.ee_pos.end(), obs.ee_pos.begin(), obs.ee_pos.end());
            ep.gripper.push_back(obs.gripper);
            if (!config.video_only) ep.actions.insert(ep.actions.end(), action.begin(), action.end());
            ep.rewards.push_back(0);
            ep.dones.push_back(0);
          });
      ++attempts;
      if (!result.success && !config.keep_failures) continue;
      ep.instruction = env->instruction();
      ep.length = int(ep.gripper.size());
      ep.rewards.back() = result.success ? 1.0f : 0.0f;  // sparse: 1 on the step that reaches success
      ep.dones.back() = 1;
      writer->Append(ep);
      ++written;
      summary.frames += ep.length;
      if (bar) bar->Update(summary.episodes + written, fmt::format("{} {}/{}", name, written, attempts));
    }
    summary.episodes += written;
    summary.attempts += attempts;
    summary.per_task[name] = {written, attempts};
  }
  writer->Close();
  std::error_code ec;
  std::filesystem::rename(partial, config.out, ec);
  if (ec) throw Error(fmt::format("collect: cannot rename {} to {}: {}", partial, config.out, ec.message()));
  if (bar) bar->Finish();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace padbench
