#include "policies/nn/fused_unet.h"

#include <ATen/record_function.h>
#include <cblas.h>

#include <cmath>
#include <string>

#include "sim/error.h"

namespace padbench::nn {
namespace {

std::vector<float> Floats(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

}  // namespace

FusedUNet1d::FusedUNet1d(UNet1dImpl& unet) : config_(unet.config()) {
  const auto params = unet.named_parameters();
  auto get = [&](const std::string& name) {
    PADBENCH_CHECK(params.contains(name), "a fused U-Net needs parameter " + name);
    return params[name].detach();
  };
  auto conv = [&](const std::string& prefix, int64_t stride, int64_t pad) {
    Conv c;
    const torch::Tensor w = get(prefix + ".weight");  // [out, in, k]
    c.out = w.size(0), c.in = w.size(1), c.k = w.size(2), c.stride = stride, c.pad = pad;
    c.w = Floats(w.reshape({c.out, c.in * c.k}));
    c.b = Floats(get(prefix + ".bias"));
    return c;
  };
  auto transposed = [&](const std::string& prefix) {
    Conv c;
    const torch::Tensor w = get(prefix + ".weight");  // [in, out, k]
    c.in = w.size(0), c.out = w.size(1), c.k = w.size(2), c.stride = 2, c.pad = 1, c.transposed = true;
    c.w = Floats(w.permute({1, 2, 0}).reshape({c.out * c.k, c.in}));
    c.b = Floats(get(prefix + ".bias"));
    return c;
  };
  auto norm = [&](const std::string& prefix) {
    return Norm{Floats(get(prefix + ".weight")), Floats(get(prefix + ".bias")), config_.groups, 1e-5};
  };
  const int64_t pad = config_.kernel / 2;
  auto block = [&](const std::string& prefix) {
    Block b;
    b.conv1 = conv(prefix + ".block1.0", 1, pad);
    b.norm1 = norm(prefix + ".block1.1");
    b.conv2 = conv(prefix + ".block2.0", 1, pad);
    b.norm2 = norm(prefix + ".block2.1");
    b.has_skip = params.contains(prefix + ".skip.weight");
    if (b.has_skip) b.skip = conv(prefix + ".skip", 1, 0);
    return b;
  };
  const size_t levels = config_.down_dims.size();
  int index = 0;
  for (size_t i = 0; i < levels; ++i) {
    down_.push_back(block("down." + std::to_string(index++)));
    down_.push_back(block("down." + std::to_string(index++)));
    if (i + 1 < levels) downsample_.push_back(conv("down." + std::to_string(index++), 2, 1));
  }
  mid_ = {block("mid.0"), block("mid.1")};
  index = 0;
  for (size_t i = levels - 1; i >= 1; --i) {
    up_.push_back(block("up." + std::to_string(index++)));
    up_.push_back(block("up." + std::to_string(index++)));
    upsample_.push_back(transposed("up." + std::to_string(index++)));
  }
  final_conv_ = conv("final.0", 1, pad);
  final_norm_ = norm("final.1");
  final_out_ = conv("final.3", 1, 0);
}

void FusedUNet1d::Apply(const Conv& c, const float* x, int64_t t, float* y, int64_t* t_out) {
  if (c.transposed) {
    // z [(out, j), s] = sum_c W[c, out, j] x[c, s]; y[o, s * stride + j - pad] += z.
    const int64_t n = (t - 1) * c.stride - 2 * c.pad + c.k;
    cols_.resize(size_t(c.out * c.k * t));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(c.out * c.k), int(t), int(c.in), 1.0f, c.w.data(),
                int(c.in), x, int(t), 0.0f, cols_.data(), int(t));
    for (int64_t o = 0; o < c.out; ++o) {
      float* row = y + o * n;
      for (int64_t i = 0; i < n; ++i) row[i] = c.b[size_t(o)];
      for (int64_t j = 0; j < c.k; ++j) {
        const float* z = cols_.data() + (o * c.k + j) * t;
        for (int64_t s = 0; s < t; ++s) {
          const int64_t at = s * c.stride + j - c.pad;
          if (at >= 0 && at < n) row[at] += z[s];
        }
      }
    }
    *t_out = n;
    return;
  }
  const int64_t n = (t + 2 * c.pad - c.k) / c.stride + 1;
  const float* unfolded = x;
  if (c.k != 1 || c.stride != 1 || c.pad != 0) {
    // cols [(c, j), n] = x[c, i * stride + j - pad] (zero outside).
    cols_.resize(size_t(c.in * c.k * n));
    for (int64_t ch = 0; ch < c.in; ++ch)
      for (int64_t j = 0; j < c.k; ++j) {
        float* row = cols_.data() + (ch * c.k + j) * n;
        for (int64_t i = 0; i < n; ++i) {
          const int64_t at = i * c.stride + j - c.pad;
          row[i] = at >= 0 && at < t ? x[ch * t + at] : 0.0f;
        }
      }
    unfolded = cols_.data();
  }
  for (int64_t o = 0; o < c.out; ++o)
    for (int64_t i = 0; i < n; ++i) y[o * n + i] = c.b[size_t(o)];
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(c.out), int(n), int(c.in * c.k), 1.0f, c.w.data(),
              int(c.in * c.k), unfolded, int(n), 1.0f, y, int(n));
  *t_out = n;
}

void FusedUNet1d::GroupNormMish(const Norm& norm, float* x, int64_t channels, int64_t t) {
  const int64_t per = channels / norm.groups, count = per * t;
  for (int64_t g = 0; g < norm.groups; ++g) {
    float* v = x + g * count;
    double mean = 0, var = 0;
    for (int64_t i = 0; i < count; ++i) mean += v[i];
    mean /= double(count);
    for (int64_t i = 0; i < count; ++i) var += (v[i] - mean) * (v[i] - mean);
    const float m = float(mean), rstd = float(1.0 / std::sqrt(var / double(count) + norm.eps));
    for (int64_t c = 0; c < per; ++c) {
      const float w = norm.w[size_t(g * per + c)] * rstd, b = norm.b[size_t(g * per + c)];
      for (int64_t i = 0; i < t; ++i) v[c * t + i] = (v[c * t + i] - m) * w + b;
    }
  }
  at::Tensor view = torch::from_blob(x, {channels * t});
  at::mish_(view);  // LibTorch's vectorised kernel, in place
}

void FusedUNet1d::Residual(const Block& block, const float* x, int64_t t, const float* film, float* y) {
  const int64_t out = block.conv1.out;
  int64_t n = 0;
  h_.resize(size_t(out * t));
  Apply(block.conv1, x, t, h_.data(), &n);
  GroupNormMish(block.norm1, h_.data(), out, t);
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < t; ++i) h_[size_t(o * t + i)] = film[out + o] + film[o] * h_[size_t(o * t + i)];
  Apply(block.conv2, h_.data(), t, y, &n);
  GroupNormMish(block.norm2, y, out, t);
  if (block.has_skip) {
    skip_.resize(size_t(out * t));
    Apply(block.skip, x, t, skip_.data(), &n);
    for (int64_t i = 0; i < out * t; ++i) y[i] += skip_[size_t(i)];
  } else {
    for (int64_t i = 0; i < out * t; ++i) y[i] += x[i];
  }
}

torch::Tensor FusedUNet1d::Denoise(const torch::Tensor& x_in, const std::vector<torch::Tensor>& films, int64_t first) {
  RECORD_USER_SCOPE("padbench::FusedUNet1d");  // one row of `padbench perf --policies`' profile
  const int64_t batch = x_in.size(0), steps = x_in.size(1), dim = x_in.size(2);
  PADBENCH_CHECK(films.size() == down_.size() + mid_.size() + up_.size(), "one film per residual block");
  const torch::Tensor input = x_in.transpose(1, 2).contiguous();  // [B, C, T]
  torch::Tensor output = torch::empty({batch, dim, steps});
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<float> x(input[b].data_ptr<float>(), input[b].data_ptr<float>() + dim * steps), y;
    int64_t channels = dim, t = steps;
    size_t f = 0;
    auto residual = [&](const Block& block) {
      const float* film = films[f].data_ptr<float>() + (first + b) * films[f].size(1);
      ++f;
      y.resize(size_t(block.conv2.out * t));
      Residual(block, x.data(), t, film, y.data());
      channels = block.conv2.out;
      std::swap(x, y);
    };
    auto apply = [&](const Conv& conv) {
      y.resize(size_t(conv.out * (t * 2 + conv.k)));  // room for an upsampled output
      int64_t n = 0;
      Apply(conv, x.data(), t, y.data(), &n);
      t = n;
      channels = conv.out;
      y.resize(size_t(channels * t));
      std::swap(x, y);
    };
    std::vector<std::vector<float>> skips;
    const size_t levels = config_.down_dims.size();
    for (size_t i = 0; i < levels; ++i) {
      residual(down_[2 * i]);
      residual(down_[2 * i + 1]);
      skips.push_back(x);
      if (i + 1 < levels) apply(downsample_[i]);
    }
    for (const Block& block : mid_) residual(block);
    for (size_t u = 0; u + 1 < levels; ++u) {
      x.insert(x.end(), skips.back().begin(), skips.back().end());  // channels first: cat is appending rows
      skips.pop_back();
      residual(up_[2 * u]);
      residual(up_[2 * u + 1]);
      apply(upsample_[u]);
    }
    apply(final_conv_);
    GroupNormMish(final_norm_, x.data(), channels, t);
    apply(final_out_);
    std::copy(x.begin(), x.end(), output[b].data_ptr<float>());
  }
  return output.transpose(1, 2);
}

}  // namespace padbench::nn
