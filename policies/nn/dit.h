// Diffusion Transformer blocks (Peebles & Xie 2023), the backbone PAD builds on: patch
// embedding, timestep embedding, and transformer blocks with the DiT paper's four
// conditioning strategies. Internal to policies/ (pulls in torch).
#pragma once

#include <string>

#include <torch/torch.h>

namespace padbench::nn {

enum class Conditioning { kAdaLnZero, kAdaLn, kCrossAttention, kInContext };
Conditioning ParseConditioning(const std::string& name);  // adaln_zero | adaln | cross_attention | in_context
std::string ConditioningName(Conditioning c);

// Non-overlapping patches to tokens: [B,C,H,W] -> [B, (H/p)(W/p), width].
class PatchEmbedImpl : public torch::nn::Module {
 public:
  PatchEmbedImpl(int64_t channels, int64_t width, int64_t patch);
  torch::Tensor forward(const torch::Tensor& x);
  const torch::nn::Conv2d& proj() const { return proj_; }

 private:
  torch::nn::Conv2d proj_{nullptr};
};
TORCH_MODULE(PatchEmbed);

// A linear layer with zero weights and bias (DiT's output heads and adaLN-Zero modulation).
torch::nn::Linear ZeroLinear(int64_t in, int64_t out);

// PatchEmbed's inverse for a head's output: tokens [B, g*g, p*p*C] -> [B, C, g*p, g*p].
torch::Tensor Unpatchify(const torch::Tensor& tokens, int64_t grid, int64_t patch, int64_t channels);

// Diffusion timestep -> [B, width] (sinusoidal features through an MLP).
class TimestepEmbedImpl : public torch::nn::Module {
 public:
  explicit TimestepEmbedImpl(int64_t width, int64_t frequencies = 256);
  torch::Tensor forward(const torch::Tensor& t);

 private:
  int64_t frequencies_;
  torch::nn::Sequential mlp_{nullptr};
};
TORCH_MODULE(TimestepEmbed);

// Multi-head attention; `key_mask` is true where a key must be ignored: [B, Nk] for every
// query (padding, action tokens of action-free video), or [B, Nq, Nk] per query.
class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(int64_t width, int64_t heads);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context, const torch::Tensor& key_mask = {});

 private:
  int64_t heads_;
  torch::nn::Linear q_{nullptr}, kv_{nullptr}, out_{nullptr};
};
TORCH_MODULE(Attention);

// One DiT block. `cond` is [B, width] (timestep + instruction) for the adaLN variants and
// [B, M, width] context tokens for cross-attention; in-context conditioning prepends the
// tokens to `x` before the first block, so its blocks ignore `cond`.
class DiTBlockImpl : public torch::nn::Module {
 public:
  DiTBlockImpl(int64_t width, int64_t heads, Conditioning conditioning, double mlp_ratio = 4.0);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cond, const torch::Tensor& key_mask = {});

 private:
  Conditioning conditioning_;
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr}, norm_cross_{nullptr};
  Attention attn_{nullptr}, cross_{nullptr};
  torch::nn::Sequential mlp_{nullptr}, modulation_{nullptr};
};
TORCH_MODULE(DiTBlock);

}  // namespace padbench::nn
