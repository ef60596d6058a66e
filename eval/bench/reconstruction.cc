#include "eval/bench/reconstruction.h"

#include <cmath>

#include <fmt/format.h>

#include "eval/metrics/image_quality.h"
#include "sim/error.h"
#include "sim/json_file.h"
#include "sim/renderer.h"
#include "sim/rng.h"
#include "tasks/task_env.h"

namespace padbench {

ReconstructionQuality ScoreReconstructions(const train::Reconstructions& r, const std::vector<Image>& masks) {
  ReconstructionQuality q;
  q.frames = int(r.real.size());
  for (int i = 0; i < q.frames; ++i) {
    q.psnr_db += Psnr(r.real[i], r.reconstructed[i]) / q.frames;
    q.ssim += Ssim(r.real[i], r.reconstructed[i]) / q.frames;
    if (masks.empty()) continue;
    if (const double m = MaskedPsnr(r.real[i], r.reconstructed[i], masks[i]); std::isfinite(m)) {
      q.masked_psnr_db += m;
      ++q.masked_frames;
    }
  }
  if (q.masked_frames) q.masked_psnr_db /= q.masked_frames;
  return q;
}

ReconstructionQuality MeasureReconstruction(const ReconstructionConfig& config) {
  if (config.tasks.empty() || config.episodes < 1 || config.every < 1) {
    throw Error("reconstruction: needs a task, episodes >= 1 and every >= 1");
  }
  const nlohmann::json ae = ReadJsonFile(config.autoencoder + "/config.json").at("config");
  const std::string camera = ae.at("camera");
  TaskEnvConfig env_config;
  env_config.cameras = {camera};
  env_config.image_size = ae.at("image_size");
  auto renderer = Renderer::Create({config.gl});
  std::vector<Image> frames, masks;
  for (const auto& task : config.tasks) {
    auto env = TaskEnv::Create(task, env_config, renderer.get());
    for (int i = 0; i < config.episodes; ++i) {
      int step = 0;
      RunExpertEpisode(*env, EpisodeSeed(config.seed, task->Name(), uint64_t(i)), 0.0,
                       [&](const Observation& obs, const Action&) {
                         if (step++ % config.every) return;
                         frames.push_back(obs.rgb.at(camera));
                         masks.push_back(env->ObjectMask(camera));
                       });
    }
  }
  double seconds = 0;
  ReconstructionQuality q = ScoreReconstructions(train::Reconstruct(config.autoencoder, frames, &seconds), masks);
  q.ms_per_frame = 1e3 * seconds / q.frames;
  return q;
}

}  // namespace padbench
