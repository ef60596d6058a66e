// Diffusion Policy and the shared training loop, on a tiny dataset made by the test.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "eval/data/collect.h"
#include "policies/diffusion_policy/model.h"
#include "policies/nn/layers.h"
#include "policies/registry.h"
#include "policies/train/trainable.h"
#include "policies/train/trainer.h"
#include "sim/dataset.h"
#include "sim/error.h"
#include "sim/renderer.h"
#include "sim/rng.h"
#include "tasks/registry.h"
#include "tasks/task_env.h"
#include "tests/test_util.h"

namespace padbench {
namespace {

using Catch::Matchers::Contains;
using json = nlohmann::json;

// A small model on 32x32 images, fast enough for a unit test.
const json kTiny = {{"vision_channels", {8, 16}}, {"vision_keypoints", 8}, {"vision_dim", 16},
                    {"down_dims", {16, 32}},      {"text_dim", 8},         {"image_size", 32},
                    {"ddim_steps", 4}};

// Two reach and two drawer-open demonstrations at 32x32, collected once per process.
const std::string& TinyData() {
  static testing::TempPath dir;
  static const std::string path = [] {
    std::filesystem::create_directories(dir.path());
    CollectConfig c;
    c.tasks = {FindTask("reach"), FindTask("drawer-open")};
    c.episodes = 2;
    c.env.image_size = 32;
    c.out = dir.str() + "/tiny.hdf5";
    Collect(c, false);
    return c.out;
  }();
  return path;
}

train::TrainConfig TinyTrain(const std::string& out, int steps) {
  train::TrainConfig c;
  c.policy = "diffusion_policy";
  c.data = {TinyData()};
  c.out = out;
  c.overrides = kTiny;
  c.steps = steps;
  c.batch = 8;
  c.threads = 1;
  c.warmup = 2;
  c.log_every = 2;
  c.val_every = 4;
  c.checkpoint_every = 3;
  c.val_batches = 1;
  c.progress = false;
  return c;
}

std::vector<torch::Tensor> Weights(const std::string& dir) {
  std::ifstream in(dir + "/config.json");
  auto model = train::TrainableFromCheckpoint(json::parse(in));
  nn::LoadParameters(model->module(), dir + "/model.pt");
  return model->module().parameters();
}

Observation Rendered(uint64_t seed) {
  static auto renderer = Renderer::Create();
  TaskEnvConfig config;
  config.image_size = 32;
  auto env = TaskEnv::Create(FindTask("reach"), config, renderer.get());
  return env->Reset(seed);
}

TEST_CASE("diffusion_policy: a few training steps on a tiny dataset lower the loss", "[dp][slow]") {
  torch::manual_seed(0);
  const auto data = train::DemoData::Load({TinyData()}, {"corner"}, 0.0, 0);
  auto model = train::MakeTrainable("diffusion_policy", kTiny, data);
  Rng rng(1);
  const train::Batch batch = data.Sample(16, model->spec(), false, rng);
  auto loss_on_batch = [&] {
    torch::Generator gen = at::detail::createCPUGenerator(5);
    return model->Loss(batch, gen).total.item<double>();
  };
  const double before = loss_on_batch();
  torch::optim::Adam opt(model->module().parameters(), torch::optim::AdamOptions(1e-3));
  for (int i = 0; i < 40; ++i) {
    torch::Generator gen = at::detail::createCPUGenerator(100 + i);
    auto loss = model->Loss(batch, gen).total;
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  const double after = loss_on_batch();
  INFO("loss " << before << " -> " << after);
  REQUIRE(after < 0.8 * before);
}

TEST_CASE("diffusion_policy: training is deterministic, resumable, and checkpoints round-trip", "[dp][slow]") {
  testing::TempPath a, b;
  const train::TrainSummary sa = train::Train(TinyTrain(a.str(), 6));
  REQUIRE(sa.steps == 6);
  for (const char* f : {"config.json", "model.pt", "train_log.csv", "train_state.pt"}) {
    REQUIRE(std::filesystem::exists(a.path() / f));
  }
  train::Train(TinyTrain(b.str(), 3));
  REQUIRE_THROWS_WITH(train::Train(TinyTrain(b.str(), 6)), Contains("--resume"));
  auto resumed = TinyTrain(b.str(), 6);
  resumed.resume = true;
  train::Train(resumed);
  const auto wa = Weights(a.str()), wb = Weights(b.str());
  REQUIRE(wa.size() == wb.size());
  for (size_t i = 0; i < wa.size(); ++i) REQUIRE(torch::equal(wa[i], wb[i]));

  // Loading the checkpoint twice gives identical actions.
  const Observation obs = Rendered(4);
  std::vector<std::vector<Action>> actions;
  for (int k = 0; k < 2; ++k) {
    auto policy = MakePolicy("diffusion_policy=" + a.str());
    policy->Reset({"reach", obs.instruction, 9, 100, nullptr, nullptr});
    policy->Observe(obs);
    actions.push_back(policy->Act(obs).actions);
  }
  REQUIRE((actions[0] == actions[1]));  // (parenthesised: glog and Catch both print vectors)
}

TEST_CASE("diffusion_policy: acts with its chunk sizes and denoising samples; the seed matters", "[dp][slow]") {
  testing::TempPath dir;
  train::Train(TinyTrain(dir.str(), 2));
  auto policy = MakePolicy("diffusion_policy=" + dir.str());
  REQUIRE(policy->Inputs().image_size == 32);
  const Observation obs = Rendered(2);
  int denoise_calls = 0;
  policy->SetDenoiseCallback([&](const DenoiseSample& s) {
    ++denoise_calls;
    REQUIRE(s.actions.size() == 16);
  });
  auto act = [&](uint64_t seed) {
    policy->Reset({"reach", obs.instruction, seed, 100, nullptr, nullptr});
    policy->Observe(obs);
    return policy->Act(obs);
  };
  const PolicyOutput out = act(5);
  REQUIRE(out.actions.size() == 8);
  for (const Action& a : out.actions)
    for (float v : a) REQUIRE((std::isfinite(v) && v >= -1.0f && v <= 1.0f));
  REQUIRE(denoise_calls == 4);
  REQUIRE((act(5).actions == out.actions));
  REQUIRE((act(6).actions != out.actions));
}

TEST_CASE("diffusion_policy: bad checkpoints are errors that name the problem", "[dp]") {
  testing::TempPath dir;
  REQUIRE_THROWS_WITH(MakePolicy("diffusion_policy=" + dir.str()), Contains("does not exist"));
  std::filesystem::create_directories(dir.path());
  REQUIRE_THROWS_WITH(MakePolicy("diffusion_policy=" + dir.str()), Contains("has no config.json"));
  testing::WriteText(dir.str() + "/config.json", R"({"policy": "pad"})");
  REQUIRE_THROWS_WITH(MakePolicy("diffusion_policy=" + dir.str()), Contains("is a 'pad' checkpoint"));
  REQUIRE_THROWS_WITH(MakePolicy("diffusion_policy"), Contains("needs a path"));

  const std::string ckpt = dir.str() + "/trained";
  train::Train(TinyTrain(ckpt, 1));
  // The weights of a smaller network than config.json describes.
  std::ifstream in(ckpt + "/config.json");
  json config = json::parse(in);
  config["config"]["down_dims"] = {16, 48};
  testing::WriteText(ckpt + "/config.json", config.dump());
  REQUIRE_THROWS_WITH(MakePolicy("diffusion_policy=" + ckpt), Contains("has shape") && Contains("model.pt"));
  config["config"]["down_dims"] = {16, 32};
  config["config"]["no_such_setting"] = 1;
  testing::WriteText(ckpt + "/config.json", config.dump());
  REQUIRE_THROWS_WITH(MakePolicy("diffusion_policy=" + ckpt), Contains("unknown key 'no_such_setting'"));
  config["config"].erase("no_such_setting");
  testing::WriteText(ckpt + "/config.json", config.dump());
  std::filesystem::resize_file(ckpt + "/model.pt", std::filesystem::file_size(ckpt + "/model.pt") / 2);
  REQUIRE_THROWS_WITH(MakePolicy("diffusion_policy=" + ckpt), Contains("cannot read weights"));
}

}  // namespace
}  // namespace padbench

namespace padbench {
namespace {

TEST_CASE("training data: waypoints are the end-effector position after each action and its gripper effort",
          "[dp]") {
  testing::TempPath dir;
  std::filesystem::create_directories(dir.path());
  const std::string path = dir.str() + "/line.hdf5";
  const int T = 6;
  {
    auto writer = DatasetWriter::Create(path, "{}");
    EpisodeData e;
    e.task = "reach";
    e.instruction = "reach the red ball";
    e.length = T;
    e.image_height = e.image_width = 8;
    e.images["corner"].assign(T * 8 * 8 * 3, 100);
    for (int t = 0; t < T; ++t) {
      e.ee_pos.insert(e.ee_pos.end(), {0.1f * t, 0.5f, 0.2f});
      e.gripper.push_back(0.01f);
      e.actions.insert(e.actions.end(), {0.3f, 0.f, 0.f, t % 2 ? 1.f : -1.f});
    }
    e.rewards.assign(T, 0.f);
    e.dones.assign(T, 0);
    writer->Append(e);
    writer->Close();
  }
  const auto data = train::DemoData::Load({path}, {"corner"}, 0.0, 0);
  train::DataSpec spec;
  spec.action_offsets = train::Range(0, 3);
  spec.waypoints = true;
  Rng rng(3);
  const train::Batch b = data.Sample(32, spec, false, rng);
  for (int i = 0; i < b.size(); ++i) {
    const int t = int(std::lround(b.proprio[i][0][0].item<float>() / 0.1f));
    for (int k = 0; k < 3; ++k) {
      const int step = std::min(t + k, T - 1), next = std::min(step + 1, T - 1);
      REQUIRE(b.actions[i][k][0].item<float>() == Approx(0.1f * next));
      REQUIRE(b.actions[i][k][1].item<float>() == Approx(0.5f));
      REQUIRE(b.actions[i][k][3].item<float>() == (step % 2 ? 1.f : -1.f));
    }
  }
  REQUIRE(data.AllActions(true).size(0) == T);
  REQUIRE(data.AllActions(true)[T - 1][0].item<float>() == Approx(0.1f * (T - 1)));
}

TEST_CASE("training data: a NaN or Inf in a demo is an error naming the demo and the field", "[dp]") {
  testing::TempPath dir;
  std::filesystem::create_directories(dir.path());
  for (const char* field : {"actions", "ee_pos"}) {
    const std::string path = dir.str() + "/" + field + ".hdf5";
    {
      auto writer = DatasetWriter::Create(path, "{}");
      for (int n = 0; n < 2; ++n) {
        EpisodeData e;
        e.task = "reach";
        e.instruction = "reach the red ball";
        e.length = 3;
        e.image_height = e.image_width = 8;
        e.images["corner"].assign(3 * 8 * 8 * 3, 100);
        e.ee_pos.assign(9, 0.1f);
        e.gripper.assign(3, 0.02f);
        e.actions.assign(12, 0.5f);
        e.rewards.assign(3, 0.f);
        e.dones.assign(3, 0);
        if (n == 1) (std::string(field) == "actions" ? e.actions[5] : e.ee_pos[4]) = std::nanf("");
        writer->Append(e);
      }
      writer->Close();
    }
    INFO(field);
    REQUIRE_THROWS_WITH(train::DemoData::Load({path}, {"corner"}, 0.0, 0),
                        Contains("demo_1") && Contains("non-finite") &&
                               Contains(std::string(field) == "actions" ? "actions" : "obs/ee_pos"));
  }
}

}  // namespace
}  // namespace padbench
