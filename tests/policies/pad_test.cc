// PAD and the latent autoencoder: joint denoising, action-free masking, sampling, checkpoints,
// co-training through the shared training loop.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "eval/data/collect.h"
#include "eval/metrics/image_quality.h"
#include "policies/nn/autoencoder.h"
#include "policies/pad/model.h"
#include "policies/registry.h"
#include "policies/train/trainer.h"
#include "sim/assets.h"
#include "sim/image_io.h"
#include "sim/renderer.h"
#include "tasks/registry.h"
#include "tasks/task_env.h"
#include "tests/test_util.h"

namespace padbench {
namespace {

using Catch::Matchers::Contains;
using json = nlohmann::json;

// 32x32 frames -> 4x4x4 latents; a two-block DiT.
const json kTinyAutoencoder = {{"channels", {8, 16, 16}}, {"image_size", 32}};
const json kTinyPad = {{"width", 32},       {"depth", 2},          {"heads", 2},    {"patch", 2},
                       {"pred_horizon", 8}, {"action_horizon", 4}, {"future_frames", 2},
                       {"frame_interval", 2}, {"ddim_steps", 3},   {"text_dim", 8}};

// kTinyPad with `overrides`, normalisers that leave [-1, 1] unchanged, a random autoencoder.
pad::Model TinyModel(const json& overrides = json::object()) {
  torch::manual_seed(0);
  json c = kTinyPad;
  c.update(overrides);
  c["autoencoder_config"] = kTinyAutoencoder;
  const pad::Config config = pad::Config::FromJson(c);
  const nn::Normalizer unit{{-1, -1, -1, -1}, {1, 1, 1, 1}};
  return pad::Model(config, nn::Autoencoder(config.autoencoder_config), unit, unit,
                    nn::Vocabulary::Build({"reach the ball"}));
}

json Conditioned(const std::string& conditioning) { return {{"conditioning", conditioning}}; }

// Random images and actions; `with_actions` marks every row robot data or video.
train::Batch RandomBatch(int b, bool with_actions) {
  torch::manual_seed(1);
  train::Batch batch;
  batch.images = torch::randint(0, 256, {b, 1, 3, 32, 32}).to(torch::kUInt8);
  batch.future = torch::randint(0, 256, {b, 2, 3, 32, 32}).to(torch::kUInt8);
  batch.proprio = torch::rand({b, 1, 4}) * 2 - 1;
  batch.actions = torch::rand({b, 8, 4}) * 2 - 1;
  batch.has_actions = torch::full({b}, with_actions, torch::kBool);
  batch.instructions.assign(b, "reach the ball");
  return batch;
}

// Makes every parameter non-zero, so zero-initialised heads pass gradients and signals.
void Perturb(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) p.add_(torch::randn_like(p) * 0.05);
}

TEST_CASE("pad: an action-free batch has no action loss and sends no gradient into the action head", "[pad]") {
  for (const char* conditioning : {"adaln_zero", "adaln", "cross_attention", "in_context"}) {
    INFO(conditioning);
    auto model = TinyModel(Conditioned(conditioning));
    Perturb(*model);
    const auto video = RandomBatch(4, false);
    const auto params = model->named_parameters();
    {
      // Image loss weighted 0: the whole loss is the action loss, which must be exactly 0.
      json c = Conditioned(conditioning);
      c["image_loss_weight"] = 0.0;
      auto no_image = TinyModel(c);
      Perturb(*no_image);
      torch::Generator gen = at::detail::createCPUGenerator(3);
      REQUIRE(no_image->Loss(video, gen).item<double>() == 0.0);
    }
    torch::Generator gen = at::detail::createCPUGenerator(3);
    auto loss = model->Loss(video, gen);
    REQUIRE(loss.item<double>() > 0.0);
    loss.backward();
    for (const char* name : {"action_out.weight", "action_out.bias", "action_in.weight", "proprio_in.weight"}) {
      INFO(name);
      const auto grad = params[name].grad();
      REQUIRE((!grad.defined() || grad.abs().max().item<double>() == 0.0));
    }
    // ... while the image head learns.
    REQUIRE(params["image_out.weight"].grad().abs().max().item<double>() > 0.0);
    // The same rows with actions do train the action head.
    model->zero_grad();
    gen = at::detail::createCPUGenerator(3);
    model->Loss(RandomBatch(4, true), gen).backward();
    REQUIRE(params["action_out.weight"].grad().abs().max().item<double>() > 0.0);
  }
}

TEST_CASE("pad: for action-free rows the action and proprio tokens do not change the image prediction", "[pad]") {
  auto model = TinyModel();
  Perturb(*model);
  torch::NoGradGuard no_grad;
  const auto current = torch::randn({2, 1, 4, 4, 4}), future = torch::randn({2, 8, 4, 4});
  const auto t = torch::tensor({10, 70}), text = model->Text({"reach the ball", "reach the ball"});
  const auto video = torch::zeros({2}, torch::kBool), robot = torch::ones({2}, torch::kBool);
  const auto a = model->Denoise(current, future, torch::randn({2, 1, 4}), torch::randn({2, 8, 4}), t, text, video);
  const auto b = model->Denoise(current, future, torch::randn({2, 1, 4}), torch::randn({2, 8, 4}), t, text, video);
  REQUIRE(torch::allclose(a.future, b.future, 0, 1e-6));
  // Unmasked (robot data), they do.
  const auto c = model->Denoise(current, future, torch::randn({2, 1, 4}), torch::randn({2, 8, 4}), t, text, robot);
  REQUIRE_FALSE(torch::allclose(a.future, c.future, 0, 1e-4));
}

TEST_CASE("pad: with the reference's mask, action tokens do not change the image prediction", "[pad]") {
  for (const char* conditioning : {"adaln_zero", "cross_attention", "in_context"}) {
    INFO(conditioning);
    for (const bool clean : {false, true}) {
      auto masked = TinyModel({{"conditioning", conditioning}, {"image_sees_actions", false},
                               {"clean_tokens", clean}, {"obs_horizon", 2}});
      Perturb(*masked);
      torch::NoGradGuard no_grad;
      const auto observed = torch::randn({2, 2, 4, 4, 4}), future = torch::randn({2, 8, 4, 4});
      const auto proprio = torch::randn({2, 2, 4});
      const auto t = torch::tensor({10, 70}), text = masked->Text({"reach the ball", "reach the ball"});
      const auto robot = torch::ones({2}, torch::kBool);
      const auto a = masked->Denoise(observed, future, proprio, torch::randn({2, 8, 4}), t, text, robot);
      const auto b = masked->Denoise(observed, future, proprio, torch::randn({2, 8, 4}) * 5, t, text, robot);
      REQUIRE(torch::equal(a.future, b.future));
      REQUIRE_FALSE(torch::allclose(a.actions, b.actions));
      // Without the mask (the default) the same change reaches the image prediction.
      auto open = TinyModel({{"conditioning", conditioning}, {"clean_tokens", clean}, {"obs_horizon", 2}});
      Perturb(*open);
      const auto c = open->Denoise(observed, future, proprio, torch::randn({2, 8, 4}), t, text, robot);
      const auto d = open->Denoise(observed, future, proprio, torch::randn({2, 8, 4}) * 5, t, text, robot);
      REQUIRE_FALSE(torch::allclose(c.future, d.future, 0, 1e-4));
    }
  }
}

TEST_CASE("pad: the loss reports its image and action parts", "[pad]") {
  auto model = TinyModel();
  torch::Generator gen = at::detail::createCPUGenerator(3);
  const train::LossTerms terms = model->LossTerms(RandomBatch(4, true), gen);
  REQUIRE(terms.parts.size() == 2);
  REQUIRE(terms.parts[0].first == "image_mse");
  REQUIRE(terms.parts[1].first == "action_mse");
  // Weights 1 and 1: the total is their sum.
  REQUIRE(terms.total.item<double>() ==
          Approx(terms.parts[0].second.item<double>() + terms.parts[1].second.item<double>()));
}

TEST_CASE("pad: per-channel standardisation inverts exactly, and bad option values are refused", "[pad]") {
  auto model = TinyModel({{"latent_norm", "per_channel"}, {"latent_mean", {0.5, -1, 0, 2}}, {"latent_std", {2, 1, 0.5, 4}}});
  const auto z = torch::randn({3, 4, 4, 4});
  const auto s = model->Standardize(z);
  REQUIRE(torch::allclose(s[0][0], (z[0][0] - 0.5) / 2));
  REQUIRE(torch::allclose(s[1][3], (z[1][3] - 2) / 4));
  REQUIRE(torch::allclose(model->Unstandardize(s), z, 1e-5, 1e-6));
  json bad = kTinyPad;
  bad["autoencoder_config"] = kTinyAutoencoder;
  bad["latent_norm"] = "per_channel";
  bad["latent_mean"] = {0.0, 1.0};
  bad["latent_std"] = {1.0, 1.0};
  REQUIRE_THROWS_WITH(pad::Config::FromJson(bad), Contains("need 4 values"));
  REQUIRE_THROWS_WITH(pad::Config::FromJson({{"latent_norm", "batch"}}), Contains("global or per_channel"));
  REQUIRE_THROWS_WITH(pad::Config::FromJson({{"actions", "poses"}}), Contains("delta or waypoints") && Contains("poses"));
  REQUIRE_THROWS_WITH(pad::Config::FromJson({{"obs_horizon", 0}}), Contains("obs_horizon >= 1"));
}

TEST_CASE("pad: DDIM sampling has the documented shapes and is deterministic for a generator seed", "[pad]") {
  for (const char* conditioning : {"adaln_zero", "adaln", "cross_attention", "in_context"}) {
    INFO(conditioning);
    auto model = TinyModel(Conditioned(conditioning));
    Perturb(*model);
    torch::NoGradGuard no_grad;
    const auto images = torch::randint(0, 256, {1, 1, 3, 32, 32}).to(torch::kUInt8);
    const auto proprio = torch::zeros({1, 1, 4});
    int steps = 0;
    auto sample = [&](uint64_t seed) {
      torch::Generator gen = at::detail::createCPUGenerator(seed);
      return model->Sample(images, proprio, {"reach the ball"}, gen, [&](int, const pad::Sampled& x0) {
        ++steps;
        REQUIRE(x0.frames.sizes() == torch::IntArrayRef({1, 2, 3, 32, 32}));
      });
    };
    const auto a = sample(7), b = sample(7), c = sample(8);
    REQUIRE(steps == 9);
    REQUIRE(a.actions.sizes() == torch::IntArrayRef({1, 8, 4}));
    REQUIRE(a.frames.sizes() == torch::IntArrayRef({1, 2, 3, 32, 32}));
    REQUIRE(a.frames.abs().max().item<double>() <= 1.0 + 1e-6);
    REQUIRE(torch::equal(a.actions, b.actions));
    REQUIRE(torch::equal(a.frames, b.frames));
    REQUIRE_FALSE(torch::equal(a.actions, c.actions));
  }
}

TEST_CASE("pad: the fused sampling path gives the samples of one Denoise per step within float rounding",
          "[pad]") {
  for (const json& options : {json::object(), json{{"clean_tokens", true}, {"obs_horizon", 2}},
                              json{{"future_frames", 0}}}) {
    INFO(options.dump());
    auto model = TinyModel(options);
    Perturb(*model);
    model->eval();
    REQUIRE(model->fused_inference());
    torch::NoGradGuard no_grad;
    const int64_t to = model->config().obs_horizon;
    const auto images = torch::randint(0, 256, {2, to, 3, 32, 32}).to(torch::kUInt8);
    const auto proprio = torch::rand({2, to, 4}) * 2 - 1;
    auto sample = [&](bool fused) {
      model->set_fused_inference(fused);
      torch::Generator gen = at::detail::createCPUGenerator(7);
      return model->Sample(images, proprio, {"reach the ball", "reach the ball"}, gen);
    };
    const pad::Sampled fused = sample(true), plain = sample(false);
    REQUIRE((fused.actions - plain.actions).abs().max().item<double>() < 1e-5);
    REQUIRE(fused.actions.abs().max().item<double>() > 1e-3);  // not a trivial zero
    if (model->config().future_frames > 0) REQUIRE((fused.frames - plain.frames).abs().max().item<double>() < 1e-5);
  }
  // Training mode, other conditionings and the reference's mask take the plain path.
  auto model = TinyModel();
  model->eval();
  model->train();
  REQUIRE_FALSE(model->fused_inference());
  for (const json& o : {Conditioned("adaln"), Conditioned("cross_attention"), json{{"image_sees_actions", false}}}) {
    auto other = TinyModel(o);
    other->eval();
    REQUIRE_FALSE(other->fused_inference());
  }
}

TEST_CASE("pad: the action-loss warm-up ramps the action weight up from 0", "[pad]") {
  auto model = TinyModel({{"image_loss_weight", 0.0}, {"action_loss_warmup", 10}});
  Perturb(*model);
  const auto batch = RandomBatch(4, true);
  auto loss_at = [&](int step) {
    model->BeginStep(step);
    torch::Generator gen = at::detail::createCPUGenerator(3);
    return model->Loss(batch, gen).item<double>();
  };
  const double full = loss_at(-1);  // outside training (validation): the full weight
  REQUIRE(full > 0);
  REQUIRE(loss_at(0) == 0.0);
  REQUIRE(loss_at(5) == Approx(full / 2));
  REQUIRE(loss_at(10) == Approx(full));
}

TEST_CASE("pad: without future frames (the no-image ablation) only actions are denoised", "[pad]") {
  auto model = TinyModel({{"future_frames", 0}});
  torch::Generator gen = at::detail::createCPUGenerator(1);
  auto batch = RandomBatch(3, true);
  batch.future = torch::Tensor();
  REQUIRE(std::isfinite(model->Loss(batch, gen).item<double>()));
  torch::NoGradGuard no_grad;
  const auto out = model->Sample(batch.images, torch::zeros({3, 1, 4}), batch.instructions, gen);
  REQUIRE(out.actions.sizes() == torch::IntArrayRef({3, 8, 4}));
  REQUIRE_FALSE(out.frames.defined());
}

TEST_CASE("pad: config errors name the key", "[pad]") {
  REQUIRE_THROWS_WITH(pad::Config::FromJson({{"widht", 3}}), Contains("unknown key 'widht'"));
  REQUIRE_THROWS_WITH(pad::Config::FromJson({{"conditioning", "film"}}), Contains("unknown DiT conditioning 'film'"));
  REQUIRE_THROWS_WITH(pad::Config::FromJson({{"patch", 3}}), Contains("patch 3 must divide"));
  REQUIRE_THROWS_WITH(pad::Config::FromJson({{"depth", "deep"}}), Contains("'depth' has the wrong type"));
  REQUIRE_THROWS_WITH(nn::AutoencoderConfig::FromJson({{"image_size", 36}}), Contains("divisible"));
}

// A real frame of the default camera: the shipped autoencoder reconstructs it closely.
TEST_CASE("autoencoder: the shipped checkpoint round-trips a rendered frame", "[pad]") {
  const std::string dir = AssetDir() + "/checkpoints/autoencoder";
  nn::Autoencoder ae = nn::LoadAutoencoder(dir);
  const Image frame = ReadPng(std::string(PADBENCH_TEST_DATA) + "/frame_drawer_open.png");
  torch::NoGradGuard no_grad;
  const auto pixels = torch::from_blob(const_cast<uint8_t*>(frame.data()), {1, 64, 64, 3}, torch::kUInt8).permute({0, 3, 1, 2});
  const auto latents = ae->Encode(pixels);
  REQUIRE(latents.sizes() == torch::IntArrayRef({1, 4, 8, 8}));
  const auto back = nn::ToUint8Hwc(ae->Decode(latents));
  Image recon(64, 64);
  std::memcpy(recon.data(), back.data_ptr<uint8_t>(), recon.pixels.size());
  INFO("PSNR " << Psnr(frame, recon) << " SSIM " << Ssim(frame, recon));
  REQUIRE(Psnr(frame, recon) > 23.0);  // held-out mean: 25.3 dB, SSIM 0.887 (reconstruction.json)
  REQUIRE(Ssim(frame, recon) > 0.8);
}

// ---- through the training loop, on a tiny collected dataset ----

struct TinySets {
  std::string robot, video;
};

const TinySets& TinyData() {
  static testing::TempPath dir;
  static const TinySets sets = [] {
    std::filesystem::create_directories(dir.path());
    CollectConfig c;
    c.tasks = {FindTask("reach")};
    c.episodes = 2;
    c.env.image_size = 32;
    c.out = dir.str() + "/robot.hdf5";
    Collect(c, false);
    c.seed = 99;
    c.video_only = true;
    c.out = dir.str() + "/video.hdf5";
    Collect(c, false);
    return TinySets{dir.str() + "/robot.hdf5", dir.str() + "/video.hdf5"};
  }();
  return sets;
}

train::TrainConfig TinyTrain(const std::string& policy, const std::string& out, int steps) {
  train::TrainConfig c;
  c.policy = policy;
  c.data = {TinyData().robot};
  c.out = out;
  c.steps = steps;
  c.batch = 4;
  c.threads = 1;
  c.warmup = 1;
  c.log_every = 1;
  c.val_every = 2;
  c.checkpoint_every = 2;
  c.val_batches = 1;
  c.progress = false;
  return c;
}

// A tiny autoencoder trained for 2 steps, once per process: 4x4 latents, or with `fine` one
// stride-2 stage fewer, 8x8 latents (the 16x16-latent option at this image size).
const std::string& TinyAutoencoderDir(bool fine = false) {
  static testing::TempPath dirs[2];
  static std::string paths[2];
  std::string& path = paths[fine];
  if (path.empty()) {
    auto ae = TinyTrain("autoencoder", dirs[fine].str(), 2);
    ae.overrides = kTinyAutoencoder;
    if (fine) ae.overrides["channels"] = {8, 16};
    train::Train(ae);
    path = dirs[fine].str();
  }
  return path;
}

Observation Rendered(uint64_t seed) {
  static auto renderer = Renderer::Create();
  TaskEnvConfig config;
  config.image_size = 32;
  auto env = TaskEnv::Create(FindTask("reach"), config, renderer.get());
  return env->Reset(seed);
}

TEST_CASE("pad: co-training runs end to end and the checkpoint round-trips actions and frames", "[pad][slow]") {
  testing::TempPath pad_dir, resumed_dir;
  const std::string ae_dir = TinyAutoencoderDir();
  const auto ae = TinyTrain("autoencoder", ae_dir, 2);
  const auto recon = train::ReconstructHeldOut(ae_dir, ae.data, ae.seed, ae.val_fraction, 3);
  REQUIRE(recon.real.size() == 3);
  REQUIRE(recon.reconstructed[0].height == 32);

  auto config = TinyTrain("pad", pad_dir.str(), 4);
  config.overrides = kTinyPad;
  config.overrides["autoencoder"] = ae_dir;
  config.video = {TinyData().video};
  config.video_batch = 2;
  const auto summary = train::Train(config);
  REQUIRE(std::isfinite(summary.train_loss));
  {
    std::ifstream in(pad_dir.str() + "/config.json");
    const json saved = json::parse(in);
    REQUIRE(saved.at("training").at("video_batch") == 2);
    REQUIRE(saved.at("training").at("robot_samples") == 4 * config.batch);
    REQUIRE(saved.at("config").at("latent_scale").get<double>() > 0);
  }
  // Resuming from step 2 reproduces the weights of the uninterrupted run.
  auto first = config;
  first.out = resumed_dir.str();
  first.steps = 2;
  train::Train(first);
  first.steps = 4;
  first.resume = true;
  train::Train(first);
  for (const auto& dir : {pad_dir.str(), resumed_dir.str()}) REQUIRE(std::filesystem::exists(dir + "/model.pt"));
  {
    auto a = MakePolicy("pad=" + pad_dir.str()), b = MakePolicy("pad=" + resumed_dir.str());
    const Observation obs = Rendered(3);
    for (auto* p : {a.get(), b.get()}) p->Reset({"reach", obs.instruction, 4, 100, nullptr, nullptr});
    REQUIRE((a->Act(obs).actions == b->Act(obs).actions));
  }

  // Two loads of one checkpoint act identically: actions and predicted frames.
  const Observation obs = Rendered(2);
  std::vector<PolicyOutput> outs;
  int denoise_calls = 0;
  for (int k = 0; k < 2; ++k) {
    auto policy = MakePolicy("pad=" + pad_dir.str());
    REQUIRE(policy->Inputs().image_size == 32);
    policy->SetDenoiseCallback([&](const DenoiseSample& s) {
      ++denoise_calls;
      REQUIRE(s.frames.size() == 2);
      REQUIRE(s.actions.size() == 8);
    });
    policy->Reset({"reach", obs.instruction, 5, 100, nullptr, nullptr});
    policy->Observe(obs);
    outs.push_back(policy->Act(obs));
  }
  REQUIRE(denoise_calls == 6);
  REQUIRE(outs[0].actions.size() == 4);
  REQUIRE((outs[0].actions == outs[1].actions));
  REQUIRE(outs[0].predicted.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    REQUIRE(outs[0].predicted[i].horizon == int(2 * (i + 1)));
    REQUIRE(outs[0].predicted[i].rgb.height == 32);
    REQUIRE(outs[0].predicted[i].rgb.pixels == outs[1].predicted[i].rgb.pixels);
  }
}

TEST_CASE("pad: every option trains through the loop, logs its loss parts and acts the same after loading",
          "[pad][slow]") {
  const std::vector<json> options = {
      {{"obs_horizon", 2}},
      {{"obs_horizon", 2}, {"clean_tokens", true}},
      {{"image_sees_actions", false}},
      {{"latent_norm", "per_channel"}},
      {{"shift_pad", 2}},
      {{"actions", "waypoints"}},
      {{"autoencoder", "fine"}},
      {{"obs_horizon", 2}, {"clean_tokens", true}, {"image_sees_actions", false}, {"latent_norm", "per_channel"},
       {"shift_pad", 2}, {"actions", "waypoints"}}};
  for (const json& option : options) {
    INFO(option.dump());
    testing::TempPath dir;
    auto config = TinyTrain("pad", dir.str(), 2);
    config.overrides = kTinyPad;
    config.overrides.update(option);
    const bool fine = option.value("autoencoder", "") == "fine";
    config.overrides["autoencoder"] = TinyAutoencoderDir(fine);
    config.video = {TinyData().video};
    config.video_batch = 2;
    REQUIRE(std::isfinite(train::Train(config).train_loss));
    std::ifstream in(dir.str() + "/config.json");
    const json saved = json::parse(in).at("config");
    for (const auto& [key, value] : option.items())
      if (key != "autoencoder") REQUIRE(saved.at(key) == value);
    REQUIRE(saved.at("autoencoder_config").at("channels").size() == (fine ? 2 : 3));
    if (saved.at("latent_norm") == "per_channel") REQUIRE(saved.at("latent_std").size() == 4);
    std::ifstream log(dir.str() + "/train_log.csv");
    std::string header;
    std::getline(log, header);
    REQUIRE(header == "step,loss,val_loss,lr,it_per_s,elapsed_s,image_mse,val_image_mse,action_mse,val_action_mse");
    const Observation first = Rendered(4), second = Rendered(5);
    std::vector<std::vector<Action>> acts;
    for (int k = 0; k < 2; ++k) {
      auto policy = MakePolicy("pad=" + dir.str());
      policy->Reset({"reach", first.instruction, 4, 100, nullptr, nullptr});
      policy->Observe(first);
      Observation next = second;
      next.step = 1;
      policy->Observe(next);
      const PolicyOutput out = policy->Act(next);
      REQUIRE(out.kind == (option.value("actions", "delta") == "waypoints" ? ActionKind::kWaypoint : ActionKind::kDelta));
      acts.push_back(out.actions);
    }
    REQUIRE(acts[0].size() == 4);
    REQUIRE((acts[0] == acts[1]));
  }
}

TEST_CASE("pad: bad inputs are errors that name the problem", "[pad]") {
  testing::TempPath dir;
  REQUIRE_THROWS_WITH(MakePolicy("pad=" + dir.str()), Contains("does not exist"));
  auto config = TinyTrain("pad", dir.str(), 1);
  config.overrides = {{"autoencoder", dir.str() + "/nowhere"}};
  REQUIRE_THROWS_WITH(train::Train(config), Contains("nowhere") && Contains("does not exist"));
  config.video = {TinyData().robot};
  config.video_batch = 0;
  REQUIRE_THROWS_WITH(train::Train(config), Contains("--video-batch must be >= 1"));
  auto no_actions = TinyTrain("pad", dir.str(), 1);
  no_actions.data = {TinyData().video};
  REQUIRE_THROWS_WITH(train::Train(no_actions), Contains("--video"));
  REQUIRE_THROWS_WITH(train::Train(TinyTrain("rt1", dir.str(), 1)), Contains("unknown trainable 'rt1'; valid: autoencoder, diffusion_policy, pad"));
}

}  // namespace
}  // namespace padbench
