// The GR-1 family: causality across steps, query tokens that are nobody's keys, padding at the
// episode's start, video rows that never reach the action head, the policy's cached window
// against a recomputation, checkpoint round trips, and video pre-training in the training loop.
// (REQUIRE, not CHECK: LibTorch's headers redefine CHECK.)
#include <filesystem>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "eval/data/collect.h"
#include "eval/engine/rollout.h"
#include "policies/gr1/model.h"
#include "policies/nn/io.h"
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

constexpr int64_t kH = 4, kR = 2;  // history, image tokens per frame

// 32x32 frames -> 4x4x4 latents, a two-block transformer, chunks of 3.
gr1::Model TinyModel() {
  torch::manual_seed(0);
  const json c = {{"history", kH},        {"action_chunk", 3},   {"execute", 1},      {"width", 32},
                  {"depth", 2},           {"heads", 2},          {"image_tokens", kR}, {"obs_queries", 2},
                  {"decoder_width", 16},  {"text_dim", 8},       {"future_offset", 2},
                  {"autoencoder_config", {{"channels", {8, 16, 16}}, {"image_size", 32}}}};
  const auto config = gr1::Config::FromJson(c);
  const nn::Normalizer unit{{-1, -1, -1, -1}, {1, 1, 1, 1}};
  gr1::Model model(config, nn::Autoencoder(config.autoencoder_config), unit, unit,
                   nn::Vocabulary::Build({"reach the ball"}));
  model->eval();
  return model;
}

struct Inputs {
  torch::Tensor tokens, proprio, text, padding, robot;
};

Inputs RandomInputs(gr1::Model& model, int64_t b) {
  Inputs in;
  in.tokens = torch::randn({b, kH, kR, 32});
  in.proprio = torch::randn({b, kH, 4});
  in.text = model->Text(std::vector<std::string>(size_t(b), "reach the ball"));
  in.padding = torch::zeros({b, kH}, torch::kBool);
  in.robot = torch::ones({b}, torch::kBool);
  return in;
}

gr1::Outputs Run(gr1::Model& model, const Inputs& in, bool all_steps = true) {
  return model->Forward(in.tokens, in.proprio, in.text, in.padding, in.robot, all_steps);
}

// Steps [from, to) of `o`.
gr1::Outputs Steps(const gr1::Outputs& o, int64_t from, int64_t to) {
  return {o.arm.slice(1, from, to), o.gripper.slice(1, from, to), o.future.slice(1, from, to)};
}

// Equal outputs (bit for bit when exact); `what` picks "actions", "frames" or both.
void RequireSame(const gr1::Outputs& a, const gr1::Outputs& b, bool exact = false, const std::string& what = "") {
  std::vector<std::pair<torch::Tensor, torch::Tensor>> pairs;
  if (what != "frames") pairs.insert(pairs.end(), {{a.arm, b.arm}, {a.gripper, b.gripper}});
  if (what != "actions") pairs.push_back({a.future, b.future});
  for (const auto& [x, y] : pairs) {
    REQUIRE(x.sizes() == y.sizes());
    if (exact) {
      REQUIRE(torch::equal(x, y));
    } else {
      REQUIRE(torch::allclose(x, y, 1e-5, 1e-6));
    }
  }
}

TEST_CASE("gr1: a step's outputs do not depend on later steps", "[gr1]") {
  auto model = TinyModel();
  torch::NoGradGuard no_grad;
  const Inputs in = RandomInputs(model, 2);
  const auto base = Run(model, in);
  for (int64_t s = 1; s < kH; ++s) {
    INFO("changed step " << s);
    Inputs changed = in;
    changed.tokens = in.tokens.clone();
    changed.proprio = in.proprio.clone();
    changed.tokens.select(1, s).normal_();
    changed.proprio.select(1, s).normal_();
    const auto out = Run(model, changed);
    RequireSame(Steps(base, 0, s), Steps(out, 0, s));
    // The change reaches its own step: the comparison above can fail.
    REQUIRE_FALSE(torch::allclose(base.arm.select(1, s), out.arm.select(1, s), 1e-4, 1e-4));
    REQUIRE_FALSE(torch::allclose(base.future.select(1, s), out.future.select(1, s), 1e-4, 1e-4));
  }
}

TEST_CASE("gr1: query tokens are nobody's keys", "[gr1]") {
  auto model = TinyModel();
  torch::NoGradGuard no_grad;
  const Inputs in = RandomInputs(model, 2);
  const auto all = Run(model, in, true);
  // Act runs the last step's queries alone: the other steps' queries changed nothing.
  const auto last = Run(model, in, false);
  REQUIRE(last.arm.size(1) == 1);
  RequireSame(Steps(all, kH - 1, kH), last);
  // Within a step neither kind of query sees the other.
  auto params = model->named_parameters();
  params["act_query"].add_(torch::randn_like(params["act_query"]));  // not a constant: LayerNorm removes those
  const auto act_changed = Run(model, in);
  RequireSame(all, act_changed, true, "frames");
  REQUIRE_FALSE(torch::allclose(all.arm, act_changed.arm, 1e-4, 1e-4));
  params["obs_query"].add_(torch::randn_like(params["obs_query"]));
  const auto obs_changed = Run(model, in);
  RequireSame(act_changed, obs_changed, true, "actions");
  REQUIRE_FALSE(torch::allclose(act_changed.future, obs_changed.future, 1e-4, 1e-4));
  // The mask says the same: no column of a query token is open to anyone.
  const auto mask = model->AttentionMask(in.padding, in.robot, true);
  const int64_t queries = kH * (1 + 2), n = mask.size(1);
  REQUIRE(mask.slice(2, n - queries).all().item<bool>());
}

TEST_CASE("gr1: padding before the episode's start is invisible to the real steps", "[gr1]") {
  auto model = TinyModel();
  torch::NoGradGuard no_grad;
  Inputs in = RandomInputs(model, 2);
  in.padding.slice(1, 0, 2).fill_(true);  // the first two steps of the window precede the episode
  const auto base = Run(model, in);
  Inputs changed = in;
  changed.tokens = in.tokens.clone();
  changed.proprio = in.proprio.clone();
  changed.tokens.slice(1, 0, 2).normal_();
  changed.proprio.slice(1, 0, 2).normal_();
  RequireSame(Steps(base, 2, kH), Steps(Run(model, changed), 2, kH));
  // Without the padding mask the same change shows: the mask is what hides it.
  Inputs open = changed;
  open.padding = torch::zeros_like(in.padding);
  Inputs open_base = in;
  open_base.padding = open.padding;
  REQUIRE_FALSE(torch::allclose(Run(model, open).arm.select(1, kH - 1), Run(model, open_base).arm.select(1, kH - 1),
                                1e-4, 1e-4));
}

// An episode whose frame t is filled with the value 10 t and whose action t is (t/100, 0, 0, +-1).
std::string StepNumberedData(const std::string& dir, int length, bool actions = true) {
  const std::string path = dir + (actions ? "/steps.hdf5" : "/video.hdf5");
  auto writer = DatasetWriter::Create(path, "{}");
  EpisodeData e;
  e.task = "reach";
  e.instruction = "reach the ball";
  e.length = length;
  e.image_height = e.image_width = 32;
  for (int t = 0; t < length; ++t) {
    e.images["corner"].insert(e.images["corner"].end(), 32 * 32 * 3, uint8_t(10 * t));
    e.ee_pos.insert(e.ee_pos.end(), {0.01f * t, 0.5f, 0.2f});
    e.gripper.push_back(0.01f);
    if (actions) e.actions.insert(e.actions.end(), {0.01f * t, 0.f, 0.f, t % 2 ? 1.f : -1.f});
  }
  e.rewards.assign(size_t(length), 0.f);
  e.dones.assign(size_t(length), 0);
  writer->Append(e);
  writer->Close();
  return path;
}

TEST_CASE("gr1: training samples mark the history before the episode's start", "[gr1]") {
  testing::TempPath dir;
  std::filesystem::create_directories(dir.path());
  auto data = train::DemoData::Load({StepNumberedData(dir.str(), 12)}, {"corner"}, 0.0, 0);
  auto model = TinyModel();
  const train::DataSpec spec = model->data_spec();
  Rng rng(3);
  const train::Batch b = data.Sample(200, spec, false, rng);
  int early = 0;
  for (int i = 0; i < b.size(); ++i) {
    const int64_t t = b.images[i][kH - 1][0][0][0].item<int64_t>() / 10;  // the current frame's step
    for (int64_t s = 0; s < kH; ++s) REQUIRE(b.obs_padding[i][s].item<bool>() == (t + s - (kH - 1) < 0));
    // Step s's action chunk starts at its own step (clamped at the episode's ends).
    const int64_t first = std::clamp<int64_t>(t - (kH - 1), 0, 11);
    REQUIRE(b.actions[i][0][0].item<float>() == Approx(0.01 * first));
    REQUIRE(b.future.size(1) == kH);  // a future frame per step
    early += t < kH - 1;
  }
  REQUIRE(early > 0);  // the case under test was drawn
}

TEST_CASE("gr1: video rows give the action head no gradient", "[gr1]") {
  testing::TempPath dir;
  std::filesystem::create_directories(dir.path());
  auto robot = train::DemoData::Load({StepNumberedData(dir.str(), 12)}, {"corner"}, 0.0, 0);
  auto video = train::DemoData::Load({StepNumberedData(dir.str(), 12, false)}, {"corner"}, 0.0, 0);
  auto model = TinyModel();
  model->train();
  const train::DataSpec spec = model->data_spec();
  Rng rng(4);
  torch::Generator gen = at::detail::createCPUGenerator(1);
  const train::Batch robot_rows = robot.Sample(4, spec, false, rng), video_rows = video.Sample(4, spec, false, rng);
  auto head_grads = [&](const train::Batch& batch) {
    model->zero_grad();
    model->LossTerms(batch, gen).total.backward();
    std::vector<torch::Tensor> grads;
    for (const auto& p : model->ActionHeadParameters()) {
      grads.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
    }
    return grads;
  };
  // Video alone: exactly zero, while the rest of the model learns from its frames.
  for (const auto& g : head_grads(video_rows)) REQUIRE(torch::count_nonzero(g).item<int64_t>() == 0);
  REQUIRE(torch::count_nonzero(model->named_parameters()["obs_query"].grad()).item<int64_t>() > 0);
  // Mixed with robot rows: the robot rows' gradient, as if the video rows were absent.
  const auto robot_only = head_grads(robot_rows), mixed = head_grads(train::Concat(robot_rows, video_rows));
  for (size_t i = 0; i < mixed.size(); ++i) {
    REQUIRE(torch::count_nonzero(robot_only[i]).item<int64_t>() > 0);
    REQUIRE(torch::allclose(robot_only[i], mixed[i], 1e-4, 1e-6));
  }
}

TEST_CASE("gr1: a checkpoint round trip gives identical actions and frames", "[gr1]") {
  testing::TempPath dir;
  std::filesystem::create_directories(dir.path());
  auto model = TinyModel();
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.add_(torch::randn_like(p) * 0.05);
  }
  WriteJsonFile(dir.str() + "/config.json", model->Checkpoint());
  nn::SaveParameters(*model, dir.str() + "/model.pt");
  auto loaded = gr1::ModelFromCheckpoint(ReadJsonFile(dir.str() + "/config.json"));
  nn::LoadParameters(*loaded, dir.str() + "/model.pt");
  loaded->eval();
  torch::NoGradGuard no_grad;
  const Inputs in = RandomInputs(model, 1);
  const auto a = model->Predict(in.tokens, in.proprio, in.padding, "reach the ball");
  const auto b = loaded->Predict(in.tokens, in.proprio, in.padding, "reach the ball");
  REQUIRE(torch::equal(a.actions, b.actions));
  REQUIRE(torch::equal(a.frame, b.frame));
  const auto images = torch::randint(0, 255, {2, 3, 32, 32}, torch::kLong).to(torch::kUInt8);
  REQUIRE(torch::equal(model->ImageTokens(model->Standardize(model->EncodeLatents(images))),
                       loaded->ImageTokens(loaded->Standardize(loaded->EncodeLatents(images)))));
}

using testing::ReachData;

class Recorder : public RolloutObserver {
 public:
  void OnReset(const EpisodeInfo& info, const Observation&) override { instruction = info.instruction; }
  void OnAct(const Observation& obs, const PolicyOutput& output, double) override {
    observations.push_back(obs);
    outputs.push_back(output);
  }
  std::vector<Observation> observations;
  std::vector<PolicyOutput> outputs;
  std::string instruction;
};

TEST_CASE("gr1: the policy's cached window matches a recomputation from the observations", "[gr1]") {
  testing::TempPath dir;
  const std::string ckpt = testing::TrainTiny("gr1", {ReachData()}, dir.str() + "/gr1", {{"action_chunk", 1}});
  auto renderer = Renderer::Create();
  auto policy = MakePolicy("gr1=" + ckpt);
  auto env = MakeTaskEnv(FindTask("reach"), *policy, renderer.get());
  Recorder recorder;
  RunEpisode(*env, *policy, {"gr1", 0, 5, {}}, false, {&recorder});
  const auto& acts = recorder.outputs;
  REQUIRE(acts.size() > 6);  // an Act every step: the window fills up and slides
  auto model = gr1::ModelFromCheckpoint(ReadJsonFile(ckpt + "/config.json"));
  nn::LoadParameters(*model, ckpt + "/model.pt");
  model->eval();
  torch::NoGradGuard no_grad;
  const int h = model->config().history;
  for (const size_t k : {size_t(0), size_t(1), size_t(h + 2)}) {
    INFO("Act " << k);
    // The last `history` observations up to Act k, padded at the start from scratch.
    std::vector<torch::Tensor> tokens, proprio;
    auto padding = torch::zeros({1, h}, torch::kBool);
    for (int s = 0; s < h; ++s) {
      const int64_t i = int64_t(k) - (h - 1) + s;
      const Observation& o = recorder.observations[size_t(std::max<int64_t>(i, 0))];
      const auto image = nn::ImageTensor(o, "corner", 64, "gr1").unsqueeze(0);
      tokens.push_back(model->ImageTokens(model->Standardize(model->EncodeLatents(image)))[0]);
      proprio.push_back(nn::ProprioTensor(o));
      padding[0][s] = i < 0;
    }
    const auto p = model->Predict(torch::stack(tokens).unsqueeze(0), torch::stack(proprio).unsqueeze(0), padding,
                                  recorder.instruction);
    const auto expected = nn::ToActions(p.actions, 0, 1);
    REQUIRE(acts[k].actions.size() == 1);
    for (int d = 0; d < 4; ++d) REQUIRE(acts[k].actions[0][d] == Approx(expected[0][d]).margin(1e-5));
    REQUIRE(acts[k].predicted.size() == 1);
    REQUIRE(acts[k].predicted[0].horizon == model->config().future_offset);
    REQUIRE(acts[k].predicted[0].kind == PredictionKind::kFuture);
  }
}

TEST_CASE("gr1: video pre-training runs first in the same run and checkpoint", "[gr1]") {
  testing::TempPath dir;
  std::filesystem::create_directories(dir.path());
  train::TrainConfig c = testing::TinyTrainConfig("gr1", {ReachData()}, dir.str() + "/run");
  c.video = {ReachData()};  // its actions unused: pre-training reads the frames only
  c.video_batch = 0;
  c.pretrain_samples = 10;  // 3 steps of 4 rows
  c.steps = 2;
  c.val_every = 5;
  c.checkpoint_every = 5;
  const train::TrainSummary s = train::Train(c);
  REQUIRE(s.steps == 5);
  REQUIRE(s.pretrain_steps == 3);
  REQUIRE(s.robot_samples == 2 * 4);
  REQUIRE(s.video_samples == 3 * 4);
  const json training = ReadJsonFile(c.out + "/config.json").at("training");
  REQUIRE(training.at("pretrain_steps") == 3);
  REQUIRE(training.at("pretrain_samples") == 12);
  REQUIRE(training.at("robot_samples") == 8);
  REQUIRE(training.at("total_steps") == 5);
  // The snapshot is half of the fine-tuning, named by the action-supervised samples it saw.
  REQUIRE(std::filesystem::exists(c.out + "/samples_4/model.pt"));
  // A resumed run must keep the stage it began with.
  c.resume = true;
  c.steps = 4;
  c.pretrain_samples = 20;
  REQUIRE_THROWS_WITH(train::Train(c), Contains("video pre-training steps"));
  c.resume = false;
  c.out = dir.str() + "/other";
  c.video.clear();
  REQUIRE_THROWS_WITH(train::Train(c), Contains("--pretrain-samples needs --video"));
}

}  // namespace
}  // namespace padbench
