// The latent autoencoder shared by every policy that predicts images (PAD now; the two-stage
// image-goal and GR-1-style policies next): 64x64x3 frames <-> 8x8x4 latents.
//
// A plain (deterministic) convolutional autoencoder, not a KL-regularised VAE: with a frozen
// encoder and a fixed latent scale the diffusion models see a stationary, unit-variance target,
// which is all the KL term buys Stable Diffusion's VAE, and a plain one trains in minutes on
// two CPU cores. The scale is not part of the autoencoder: each diffusion model fits
// 1/std of the latents on its training data and stores it in its own config.
// Internal to policies/ (pulls in torch).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace padbench::nn {

// config.json's "policy" of an autoencoder checkpoint.
inline constexpr std::string_view kAutoencoderName = "autoencoder";

struct AutoencoderConfig {
  std::vector<int64_t> channels{16, 32, 64};  // one stride-2 stage each: 64 -> 32 -> 16 -> 8
  int64_t latent_channels = 4;
  int image_size = 64;
  std::string camera = "corner";

  int64_t latent_size() const { return image_size >> channels.size(); }
  nlohmann::json ToJson() const;
  static AutoencoderConfig FromJson(const nlohmann::json& j);  // unknown keys are errors
};

class AutoencoderImpl : public torch::nn::Module {
 public:
  explicit AutoencoderImpl(const AutoencoderConfig& config = {});
  // uint8-range images [N,3,H,W] (any dtype) -> latents [N,C,h,w].
  torch::Tensor Encode(const torch::Tensor& images);
  // Latents -> images in [-1, 1] [N,3,H,W].
  torch::Tensor Decode(const torch::Tensor& latents);
  // Reconstruction loss (MSE in [-1, 1]) of a uint8 image batch.
  torch::Tensor Loss(const torch::Tensor& images);
  const AutoencoderConfig& config() const { return config_; }

 private:
  AutoencoderConfig config_;
  torch::nn::Sequential encoder_{nullptr}, decoder_{nullptr};
};
TORCH_MODULE(Autoencoder);

// [-1, 1] float images [N,3,H,W] -> uint8 [N,H,W,3] (rounded, clamped), for Image buffers.
torch::Tensor ToUint8Hwc(const torch::Tensor& images);

// Loads an autoencoder checkpoint folder (config.json with policy "autoencoder", model.pt).
Autoencoder LoadAutoencoder(const std::string& dir);

}  // namespace padbench::nn
