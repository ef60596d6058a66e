#include "policies/nn/dit.h"

#include <cmath>

#include <fmt/format.h>

#include "policies/nn/layers.h"
#include "sim/error.h"

namespace padbench::nn {

Conditioning ParseConditioning(const std::string& name) {
  for (Conditioning c : {Conditioning::kAdaLnZero, Conditioning::kAdaLn, Conditioning::kCrossAttention,
                         Conditioning::kInContext}) {
    if (name == ConditioningName(c)) return c;
  }
  throw Error(fmt::format("unknown DiT conditioning '{}'; valid: adaln_zero, adaln, cross_attention, in_context", name));
}

std::string ConditioningName(Conditioning c) {
  switch (c) {
    case Conditioning::kAdaLnZero: return "adaln_zero";
    case Conditioning::kAdaLn: return "adaln";
    case Conditioning::kCrossAttention: return "cross_attention";
    case Conditioning::kInContext: return "in_context";
  }
  return "?";
}

PatchEmbedImpl::PatchEmbedImpl(int64_t channels, int64_t width, int64_t patch) {
  proj_ = register_module("proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, width, patch).stride(patch)));
}

torch::Tensor PatchEmbedImpl::forward(const torch::Tensor& x) { return proj_(x).flatten(2).transpose(1, 2); }

torch::nn::Linear ZeroLinear(int64_t in, int64_t out) {
  torch::nn::Linear linear(in, out);
  torch::NoGradGuard no_grad;
  linear->weight.zero_();
  linear->bias.zero_();
  return linear;
}

torch::Tensor Unpatchify(const torch::Tensor& tokens, int64_t grid, int64_t patch, int64_t channels) {
  return tokens.view({tokens.size(0), grid, grid, patch, patch, channels})
      .permute({0, 5, 1, 3, 2, 4})
      .reshape({tokens.size(0), channels, grid * patch, grid * patch});
}

TimestepEmbedImpl::TimestepEmbedImpl(int64_t width, int64_t frequencies) : frequencies_(frequencies) {
  mlp_ = register_module("mlp", torch::nn::Sequential(torch::nn::Linear(frequencies, width), torch::nn::SiLU(),
                                                       torch::nn::Linear(width, width)));
}

torch::Tensor TimestepEmbedImpl::forward(const torch::Tensor& t) {
  return mlp_->forward(SinusoidalEmbedding(t, frequencies_));
}

AttentionImpl::AttentionImpl(int64_t width, int64_t heads) : heads_(heads) {
  if (width % heads != 0) throw Error(fmt::format("DiT width {} is not divisible by {} heads", width, heads));
  q_ = register_module("q", torch::nn::Linear(width, width));
  kv_ = register_module("kv", torch::nn::Linear(width, 2 * width));
  out_ = register_module("out", torch::nn::Linear(width, width));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& context,
                                     const torch::Tensor& key_mask) {
  const int64_t b = x.size(0), n = x.size(1), m = context.size(1), w = x.size(2), d = w / heads_;
  auto q = q_(x).view({b, n, heads_, d}).transpose(1, 2);
  auto kv = kv_(context).view({b, m, 2, heads_, d}).permute({2, 0, 3, 1, 4});
  auto scores = torch::matmul(q, kv[0].transpose(-2, -1)) / std::sqrt(double(d));
  if (key_mask.defined()) {
    scores = scores.masked_fill(key_mask.dim() == 2 ? key_mask.view({b, 1, 1, m}) : key_mask.view({b, 1, n, m}), -1e9);
  }
  auto y = torch::matmul(torch::softmax(scores, -1), kv[1]);
  return out_(y.transpose(1, 2).reshape({b, n, w}));
}

DiTBlockImpl::DiTBlockImpl(int64_t width, int64_t heads, Conditioning conditioning, double mlp_ratio)
    : conditioning_(conditioning) {
  // The adaLN variants regress the norms' scale and shift, so their LayerNorms have no affine part.
  const bool adaptive = conditioning == Conditioning::kAdaLnZero || conditioning == Conditioning::kAdaLn;
  auto ln = [&](const char* name) {
    return register_module(name, torch::nn::LayerNorm(torch::nn::LayerNormOptions({width}).elementwise_affine(!adaptive).eps(1e-6)));
  };
  norm1_ = ln("norm1");
  norm2_ = ln("norm2");
  attn_ = register_module("attn", Attention(width, heads));
  const int64_t hidden = int64_t(width * mlp_ratio);
  mlp_ = register_module("mlp", torch::nn::Sequential(torch::nn::Linear(width, hidden), torch::nn::GELU(),
                                                       torch::nn::Linear(hidden, width)));
  if (adaptive) {
    const int64_t chunks = conditioning == Conditioning::kAdaLnZero ? 6 : 4;
    // adaLN-Zero: the modulation starts at zero, so every block starts as the identity.
    modulation_ = register_module(
        "modulation", torch::nn::Sequential(torch::nn::SiLU(), conditioning == Conditioning::kAdaLnZero
                                                                   ? ZeroLinear(width, chunks * width)
                                                                   : torch::nn::Linear(width, chunks * width)));
  }
  if (conditioning == Conditioning::kCrossAttention) {
    norm_cross_ = register_module("norm_cross", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width}).eps(1e-6)));
    cross_ = register_module("cross", Attention(width, heads));
  }
}

torch::Tensor DiTBlockImpl::forward(const torch::Tensor& x_in, const torch::Tensor& cond, const torch::Tensor& key_mask) {
  auto x = x_in;
  switch (conditioning_) {
    case Conditioning::kAdaLnZero:
    case Conditioning::kAdaLn: {
      auto mod = modulation_->forward(cond).unsqueeze(1);
      const bool gated = conditioning_ == Conditioning::kAdaLnZero;
      auto parts = mod.chunk(gated ? 6 : 4, -1);
      auto h = norm1_(x) * (1 + parts[1]) + parts[0];
      h = attn_(h, h, key_mask);
      x = x + (gated ? parts[2] * h : h);
      const size_t o = gated ? 3 : 2;
      h = norm2_(x) * (1 + parts[o + 1]) + parts[o];
      h = mlp_->forward(h);
      return x + (gated ? parts[o + 2] * h : h);
    }
    case Conditioning::kCrossAttention: {
      auto h = norm1_(x);
      x = x + attn_(h, h, key_mask);
      x = x + cross_(norm_cross_(x), cond);
      return x + mlp_->forward(norm2_(x));
    }
    case Conditioning::kInContext: {
      auto h = norm1_(x);
      x = x + attn_(h, h, key_mask);
      return x + mlp_->forward(norm2_(x));
    }
  }
  return x;
}

}  // namespace padbench::nn
