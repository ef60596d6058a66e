// GR-1 as a padbench policy family (spec `gr1=<checkpoint dir>`): one transformer pass per Act.
#include <chrono>
#include <deque>
#include <tuple>

#include <fmt/format.h>

#include "policies/family.h"
#include "policies/gr1/model.h"
#include "policies/learned.h"
#include "policies/nn/io.h"
#include "sim/assets.h"
#include "sim/error.h"

namespace padbench {
namespace {

class Gr1Policy final : public Policy {
 public:
  explicit Gr1Policy(gr1::Model model) : model_(std::move(model)) { model_->eval(); }

  std::string_view Name() const override { return gr1::kName; }
  PolicyInputs Inputs() const override {
    PolicyInputs in;
    in.cameras = {camera()};
    in.image_size = int(model_->config().autoencoder_config.image_size);
    return in;
  }
  void Reset(const EpisodeInfo& episode) override {
    instruction_ = episode.instruction;
    history_.clear();
  }
  void Observe(const Observation& obs) override {
    Step s;
    s.step = obs.step;
    s.image = nn::ImageTensor(obs, camera(), int(model_->config().autoencoder_config.image_size), gr1::kName).clone();
    s.proprio = nn::ProprioTensor(obs);
    history_.push_back(std::move(s));
    while (int(history_.size()) > model_->config().history) history_.pop_front();
  }

  PolicyOutput Act(const Observation& obs) override { return std::move(ActBatch({this}, {&obs})[0]); }

  // Each row encodes its own new frames (as one Act does); the transformer and the frame decoder
  // take the batch.
  std::vector<PolicyOutput> ActBatch(const std::vector<Policy*>& rows,
                                     const std::vector<const Observation*>& obs) override {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const std::vector<Gr1Policy*> batch = nn::BatchRows<Gr1Policy>(rows, gr1::kName);
    torch::NoGradGuard no_grad;
    const size_t n = rows.size();
    std::vector<torch::Tensor> tokens(n), proprio(n), padding(n);
    std::vector<std::string> instructions(n);
    for (size_t i = 0; i < n; ++i) {
      if (Gr1Policy* p = batch[i]) {
        std::tie(tokens[i], proprio[i], padding[i]) = p->Window(*obs[i]);
        instructions[i] = p->instruction_;
      }
    }
    nn::FillPaddingRows(batch, instructions);
    const auto encoded = Clock::now();
    const gr1::Config& c = model_->config();
    const gr1::Prediction p =
        model_->PredictBatch(nn::StackRows(tokens), nn::StackRows(proprio), nn::StackRows(padding), instructions);
    const auto end = Clock::now();
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    std::vector<PolicyOutput> outputs(n);
    for (size_t i = 0; i < n; ++i) {
      if (!batch[i]) continue;
      outputs[i].actions = nn::ToActions(p.actions[int64_t(i)], 0, c.execute);
      outputs[i].predicted = nn::ToPredictedFrames(nn::ToUint8Hwc(p.frame.slice(0, int64_t(i), int64_t(i) + 1)),
                                                   {c.future_offset});
      outputs[i].timings_ms = {{"encode", ms(start, encoded)},
                               {"predict", ms(encoded, end)},  // the transformer and decoding the frame
                               {"total", ms(start, end)}};
    }
    return outputs;
  }

 private:
  // The window ending at `obs` as a batch of one: image tokens [1,H,R,width] (encoding the frames
  // not yet encoded: a frame's tokens do not depend on its place in the window), raw proprio
  // [1,H,4] and padding [1,H] (the steps before the episode's start: masked, values unused).
  std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> Window(const Observation& obs) {
    if (history_.empty() || history_.back().step != obs.step) Observe(obs);
    std::vector<torch::Tensor> fresh;
    for (const Step& s : history_)
      if (!s.tokens.defined()) fresh.push_back(s.image);
    if (!fresh.empty()) {
      const auto tokens = model_->ImageTokens(model_->Standardize(model_->EncodeLatents(torch::stack(fresh))));
      int64_t i = 0;
      for (Step& s : history_) {
        if (s.tokens.defined()) continue;
        s.tokens = tokens[i++];
        s.image = torch::Tensor();
      }
    }
    const int64_t h = model_->config().history, real = int64_t(history_.size()), pad = h - real;
    const auto& first = history_.front().tokens;
    std::vector<torch::Tensor> tokens(size_t(pad), torch::zeros_like(first)), proprio(size_t(pad), torch::zeros({4}));
    for (const Step& s : history_) {
      tokens.push_back(s.tokens);
      proprio.push_back(s.proprio);
    }
    auto padding = torch::zeros({1, h}, torch::kBool);
    padding.slice(1, 0, pad).fill_(true);
    return {torch::stack(tokens).unsqueeze(0), torch::stack(proprio).unsqueeze(0), padding};
  }

  // One observed step: the image until it is encoded, then its tokens [R, width].
  struct Step {
    int step = 0;
    torch::Tensor image, proprio, tokens;
  };

  std::string camera() const { return model_->config().autoencoder_config.camera; }

  gr1::Model model_;
  std::string instruction_;
  std::deque<Step> history_;
};

std::unique_ptr<train::Trainable> MakeGr1(const nlohmann::json& overrides, const train::DemoData& data) {
  gr1::Config config = gr1::Config::FromJson(overrides);
  if (config.autoencoder.empty()) config.autoencoder = AssetDir() + "/checkpoints/autoencoder";
  nn::Autoencoder autoencoder = nn::LoadAutoencoder(config.autoencoder);
  config.autoencoder_config = autoencoder->config();
  gr1::Config::FromJson(config.ToJson());  // validates the patch against the autoencoder's latent
  train::CheckImageSize(data, int(config.autoencoder_config.image_size));
  config.latent_scale = 1.0 / train::SampleLatents(*autoencoder, data).std().item<double>();
  return train::MakeModelTrainable(gr1::Model(config, std::move(autoencoder), nn::Normalizer::Fit(data.AllProprio()),
                                              nn::Normalizer::Fit(data.AllActions()), train::TrainingVocabulary(data)));
}

}  // namespace

Family Gr1Family() {
  FamilyTrainer trainer;
  trainer.make = MakeGr1;
  trainer.from_checkpoint = [](const nlohmann::json& checkpoint) {
    return train::MakeModelTrainable(gr1::ModelFromCheckpoint(checkpoint));
  };
  trainer.tiny_config = R"({"width": 32, "depth": 1, "heads": 2, "history": 3, "action_chunk": 2, "image_tokens": 2,
                            "obs_queries": 2, "decoder_width": 16, "text_dim": 8})";
  Family f;
  f.name = gr1::kName;
  f.help = "GR-1: a causal transformer over the observation history predicting actions and a future frame, "
           "from a checkpoint folder";
  f.takes_path = true;
  f.make = [](const std::string& dir) {
    return std::make_unique<Gr1Policy>(LoadCheckpoint(dir, gr1::kName, gr1::ModelFromCheckpoint));
  };
  f.trainer = std::move(trainer);
  return f;
}

}  // namespace padbench
