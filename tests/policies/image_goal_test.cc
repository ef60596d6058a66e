// The image-goal family: guidance, hindsight goals, temporal ensembling, both variants end to
// end through the training loop, a frozen level taken from another checkpoint, and oracle goals.
// (REQUIRE, not CHECK: LibTorch's headers redefine CHECK.)
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "eval/data/collect.h"
#include "eval/engine/rollout.h"
#include "policies/family.h"
#include "policies/image_goal/ensemble.h"
#include "policies/image_goal/model.h"
#include "policies/nn/layers.h"
#include "policies/registry.h"
#include "policies/train/trainer.h"
#include "sim/dataset.h"
#include "sim/json_file.h"
#include "sim/renderer.h"
#include "tasks/registry.h"
#include "tasks/task_env.h"
#include "tests/policies/tiny_training.h"
#include "tests/test_util.h"

namespace padbench {
namespace {

using Catch::Matchers::Contains;
using json = nlohmann::json;

// 32x32 frames -> 4x4x4 latents, a one-block DiT, a tiny goal-conditioned Diffusion Policy.
const json kTinyDp = {{"vision_channels", {8, 16}}, {"vision_keypoints", 8}, {"vision_dim", 16}, {"down_dims", {16, 32}},
                      {"text_dim", 8},  {"ddim_steps", 2},        {"obs_horizon", 1},    {"pred_horizon", 8},
                      {"action_horizon", 4}, {"goal_horizon", 4}, {"image_size", 32}};

image_goal::Model TinyModel(const std::string& variant) {
  torch::manual_seed(0);
  json c = {{"variant", variant}, {"width", 32}, {"depth", 1}, {"heads", 2}, {"ddim_steps", 3}, {"text_dim", 8},
            {"goal_horizon", 4}, {"plan_frames", 2}, {"frame_interval", 2}, {"replan_every", 4},
            {"inverse_channels", {8, 16}}, {"inverse_keypoints", 8}, {"inverse_dim", 16}, {"inverse_hidden", {32}},
            {"autoencoder_config", {{"channels", {8, 16, 16}}, {"image_size", 32}}}};
  const auto config = image_goal::Config::FromJson(c);
  const nn::Normalizer unit{{-1, -1, -1, -1}, {1, 1, 1, 1}};
  const auto vocabulary = nn::Vocabulary::Build({"reach the ball"});
  dp::Model low{nullptr};
  if (variant == "susie") low = dp::Model(dp::Config::FromJson(kTinyDp), unit, unit, vocabulary);
  image_goal::Model model(config, nn::Autoencoder(config.autoencoder_config), vocabulary, std::move(low), unit, unit);
  // Non-zero everywhere, so the zero-initialised heads pass signals.
  torch::NoGradGuard no_grad;
  for (auto& p : model->parameters()) p.add_(torch::randn_like(p) * 0.1);
  return model;
}

TEST_CASE("image_goal: zero guidance weights reduce to the unguided prediction", "[image_goal]") {
  for (const char* variant : {"susie", "unipi"}) {
    INFO(variant);
    auto model = TinyModel(variant);
    torch::NoGradGuard no_grad;
    const int64_t k = int64_t(model->config().target_offsets().size());
    const auto x = torch::randn({2, 4 * k, 4, 4}), current = torch::randn({2, 4, 4, 4});
    const auto t = torch::tensor({5, 60}), text = model->Text({"reach the ball", "reach the ball"});
    const auto both = model->high()(x, current, t, text);
    // Zero weights: the plain conditional prediction, bit for bit (one pass, nothing mixed in).
    REQUIRE(torch::equal(model->GuidedNoise(x, current, t, text, 0, 0), both));
    // Weights: InstructPix2Pix's combination of the three passes.
    const auto image_only = model->high()(x, current, t, torch::zeros_like(text));
    const auto none = model->high()(x, torch::zeros_like(current), t, torch::zeros_like(text));
    const auto expected = both + 1.5 * (image_only - none) + 2.0 * (both - image_only);
    REQUIRE(torch::allclose(model->GuidedNoise(x, current, t, text, 1.5, 2.0), expected, 1e-5, 1e-5));
    REQUIRE(torch::allclose(model->GuidedNoise(x, current, t, text, 0, 2.0), both + 2.0 * (both - image_only), 1e-5, 1e-5));
    // The conditions matter to this (perturbed) model, so the comparison above can fail.
    REQUIRE_FALSE(torch::allclose(image_only, both, 1e-3, 1e-3));
    REQUIRE_FALSE(torch::allclose(none, image_only, 1e-3, 1e-3));
  }
}

// An episode whose frame t is filled with the value 10 t (its step, readable from any pixel).
std::string StepNumberedData(const std::string& dir, int length) {
  const std::string path = dir + "/steps.hdf5";
  auto writer = DatasetWriter::Create(path, "{}");
  EpisodeData e;
  e.task = "reach";
  e.instruction = "reach the red ball";
  e.length = length;
  e.image_height = e.image_width = 8;
  for (int t = 0; t < length; ++t) {
    e.images["corner"].insert(e.images["corner"].end(), 8 * 8 * 3, uint8_t(10 * t));
    e.ee_pos.insert(e.ee_pos.end(), {0.f, 0.5f, 0.2f});
    e.gripper.push_back(0.01f);
    e.actions.insert(e.actions.end(), {0.f, 0.f, 0.f, 1.f});
  }
  e.rewards.assign(size_t(length), 0.f);
  e.dones.assign(size_t(length), 0);
  writer->Append(e);
  writer->Close();
  return path;
}

TEST_CASE("image_goal: hindsight goal offsets stay within range and within the episode", "[image_goal]") {
  testing::TempPath dir;
  std::filesystem::create_directories(dir.path());
  const int T = 20;
  auto data = train::DemoData::Load({StepNumberedData(dir.str(), T)}, {"corner"}, 0.0, 0);
  train::DataSpec spec;
  spec.goal_min = 2;
  spec.goal_max = 6;
  std::set<int64_t> seen;
  for (const bool cached : {false, true}) {
    INFO("cached latents " << cached);
    if (cached) {
      // A stand-in encoder (the pixel value as the latent); with_images keeps the goal image too.
      data.CacheLatents([](const torch::Tensor& images) { return images.to(torch::kFloat).mean({1, 2, 3}, true); });
      spec.with_images = true;
    }
    Rng rng(5);
    const train::Batch b = data.Sample(400, spec, false, rng);
    REQUIRE(b.goal.defined());
    for (int i = 0; i < b.size(); ++i) {
      const int64_t t = b.images.defined() && !cached ? b.images[i][0][0][0][0].item<int64_t>() / 10
                                                      : std::lround(b.latents[i][0][0][0][0].item<float>() / 10);
      const int64_t g = b.goal_offset[i].item<int64_t>();
      REQUIRE(b.goal[i][0][0][0].item<int64_t>() == 10 * (t + g));  // the frame g steps after t
      REQUIRE(t + g <= T - 1);                                      // within the episode
      REQUIRE(g <= spec.goal_max);
      // At least goal_min ahead, unless the episode ends sooner (then its last frame).
      if (t + spec.goal_min <= T - 1) {
        REQUIRE(g >= spec.goal_min);
      } else {
        REQUIRE(t + g == T - 1);
      }
      if (cached) REQUIRE(b.goal_latents[i][0][0][0].item<float>() == Approx(10.0 * (t + g)));
      seen.insert(g);
    }
  }
  REQUIRE(seen == std::set<int64_t>{2, 3, 4, 5, 6, 1, 0});  // every offset, the short ones at the end
}

TEST_CASE("image_goal: temporal ensembling averages the overlapping predictions", "[image_goal]") {
  auto chunk = [](float v, int n) { return std::vector<Action>(size_t(n), Action{v, -v, 0.f, 1.f}); };
  image_goal::TemporalEnsemble plain(0.0);
  plain.Add(0, chunk(1.f, 4));
  REQUIRE(plain.At(0)[0] == 1.f);
  plain.Add(1, chunk(2.f, 4));
  plain.Add(2, chunk(6.f, 4));
  // Step 2 is covered by all three chunks: their mean.
  REQUIRE(plain.At(2)[0] == Approx(3.0));
  REQUIRE(plain.At(2)[1] == Approx(-3.0));
  REQUIRE(plain.At(2)[3] == Approx(1.0));
  // Step 4: the first chunk (steps 0-3) has ended.
  REQUIRE(plain.At(4)[0] == Approx(4.0));
  // Weighted: exp(-m i), i = 0 the oldest.
  image_goal::TemporalEnsemble weighted(0.5);
  weighted.Add(0, chunk(1.f, 4));
  weighted.Add(1, chunk(2.f, 4));
  weighted.Add(2, chunk(6.f, 4));
  const double w1 = std::exp(-0.5), w2 = std::exp(-1.0);
  REQUIRE(weighted.At(2)[0] == Approx((1 + 2 * w1 + 6 * w2) / (1 + w1 + w2)));
  REQUIRE_THROWS(weighted.At(9));  // nothing covers it
}

using testing::ReachData;

std::string TrainTiny(const std::string& out, const json& overrides) {
  return testing::TrainTiny("image_goal", {ReachData()}, out, overrides);
}

class Recorder : public RolloutObserver {
 public:
  void OnAct(const Observation&, const PolicyOutput& output, double) override {
    chunks.push_back(output.actions);
    predicted.push_back(output.predicted);
  }
  std::vector<std::vector<Action>> chunks;
  std::vector<std::vector<PredictedFrame>> predicted;
};

Recorder RunReach(const std::string& spec, Renderer& renderer, uint64_t seed = 11) {
  auto policy = MakePolicy(spec);
  auto env = MakeTaskEnv(FindTask("reach"), *policy, &renderer);
  Recorder recorder;
  const EpisodeRecord rec = RunEpisode(*env, *policy, {spec, 0, seed, {}}, false, {&recorder});
  REQUIRE(rec.failure != "policy_error");
  return recorder;
}

TEST_CASE("image_goal: both variants train, predict their kind of frames and round-trip their checkpoints",
          "[image_goal][slow]") {
  auto renderer = Renderer::Create();
  testing::TempPath scratch;
  for (const char* variant : {"susie", "unipi"}) {
    for (const char* execution : {"chunk", "ensemble"}) {
      if (std::string(variant) == "unipi" && std::string(execution) == "ensemble") continue;
      DYNAMIC_SECTION(variant << " " << execution) {
        const std::string dir = TrainTiny(scratch.str() + "/" + variant + execution,
                                          {{"variant", variant}, {"execution", execution}, {"plan_frames", 2},
                                           {"frame_interval", 2}});
        const json config = ReadJsonFile(dir + "/config.json");
        const auto& c = config.at("config");
        const std::string spec = "image_goal=" + dir;
        const Recorder a = RunReach(spec, *renderer), b = RunReach(spec, *renderer);
        // Identical actions and goal images from two loads of the checkpoint.
        REQUIRE((a.chunks == b.chunks));
        REQUIRE(a.predicted.size() == b.predicted.size());
        int plans = 0;
        for (size_t i = 0; i < a.predicted.size(); ++i) {
          REQUIRE(a.predicted[i].size() == b.predicted[i].size());
          for (size_t k = 0; k < a.predicted[i].size(); ++k) REQUIRE(a.predicted[i][k].rgb.pixels == b.predicted[i][k].rgb.pixels);
          if (a.predicted[i].empty()) continue;
          ++plans;
          if (std::string(variant) == "susie") {
            REQUIRE(a.predicted[i].size() == 1);
            REQUIRE(a.predicted[i][0].kind == PredictionKind::kGoal);
            REQUIRE(a.predicted[i][0].horizon == c.at("goal_horizon").get<int>());
          } else {
            REQUIRE(a.predicted[i].size() == 2);
            REQUIRE(a.predicted[i][0].kind == PredictionKind::kFuture);
            REQUIRE(a.predicted[i][0].horizon == 2);
            REQUIRE(a.predicted[i][1].horizon == 4);
          }
        }
        REQUIRE(a.predicted.front().size() > 0);  // the first Act plans
        // A new goal every replan_every (4) steps: Acts between plans cover exactly 4 steps.
        int steps = 0;
        for (size_t i = 0; i < a.chunks.size(); ++i) {
          if (i > 0 && !a.predicted[i].empty()) {
            REQUIRE(steps == 4);
            steps = 0;
          }
          steps += int(a.chunks[i].size());
          if (std::string(execution) == "ensemble") REQUIRE(a.chunks[i].size() == 1);
        }
        REQUIRE(plans >= 2);
      }
    }
  }
}

TEST_CASE("image_goal: a level taken from another checkpoint stays frozen while the other trains",
          "[image_goal][slow]") {
  testing::TempPath scratch;
  const std::string source = TrainTiny(scratch.str() + "/source", json::object());
  const std::string dir = TrainTiny(scratch.str() + "/high", {{"low_level_from", source}});
  const auto load = [](const std::string& d) {
    auto model = image_goal::ModelFromCheckpoint(ReadJsonFile(d + "/config.json"));
    nn::LoadParameters(*model, d + "/model.pt");
    return model;
  };
  auto a = load(source), b = load(dir);
  const auto low_a = a->low()->named_parameters(), low_b = b->low()->named_parameters();
  for (const auto& p : low_a) REQUIRE(torch::equal(p.value(), low_b[p.key()]));
  bool high_changed = false;
  const auto high_b = b->high()->named_parameters();
  for (const auto& p : a->high()->named_parameters()) high_changed |= !torch::equal(p.value(), high_b[p.key()]);
  REQUIRE(high_changed);
  // Only the high level's loss is logged and trained.
  std::ifstream log(dir + "/train_log.csv");
  std::string header;
  std::getline(log, header);
  REQUIRE_THAT(header, Contains("image_mse"));
  REQUIRE_THAT(header, !Contains("action_mse"));
  REQUIRE(ReadJsonFile(dir + "/config.json").at("config").at("low_level_from") == source);
  // A level of another variant does not fit.
  const std::string unipi = TrainTiny(scratch.str() + "/unipi", {{"variant", "unipi"}});
  REQUIRE_THROWS_WITH(TrainTiny(scratch.str() + "/bad", {{"high_level_from", unipi}}), Contains("would not fit"));
}

TEST_CASE("image_goal: the oracle's first goal is the frame the noise-free expert reaches", "[image_goal][slow]") {
  auto renderer = Renderer::Create();
  testing::TempPath scratch;
  const std::string dir = TrainTiny(scratch.str() + "/susie", json::object());
  const int k = ReadJsonFile(dir + "/config.json").at("config").at("goal_horizon").get<int>();
  const Recorder oracle = RunReach("image_goal_oracle=" + dir, *renderer, 21);
  REQUIRE(oracle.predicted.front().size() == 1);
  // The expert's own episode from the same seed, without noise.
  auto env = TaskEnv::Create(FindTask("reach"), {}, renderer.get());
  std::vector<Image> frames;
  RunExpertEpisode(*env, 21, 0.0, [&](const Observation& obs, const Action&) { frames.push_back(obs.rgb.at("corner")); });
  REQUIRE(int(frames.size()) > k);
  REQUIRE(oracle.predicted.front()[0].rgb.pixels == frames[size_t(k)].pixels);
  REQUIRE(oracle.predicted.front()[0].rgb.pixels != frames[0].pixels);  // the scene moved
}

TEST_CASE("image_goal: a goal-conditioned Diffusion Policy needs its goal", "[image_goal]") {
  const nn::Normalizer unit{{-1, -1, -1, -1}, {1, 1, 1, 1}};
  dp::Model low(dp::Config::FromJson(kTinyDp), unit, unit, nn::Vocabulary::Build({"reach the ball"}));
  torch::NoGradGuard no_grad;
  const auto images = torch::randint(0, 256, {2, 1, 3, 32, 32}).to(torch::kUInt8);
  const auto proprio = torch::zeros({2, 1, 4});
  REQUIRE_THROWS(low->Condition(images, proprio, {"a", "b"}, nullptr));
  const auto goal = torch::randint(0, 256, {2, 3, 32, 32}).to(torch::kUInt8);
  const auto with_goal = low->Condition(images, proprio, {"a", "b"}, nullptr, goal);
  const auto other_goal = low->Condition(images, proprio, {"a", "b"}, nullptr, 255 - goal);
  REQUIRE_FALSE(torch::allclose(with_goal, other_goal));  // the goal reaches the condition
  REQUIRE(low->data_spec().goal_max == 4);
  REQUIRE(low->data_spec().goal_min == 0);
}

}  // namespace
}  // namespace padbench
