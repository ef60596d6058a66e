// Shared LibTorch building blocks of padbench's learned policies: image and text encoders,
// augmentation, normalisers, EMA, timestep embeddings and the conditional 1-D U-Net.
// Included only by policy implementation files (it pulls in torch).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/script.h>
#include <torch/torch.h>

namespace padbench::nn {

// ---- vision ----

// Expected (x, y) image coordinates in [-1, 1] of each channel's softmax: [B,C,H,W] -> [B,2C].
torch::Tensor SpatialSoftmax(const torch::Tensor& features);

struct ResNetEncoderConfig {
  std::vector<int64_t> channels{32, 64, 128};  // one residual stage each, stride 2 after the first
  int64_t groups = 8;                          // GroupNorm groups (BatchNorm breaks EMA and small batches)
  int64_t keypoints = 32;                      // spatial-softmax keypoints
  int64_t out_dim = 64;
};

// A small ResNet with GroupNorm and spatial-softmax pooling (as in Diffusion Policy):
// uint8-range float images [B,3,H,W] scaled to [0,1] -> features [B,out_dim].
class ResNetEncoderImpl : public torch::nn::Module {
 public:
  explicit ResNetEncoderImpl(const ResNetEncoderConfig& config = {});
  torch::Tensor forward(const torch::Tensor& images);

 private:
  torch::nn::Sequential stem_{nullptr}, stages_{nullptr};
  torch::nn::Conv2d keypoints_{nullptr};
  torch::nn::Linear out_{nullptr};
};
TORCH_MODULE(ResNetEncoder);

// Random-shift augmentation (DrQ): pad by `pad` pixels (edge replication) and crop back at a
// random offset per image. images: [B,C,H,W] float.
torch::Tensor RandomShift(const torch::Tensor& images, int64_t pad, torch::Generator& generator);

// ---- language ----

// Lower-cased words of a sentence (letters and digits; everything else separates).
std::vector<std::string> Words(const std::string& sentence);

// Word -> id; id 0 pads, id 1 is the unknown word. Stored in the checkpoint.
class Vocabulary {
 public:
  static constexpr int64_t kPad = 0, kUnknown = 1;
  Vocabulary() = default;
  // All words of `sentences`, sorted (so a vocabulary does not depend on sentence order).
  static Vocabulary Build(const std::vector<std::string>& sentences);
  static Vocabulary FromJson(const nlohmann::json& words);
  nlohmann::json ToJson() const;
  int64_t size() const { return int64_t(words_.size()) + 2; }
  // Token ids padded (or cut) to `length`.
  std::vector<int64_t> Encode(const std::string& sentence, int64_t length) const;
  // The ids of a batch of sentences as a [B, length] tensor (what TextEncoder reads).
  torch::Tensor EncodeBatch(const std::vector<std::string>& sentences, int64_t length) const;

 private:
  std::vector<std::string> words_;  // ids 2.. in order
  std::map<std::string, int64_t> ids_;
};

// Learned word embeddings, mean-pooled over the non-padding tokens: ids [B,L] -> [B,dim].
class TextEncoderImpl : public torch::nn::Module {
 public:
  TextEncoderImpl(int64_t vocabulary_size, int64_t dim);
  torch::Tensor forward(const torch::Tensor& ids);

 private:
  torch::nn::Embedding embedding_{nullptr};
};
TORCH_MODULE(TextEncoder);

// A frozen TorchScript text encoder (e.g. CLIP exported from Python): forward(str) -> [1, D] or [D].
class ScriptTextEncoder {
 public:
  explicit ScriptTextEncoder(const std::string& path);
  torch::Tensor Encode(const std::string& sentence);  // [1, D]
  int64_t dim() const { return dim_; }

 private:
  torch::jit::Module module_;
  int64_t dim_ = 0;
};

// ---- data ----

// Min-max normaliser to [-1, 1] per feature; statistics are saved in the checkpoint.
struct Normalizer {
  std::vector<float> low, high;
  static Normalizer Fit(const torch::Tensor& data);  // data [N, D]
  static Normalizer FromJson(const nlohmann::json& j);
  nlohmann::json ToJson() const;
  torch::Tensor Normalize(const torch::Tensor& x) const;    // [..., D]
  torch::Tensor Unnormalize(const torch::Tensor& x) const;  // [..., D]
};

// Exponential moving average of a module's parameters, with the warm-up of Diffusion Policy
// (decay grows as 1 - (1 + step / inv_gamma)^-power, capped at max_decay).
class Ema {
 public:
  Ema(const torch::nn::Module& model, double max_decay = 0.9999, double power = 0.75);
  void Update(const torch::nn::Module& model);
  // Copies the averaged weights into `target` (a module of the same architecture).
  void CopyTo(torch::nn::Module& target) const;
  int64_t steps() const { return steps_; }
  std::vector<torch::Tensor>& shadow() { return shadow_; }
  void set_steps(int64_t steps) { steps_ = steps; }

 private:
  double max_decay_, power_;
  int64_t steps_ = 0;
  std::vector<torch::Tensor> shadow_;
};

// ---- diffusion networks ----

// Sinusoidal embedding of diffusion timesteps: t [B] -> [B, dim].
torch::Tensor SinusoidalEmbedding(const torch::Tensor& t, int64_t dim);

struct UNet1dConfig {
  int64_t input_dim = 4;                  // action dimension
  int64_t cond_dim = 0;                   // global conditioning features
  int64_t step_embed_dim = 128;
  std::vector<int64_t> down_dims{64, 128, 256};
  int64_t kernel = 5;
  int64_t groups = 8;
};

// Conditional 1-D temporal U-Net with FiLM (Diffusion Policy's ConditionalUnet1D):
// x [B,T,input_dim], t [B], cond [B,cond_dim] -> predicted noise [B,T,input_dim].
class UNet1dImpl : public torch::nn::Module {
 public:
  explicit UNet1dImpl(const UNet1dConfig& config);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& cond);

  // forward in two halves, for sampling: Films computes every residual block's FiLM scale and
  // bias from (t, cond) for R rows at once, [R, 2 * channels] per block (one product per block
  // for every DDIM step of an Act instead of one per step); Denoise runs the network on x
  // [B,T,input_dim] with the films of rows [first, first + B).
  std::vector<torch::Tensor> Films(const torch::Tensor& t, const torch::Tensor& cond);
  torch::Tensor Denoise(const torch::Tensor& x, const std::vector<torch::Tensor>& films, int64_t first = 0);
  const UNet1dConfig& config() const { return config_; }

 private:
  UNet1dConfig config_;
  torch::nn::Sequential step_mlp_{nullptr};
  torch::nn::ModuleList down_{nullptr}, mid_{nullptr}, up_{nullptr};
  torch::nn::Sequential final_{nullptr};
};
TORCH_MODULE(UNet1d);

// ---- parameters on disk ----

// Saves named parameters and buffers with torch::save's archive format.
void SaveParameters(const torch::nn::Module& module, const std::string& path);
// Loads them back, checking every name and shape; errors name what is missing,
// unexpected or mis-shaped (and the file).
void LoadParameters(torch::nn::Module& module, const std::string& path);

}  // namespace padbench::nn
