#include "eval/data/sheet.h"

#include <fmt/format.h>

#include "sim/image_io.h"
#include "sim/renderer.h"
#include "tasks/task_env.h"

namespace padbench {
namespace {

Image Upscale(const Image& img, int scale) {
  Image out(img.height * scale, img.width * scale, 3);
  for (int r = 0; r < out.height; ++r)
    for (int c = 0; c < out.width; ++c)
      for (int k = 0; k < 3; ++k)
        out.pixels[(size_t(r) * out.width + c) * 3 + k] = img.pixels[(size_t(r / scale) * img.width + c / scale) * 3 + k];
  return out;
}

}  // namespace

Image MakeContactSheet(const SheetConfig& config) {
  auto renderer = Renderer::Create({config.gl});
  TaskEnvConfig env_config;
  env_config.cameras = {config.camera};
  env_config.image_size = config.image_size;
  std::vector<Image> tiles;
  for (const auto& task : config.tasks) {
    auto env = TaskEnv::Create(task, env_config, renderer.get());
    std::vector<Image> frames;
    const ExpertEpisode ep = RunExpertEpisode(*env, EpisodeSeed(config.seed, task->Name(), 0), 0.0,
                                              [&](const Observation& obs, const Action&) {
                                                frames.push_back(obs.rgb.at(config.camera));
                                              });
    const Image first = Upscale(frames.front(), config.scale);
    const Image mid = Upscale(frames[frames.size() / 2], config.scale);
    Image a = first, b = mid;
    Label(a, std::string(task->Name()), 1, 1);
    Label(b, fmt::format("step {}/{}{}", frames.size() / 2, ep.steps, ep.success ? "" : " FAIL"), 1, 1);
    tiles.push_back(std::move(a));
    tiles.push_back(std::move(b));
  }
  return Tile(tiles, 2 * config.tasks_per_row, 3);
}

}  // namespace padbench
