#include "tasks/task_env.h"

#include <algorithm>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "sim/assets.h"
#include "sim/error.h"

namespace padbench {

ModelPtr LoadTaskModel(const Task& task) {
  static std::mutex mutex;
  static std::map<std::string, ModelPtr> cache;
  std::lock_guard<std::mutex> lock(mutex);
  ModelPtr& model = cache[std::string(task.Name())];
  if (!model) model = LoadModel(AssetPath(task.ModelFile()));
  return model;
}

std::unique_ptr<TaskEnv> TaskEnv::Create(std::shared_ptr<const Task> task, const TaskEnvConfig& config,
                                         Renderer* renderer) {
  if (!task) throw Error("TaskEnv::Create: null task");
  if (config.image_size < 8 || config.image_size > 2048) {
    throw Error(fmt::format("image size must be in [8, 2048], got {}", config.image_size));
  }
  return std::unique_ptr<TaskEnv>(new TaskEnv(std::move(task), config, renderer));
}

TaskEnv::TaskEnv(std::shared_ptr<const Task> task, const TaskEnvConfig& config, Renderer* renderer)
    : task_(std::move(task)), config_(config), renderer_(renderer) {
  env_ = Env::Create(LoadTaskModel(*task_), config_.env);
  for (const std::string& camera : config_.cameras) env_->CameraId(camera);  // throws on unknown names
}

Observation TaskEnv::Reset(uint64_t seed) {
  seed_ = seed;
  rng_ = Rng(seed);
  env_->Reset();
  task_->Reset(*env_, rng_);
  env_->Settle();
  const auto& instructions = task_->info().instructions;
  instruction_ = config_.sample_instruction ? instructions[rng_.Index(instructions.size())] : instructions[0];
  return Observe();
}

StepResult TaskEnv::Step(const Action& action) { return env_->Step(action); }

Observation TaskEnv::Observe() {
  Observation obs;
  if (renderer_) {
    for (const std::string& camera : config_.cameras) {
      DepthImage* depth = config_.depth ? &obs.depth[camera] : nullptr;
      renderer_->Render(*env_, camera, config_.image_size, config_.image_size, &obs.rgb[camera], depth);
    }
  }
  const auto ee = env_->EePos();
  obs.ee_pos = {float(ee[0]), float(ee[1]), float(ee[2])};
  obs.gripper = float(env_->GripperOpening());
  obs.instruction = instruction_;
  obs.step = env_->steps();
  return obs;
}

Image TaskEnv::ObjectMask(const std::string& camera) {
  PADBENCH_CHECK(renderer_ != nullptr, "ObjectMask needs a renderer");
  const mjModel& m = env_->model();
  if (movable_geoms_.empty()) {
    movable_geoms_.assign(size_t(m.ngeom), false);
    for (int g = 0; g < m.ngeom; ++g) {
      for (int b = m.geom_bodyid[g]; b > 0; b = m.body_parentid[b]) {
        if (m.body_jntnum[b] > 0) {
          movable_geoms_[g] = true;
          break;
        }
      }
    }
  }
  std::vector<int> ids;
  renderer_->RenderGeomIds(*env_, camera, config_.image_size, config_.image_size, &ids);
  Image mask(config_.image_size, config_.image_size, 1);
  for (size_t i = 0; i < ids.size(); ++i) mask.pixels[i] = ids[i] >= 0 && movable_geoms_[ids[i]] ? 255 : 0;
  return mask;
}

Action AddNoise(const Action& action, double sigma, Rng& rng) {
  if (sigma <= 0) return action;
  Action noisy;
  for (int i = 0; i < kActionDim; ++i) noisy[i] = float(std::clamp(action[i] + sigma * rng.Normal(), -1.0, 1.0));
  return noisy;
}

}  // namespace padbench

namespace padbench {

ExpertEpisode RunExpertEpisode(TaskEnv& env, uint64_t seed, double noise,
                               const std::function<void(const Observation&, const Action&)>& on_step) {
  ExpertEpisode result;
  Observation obs = env.Reset(seed);
  auto expert = env.task().MakeExpert(env.env());
  const int max_steps = env.task().MaxSteps();
  while (result.steps < max_steps) {
    const Action action = AddNoise(expert->Act(env.env()), noise, env.rng());
    if (on_step) on_step(obs, action);
    const StepResult step = env.Step(action);
    ++result.steps;
    if (step.status == StepStatus::kDiverged) {
      result.diverged = true;
      result.failure = step.message;
      return result;
    }
    if (env.Success()) {
      result.success = true;
      return result;
    }
    if (on_step) obs = env.Observe();
  }
  result.failure = "timeout";
  return result;
}

}  // namespace padbench
