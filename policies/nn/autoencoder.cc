#include "policies/nn/autoencoder.h"

#include <fmt/format.h>

#include "policies/checkpoint.h"
#include "policies/nn/layers.h"
#include "sim/error.h"

namespace padbench::nn {

namespace {

// config.json's keys, once (see WriteFields / ReadFields).
constexpr auto kFields = [](auto& c, auto&& field) {
  field("channels", c.channels);
  field("latent_channels", c.latent_channels);
  field("image_size", c.image_size);
  field("camera", c.camera);
};

}  // namespace

nlohmann::json AutoencoderConfig::ToJson() const { return WriteFields(*this, kFields); }

AutoencoderConfig AutoencoderConfig::FromJson(const nlohmann::json& j) {
  AutoencoderConfig c;
  ReadFields(ConfigReader(std::string(kAutoencoderName), j, c.ToJson()), c, kFields);
  if (c.channels.empty() || c.latent_channels < 1 || c.image_size % (1 << c.channels.size()) != 0) {
    throw Error(fmt::format("autoencoder config: image_size {} must be divisible by 2^{} (one per channel stage)",
                            c.image_size, c.channels.size()));
  }
  return c;
}

namespace {

torch::nn::Conv2d Conv(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding((kernel - stride + 1) / 2));
}

}  // namespace

AutoencoderImpl::AutoencoderImpl(const AutoencoderConfig& config) : config_(config) {
  // Each stage: a stride-2 4x4 convolution, then a 3x3 one; SiLU between. No normalisation
  // layers, so encoding is a fixed function of one image (batch-independent).
  encoder_ = torch::nn::Sequential();
  int64_t in = 3;
  for (int64_t ch : config.channels) {
    encoder_->push_back(Conv(in, ch, 4, 2));
    encoder_->push_back(torch::nn::SiLU());
    encoder_->push_back(Conv(ch, ch, 3));
    encoder_->push_back(torch::nn::SiLU());
    in = ch;
  }
  encoder_->push_back(Conv(in, config.latent_channels, 1));
  decoder_ = torch::nn::Sequential();
  decoder_->push_back(Conv(config.latent_channels, in, 3));
  decoder_->push_back(torch::nn::SiLU());
  for (auto it = config.channels.rbegin(); it != config.channels.rend(); ++it) {
    const int64_t out = std::next(it) == config.channels.rend() ? config.channels.front() : *std::next(it);
    decoder_->push_back(Conv(*it, *it, 3));
    decoder_->push_back(torch::nn::SiLU());
    decoder_->push_back(torch::nn::Upsample(
        torch::nn::UpsampleOptions().scale_factor(std::vector<double>{2.0, 2.0}).mode(torch::kNearest)));
    decoder_->push_back(Conv(*it, out, 3));
    decoder_->push_back(torch::nn::SiLU());
  }
  decoder_->push_back(Conv(config.channels.front(), 3, 3));
  register_module("encoder", encoder_);
  register_module("decoder", decoder_);
}

torch::Tensor AutoencoderImpl::Encode(const torch::Tensor& images) {
  return encoder_->forward(images.to(torch::kFloat) / 127.5 - 1.0);
}

torch::Tensor AutoencoderImpl::Decode(const torch::Tensor& latents) { return decoder_->forward(latents); }

torch::Tensor AutoencoderImpl::Loss(const torch::Tensor& images) {
  const auto target = images.to(torch::kFloat) / 127.5 - 1.0;
  return torch::mse_loss(Decode(Encode(images)), target);
}

torch::Tensor ToUint8Hwc(const torch::Tensor& images) {
  return ((images.clamp(-1.0, 1.0) + 1.0) * 127.5).round().to(torch::kUInt8).permute({0, 2, 3, 1}).contiguous();
}

Autoencoder LoadAutoencoder(const std::string& dir) {
  const nlohmann::json checkpoint = ReadCheckpointConfig(dir, std::string(kAutoencoderName));
  if (!checkpoint.contains("config")) throw Error(fmt::format("{}/config.json has no 'config'", dir));
  Autoencoder model(AutoencoderConfig::FromJson(checkpoint.at("config")));
  LoadParameters(*model, dir + "/model.pt");
  model->eval();
  return model;
}

}  // namespace padbench::nn
