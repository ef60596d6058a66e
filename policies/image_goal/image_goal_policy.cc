// The image-goal family (spec `image_goal=<checkpoint dir>`, variants susie and unipi) and its
// diagnosis mode `image_goal_oracle=<checkpoint dir>`: the same low level, given the frames the
// scripted expert reaches from the current state instead of the high level's.
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "policies/family.h"
#include "policies/image_goal/ensemble.h"
#include "policies/image_goal/model.h"
#include "policies/learned.h"
#include "policies/nn/io.h"
#include "sim/assets.h"
#include "sim/error.h"
#include "sim/renderer.h"
#include "sim/rng.h"
#include "tasks/task.h"

namespace padbench {
namespace {

using image_goal::Variant;
constexpr std::string_view kOracleName = "image_goal_oracle";

// Renders the frames the task's expert reaches from the current state: the real future frames
// a perfect high level would draw. The expert shadows the episode (it sees every state, so its
// phase follows the task) and a copy of it, as it was before seeing the current state, rolls
// forward on a copy of the simulator state: from the episode's start that is exactly the
// noise-free expert episode.
class OracleFrames {
 public:
  void Reset(const EpisodeInfo& episode) {
    if (!episode.env || !episode.task_def) {
      throw Error("image_goal_oracle needs the simulator state, which only padbench's own rollouts provide");
    }
    env_ = episode.env;
    expert_ = episode.task_def->MakeExpert(*env_);
    if (!copy_ || copy_->model_ptr() != env_->model_ptr()) copy_ = Env::Create(env_->model_ptr(), env_->config());
  }
  // Each new state: keeps the shadow expert's phase with the episode.
  void Observe() {
    before_ = expert_->Clone();
    expert_->Act(*env_);
  }

  // The frames `offsets` (ascending) steps ahead, uint8 [K,3,size,size].
  torch::Tensor Render(const std::vector<int>& offsets, const std::string& camera, int size) {
    PADBENCH_CHECK(before_ != nullptr, "Render before the first observation");
    if (!renderer_) renderer_ = Renderer::Create();
    copy_->SetState(env_->State());
    auto expert = before_->Clone();
    std::vector<torch::Tensor> frames;
    Image rgb;
    int step = 0;
    for (int offset : offsets) {
      for (; step < offset && !copy_->diverged(); ++step) copy_->Step(expert->Act(*copy_));
      renderer_->Render(*copy_, camera, size, size, &rgb);
      frames.push_back(torch::from_blob(rgb.data(), {size, size, 3}, torch::kUInt8).permute({2, 0, 1}).clone());
    }
    return torch::stack(frames);
  }

 private:
  const Env* env_ = nullptr;
  std::unique_ptr<Expert> expert_, before_;
  std::unique_ptr<Env> copy_;
  std::unique_ptr<Renderer> renderer_;
};

class ImageGoalPolicy final : public Policy {
 public:
  ImageGoalPolicy(image_goal::Model model, bool oracle)
      : model_(std::move(model)),
        oracle_(oracle),
        window_(config().kind() == Variant::kSusie ? model_->low()->config().obs_horizon : 1),
        ensemble_(config().ensemble_decay) {
    model_->eval();
  }

  std::string_view Name() const override { return oracle_ ? kOracleName : image_goal::kName; }
  PolicyInputs Inputs() const override {
    PolicyInputs in;
    in.cameras = {camera()};
    in.image_size = size();
    return in;
  }
  void Reset(const EpisodeInfo& episode) override {
    instruction_ = episode.instruction;
    generator_ = at::detail::createCPUGenerator(Mix64(episode.seed ^ HashName(image_goal::kName)));
    window_.Clear();
    ensemble_.Clear();
    step_ = -1;
    plan_step_ = -1;
    if (oracle_) oracle_frames_.Reset(episode);
  }
  void Observe(const Observation& obs) override {
    window_.Push(obs);
    ++step_;
    if (oracle_) oracle_frames_.Observe();
  }
  void SetDenoiseCallback(DenoiseCallback callback) override { callback_ = std::move(callback); }

  PolicyOutput Act(const Observation& obs) override {
    window_.Ensure(obs);
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const image_goal::Config& c = config();
    torch::NoGradGuard no_grad;
    PolicyOutput out;
    if (plan_step_ < 0 || step_ - plan_step_ >= c.replan_every) {
      Plan(out);
      out.timings_ms["plan"] = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    }
    const int since = step_ - plan_step_;
    const auto window = window_.ToTensors(camera(), size(), image_goal::kName);
    if (c.kind() == Variant::kSusie) {
      const dp::Config& low = model_->low()->config();
      const auto cond = model_->low()->Condition(window.images, window.proprio, {instruction_}, nullptr, goals_);
      std::function<void(int, const torch::Tensor&)> on_step;
      if (callback_ && out.predicted.empty()) {
        on_step = [&](int step, const torch::Tensor& x0) {
          callback_({step, low.ddim_steps, nn::ToActions(x0[0], 0, low.pred_horizon), {}});
        };
      }
      const auto chunk = nn::ToActions(model_->low()->Sample(cond, generator_, on_step)[0], low.obs_horizon - 1,
                                       low.action_horizon);
      if (c.execution == "ensemble") {
        ensemble_.Add(step_, chunk);
        out.actions = {ensemble_.At(step_)};
      } else {
        // The chunk, cut where the next goal is due.
        out.actions.assign(chunk.begin(), chunk.begin() + std::min<int>(low.action_horizon, c.replan_every - since));
      }
    } else {
      // The inverse dynamics towards the next plan frame, for the steps until it is due.
      const int j = since / c.frame_interval;
      const auto actions = model_->InverseActions(window.images.select(1, -1), goals_.slice(0, j, j + 1),
                                                  window.proprio.select(1, -1));
      out.actions = nn::ToActions(actions[0], 0, c.frame_interval - since % c.frame_interval);
    }
    out.timings_ms["total"] = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    return out;
  }

 private:
  const image_goal::Config& config() const { return model_->config(); }
  std::string camera() const { return config().autoencoder_config.camera; }
  int size() const { return config().autoencoder_config.image_size; }

  // A new goal (susie) or plan (unipi) from the current frame, returned as predictions.
  void Plan(PolicyOutput& out) {
    plan_step_ = step_;
    const image_goal::Config& c = config();
    const auto offsets = c.target_offsets();
    const auto current = window_.ToTensors(camera(), size(), image_goal::kName).images.select(1, -1);
    torch::Tensor frames;  // uint8 [K,3,H,W]
    if (oracle_) {
      frames = oracle_frames_.Render(offsets, camera(), size());
      goals_ = model_->LowLevelGoal(frames);
    } else {
      std::function<void(int, const torch::Tensor&)> on_step;
      if (callback_) {
        on_step = [&](int step, const torch::Tensor& x0) {
          callback_({step, c.ddim_steps, {}, ToFrames(x0[0], offsets)});
        };
      }
      const auto sampled = model_->SampleTargets(current, {instruction_}, generator_, on_step)[0];
      frames = image_goal::ToUint8Chw(sampled);
      goals_ = frames;  // already decoded, as the low level trained on
    }
    out.predicted = ToFrames(frames, offsets);
  }

  // Frames [K,3,H,W] (uint8, or float in [-1, 1]) -> predictions at `offsets`.
  std::vector<PredictedFrame> ToFrames(const torch::Tensor& frames, const std::vector<int>& offsets) const {
    const auto pixels = frames.dtype() == torch::kUInt8 ? frames : image_goal::ToUint8Chw(frames);
    return nn::ToPredictedFrames(pixels.permute({0, 2, 3, 1}), offsets,
                                 config().kind() == Variant::kSusie ? PredictionKind::kGoal : PredictionKind::kFuture);
  }

  image_goal::Model model_;
  bool oracle_;
  nn::ObservationWindow window_;
  image_goal::TemporalEnsemble ensemble_;
  OracleFrames oracle_frames_;
  std::string instruction_;
  at::Generator generator_ = at::detail::createCPUGenerator(0);
  int step_ = -1;       // the newest observation's control step
  int plan_step_ = -1;  // the step the current goal (plan) was made at
  torch::Tensor goals_;  // what the low level aims at: uint8 [K,3,H,W]
  DenoiseCallback callback_;
};

// Loads another image_goal checkpoint to take a frozen level from, checking it fits `config`.
image_goal::Model LevelSource(const std::string& dir, const image_goal::Config& config) {
  image_goal::Model source = LoadCheckpoint(dir, image_goal::kName, image_goal::ModelFromCheckpoint);
  const image_goal::Config& s = source->config();
  if (s.variant != config.variant || s.target_offsets() != config.target_offsets() ||
      s.autoencoder_config.ToJson() != config.autoencoder_config.ToJson()) {
    throw Error(fmt::format("image_goal: {} is a {} checkpoint with other targets or another autoencoder; a level "
                            "taken from it would not fit this {} model",
                            dir, s.variant, config.variant));
  }
  return source;
}

void CopyParameters(const torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  const auto source = from.named_parameters();
  for (auto& p : to.named_parameters()) p.value().copy_(source[p.key()]);
}

std::unique_ptr<train::Trainable> MakeImageGoal(const nlohmann::json& overrides, const train::DemoData& data) {
  image_goal::Config config = image_goal::Config::FromJson(overrides);
  if (config.autoencoder.empty()) config.autoencoder = AssetDir() + "/checkpoints/autoencoder";
  nn::Autoencoder autoencoder = nn::LoadAutoencoder(config.autoencoder);
  config.autoencoder_config = autoencoder->config();
  train::CheckImageSize(data, config.autoencoder_config.image_size);
  config.latent_scale = 1.0 / train::SampleLatents(*autoencoder, data).std().item<double>();
  std::optional<image_goal::Model> high_source, low_source;
  if (!config.high_level_from.empty()) {
    high_source = LevelSource(config.high_level_from, config);
    config.latent_scale = (*high_source)->config().latent_scale;  // the scale its latents were learnt at
  }
  if (!config.low_level_from.empty()) low_source = LevelSource(config.low_level_from, config);
  nn::Vocabulary vocabulary = train::TrainingVocabulary(data);
  nn::Normalizer proprio = nn::Normalizer::Fit(data.AllProprio()), actions = nn::Normalizer::Fit(data.AllActions());
  dp::Model low{nullptr};
  if (config.kind() == Variant::kSusie) {
    if (low_source) {
      low = (*low_source)->low();
    } else {
      // The low level's defaults: SuSIE's one observed frame, short chunks; a U-Net a little
      // narrower than Diffusion Policy's so that both levels fit a 16 MB checkpoint.
      nlohmann::json dp_config = {
          {"obs_horizon", 1}, {"pred_horizon", 8}, {"action_horizon", 4}, {"down_dims", {40, 80, 160}}};
      dp_config.update(config.low_level);
      dp_config["goal_horizon"] = config.goal_horizon;
      dp_config["camera"] = config.autoencoder_config.camera;
      dp_config["image_size"] = config.autoencoder_config.image_size;
      low = dp::Model(dp::Config::FromJson(dp_config), proprio, actions, vocabulary);
    }
  }
  image_goal::Model model(config, std::move(autoencoder), high_source ? (*high_source)->vocabulary() : vocabulary,
                          std::move(low), low_source ? (*low_source)->proprio_norm() : proprio,
                          low_source ? (*low_source)->action_norm() : actions);
  if (high_source) CopyParameters(*(*high_source)->high(), *model->high());
  if (low_source && config.kind() == Variant::kUnipi) CopyParameters(*(*low_source)->inverse(), *model->inverse());
  return train::MakeModelTrainable(std::move(model));
}

}  // namespace

Family ImageGoalFamily() {
  FamilyTrainer trainer;
  trainer.make = MakeImageGoal;
  trainer.from_checkpoint = [](const nlohmann::json& checkpoint) {
    return train::MakeModelTrainable(image_goal::ModelFromCheckpoint(checkpoint));
  };
  trainer.tiny_config = R"({"width": 32, "depth": 1, "heads": 2, "ddim_steps": 2, "text_dim": 8, "goal_horizon": 4,
                            "replan_every": 4, "low_level": {"vision_channels": [8, 16], "vision_keypoints": 8,
                            "vision_dim": 16, "down_dims": [16, 32], "text_dim": 8, "ddim_steps": 2}})";
  Family f;
  f.name = image_goal::kName;
  f.help = "two-stage image-goal policy (susie: goal image + goal-conditioned DP; unipi: video plan + inverse "
           "dynamics) from a checkpoint folder";
  f.takes_path = true;
  f.make = [](const std::string& dir) {
    return std::make_unique<ImageGoalPolicy>(LoadCheckpoint(dir, image_goal::kName, image_goal::ModelFromCheckpoint),
                                             false);
  };
  f.trainer = std::move(trainer);
  return f;
}

Family ImageGoalOracleFamily() {
  Family f;
  f.name = kOracleName;
  f.help = "an image_goal checkpoint's low level given the expert's real future frames as goals (diagnosis)";
  f.takes_path = true;
  f.checkpoint_of = image_goal::kName;
  f.make = [](const std::string& dir) {
    return std::make_unique<ImageGoalPolicy>(LoadCheckpoint(dir, image_goal::kName, image_goal::ModelFromCheckpoint),
                                             true);
  };
  return f;
}

}  // namespace padbench
