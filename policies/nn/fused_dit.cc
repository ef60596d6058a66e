#include "policies/nn/fused_dit.h"

#include <ATen/record_function.h>
#include <cblas.h>

#include <algorithm>
#include <cmath>

#include "sim/error.h"

namespace padbench::nn {
namespace {

std::vector<float> Copy(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// y [m, out] = x [m, in] W^T + b, with W [out, in] as torch stores it.
void Linear(const float* x, int64_t m, int64_t in, const std::vector<float>& w, const std::vector<float>& b,
            float* y) {
  const int64_t out = int64_t(b.size());
  for (int64_t i = 0; i < m; ++i) std::copy(b.begin(), b.end(), y + i * out);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(m), int(out), int(in), 1.0f, x, int(in), w.data(),
              int(in), 1.0f, y, int(out));
}

// h = LayerNorm(x) * (1 + scale) + shift over rows of `width` (eps 1e-6, no affine part).
void NormModulate(const float* x, int64_t rows, int64_t width, const float* shift, const float* scale, float* h) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * width;
    float mean = 0;
    for (int64_t i = 0; i < width; ++i) mean += xr[i];
    mean /= float(width);
    float var = 0;
    for (int64_t i = 0; i < width; ++i) var += (xr[i] - mean) * (xr[i] - mean);
    const float rstd = 1.0f / std::sqrt(var / float(width) + 1e-6f);
    float* hr = h + r * width;
    for (int64_t i = 0; i < width; ++i) hr[i] = (xr[i] - mean) * rstd * (1.0f + scale[i]) + shift[i];
  }
}

}  // namespace

FusedDiTBlocks::FusedDiTBlocks(const torch::nn::ModuleList& blocks, int64_t width, int64_t heads)
    : width_(width), heads_(heads), hidden_(0) {
  for (const auto& module : *blocks) {
    const auto params = module->named_parameters();
    auto get = [&](const std::string& name) {
      PADBENCH_CHECK(params.contains(name), "a fused DiT block needs parameter " + name);
      return params[name];
    };
    Block b;
    b.qkv_w = Copy(torch::cat({get("attn.q.weight"), get("attn.kv.weight")}, 0));
    b.qkv_b = Copy(torch::cat({get("attn.q.bias"), get("attn.kv.bias")}, 0));
    b.out_w = Copy(get("attn.out.weight"));
    b.out_b = Copy(get("attn.out.bias"));
    b.mlp1_w = Copy(get("mlp.0.weight"));
    b.mlp1_b = Copy(get("mlp.0.bias"));
    b.mlp2_w = Copy(get("mlp.2.weight"));
    b.mlp2_b = Copy(get("mlp.2.bias"));
    hidden_ = int64_t(b.mlp1_b.size());
    blocks_.push_back(std::move(b));
    auto children = module->named_children();
    PADBENCH_CHECK(children.contains("modulation"), "a fused DiT block needs adaLN modulation");
    modulation_.push_back(std::dynamic_pointer_cast<torch::nn::SequentialImpl>(children["modulation"]));
    PADBENCH_CHECK(modulation_.back() && get("modulation.1.bias").numel() == 6 * width,
                   "a fused DiT block needs adaLN-Zero's six modulation chunks");
  }
}

torch::Tensor FusedDiTBlocks::Modulations(const torch::Tensor& cond) const {
  std::vector<torch::Tensor> mods;
  for (auto m : modulation_) mods.push_back(m->forward(cond));
  return torch::stack(mods, 1).contiguous();  // [R, depth, 6w]
}

void FusedDiTBlocks::Forward(float* x, int64_t batch, int64_t n, const float* const* mod) {
  RECORD_USER_SCOPE("padbench::FusedDiTBlocks");  // one row of `padbench perf --policies`' profile
  const int64_t w = width_, rows = batch * n, d = w / heads_;
  h_.resize(size_t(rows * w));
  qkv_.resize(size_t(rows * 3 * w));
  y_.resize(size_t(rows * w));
  mlp_.resize(size_t(rows * hidden_));
  scores_.resize(size_t(n * n));
  const float scale = 1.0f / std::sqrt(float(d));
  for (size_t l = 0; l < blocks_.size(); ++l) {
    const Block& blk = blocks_[l];
    // Attention half: h = modulate(norm1(x)); x += gate1 * out(attention(h)).
    for (int64_t b = 0; b < batch; ++b) {
      const float* m = mod[b] + l * 6 * w;
      NormModulate(x + b * n * w, n, w, m, m + w, h_.data() + b * n * w);
    }
    Linear(h_.data(), rows, w, blk.qkv_w, blk.qkv_b, qkv_.data());
    for (int64_t b = 0; b < batch; ++b) {
      const float* q = qkv_.data() + b * n * 3 * w;
      for (int64_t head = 0; head < heads_; ++head) {
        const float* qh = q + head * d;
        const float* kh = q + w + head * d;
        const float* vh = q + 2 * w + head * d;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(n), int(n), int(d), scale, qh, int(3 * w), kh,
                    int(3 * w), 0.0f, scores_.data(), int(n));
        for (int64_t i = 0; i < n; ++i) {  // softmax over keys
          float* s = scores_.data() + i * n;
          const float top = *std::max_element(s, s + n);
          float sum = 0;
          for (int64_t j = 0; j < n; ++j) sum += (s[j] = std::exp(s[j] - top));
          for (int64_t j = 0; j < n; ++j) s[j] /= sum;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(n), int(d), int(n), 1.0f, scores_.data(), int(n),
                    vh, int(3 * w), 0.0f, y_.data() + b * n * w + head * d, int(w));
      }
    }
    Linear(y_.data(), rows, w, blk.out_w, blk.out_b, h_.data());
    for (int64_t b = 0; b < batch; ++b) {
      const float* gate = mod[b] + l * 6 * w + 2 * w;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t c = 0; c < w; ++c) x[(b * n + i) * w + c] += gate[c] * h_[size_t((b * n + i) * w + c)];
    }
    // MLP half: h = modulate(norm2(x)); x += gate2 * mlp(h).
    for (int64_t b = 0; b < batch; ++b) {
      const float* m = mod[b] + l * 6 * w + 3 * w;
      NormModulate(x + b * n * w, n, w, m, m + w, h_.data() + b * n * w);
    }
    Linear(h_.data(), rows, w, blk.mlp1_w, blk.mlp1_b, mlp_.data());
    // LibTorch's own GELU kernel (vectorised erf), in place on the buffer: one call per block.
    at::Tensor hidden = torch::from_blob(mlp_.data(), {rows * hidden_});
    at::gelu_(hidden);
    Linear(mlp_.data(), rows, hidden_, blk.mlp2_w, blk.mlp2_b, h_.data());
    for (int64_t b = 0; b < batch; ++b) {
      const float* gate = mod[b] + l * 6 * w + 5 * w;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t c = 0; c < w; ++c) x[(b * n + i) * w + c] += gate[c] * h_[size_t((b * n + i) * w + c)];
    }
  }
}

}  // namespace padbench::nn
