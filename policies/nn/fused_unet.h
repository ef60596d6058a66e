// An inference-only copy of UNet1d (layers.h), Diffusion Policy's temporal U-Net, run on
// contiguous float buffers: every convolution one BLAS product over an unfolded input, GroupNorm,
// FiLM and the residual sums as plain loops, Mish through LibTorch's vectorised kernel in place.
// A batch-1 pass of the shipped network is about 130 LibTorch operations on [channels, 16]
// tensors; here it is one call per layer. Same results as UNet1d::Denoise up to the order of
// float operations (nn_test: within 1e-5). Internal to policies/.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "policies/nn/layers.h"

namespace padbench::nn {

class FusedUNet1d {
 public:
  // Copies the weights of `unet` (eval mode: its GroupNorms have no running statistics anyway).
  explicit FusedUNet1d(UNet1dImpl& unet);

  // UNet1d::Denoise: x [B, T, input_dim] with the films of rows [first, first + B) of `films`
  // (UNet1d::Films) -> predicted noise [B, T, input_dim].
  torch::Tensor Denoise(const torch::Tensor& x, const std::vector<torch::Tensor>& films, int64_t first = 0);

 private:
  struct Conv {  // Conv1d as [out, in * k] (ConvTranspose1d: [out * k, in]) and its bias
    std::vector<float> w, b;
    int64_t in = 0, out = 0, k = 1, stride = 1, pad = 0;
    bool transposed = false;
  };
  struct Norm {  // GroupNorm's affine part
    std::vector<float> w, b;
    int64_t groups = 1;
    double eps = 1e-5;
  };
  struct Block {  // CondResidualBlock
    Conv conv1, conv2, skip;
    Norm norm1, norm2;
    bool has_skip = false;
  };
  // y [out, T'] from x [in, T] (one sample, channels first).
  void Apply(const Conv& conv, const float* x, int64_t t, float* y, int64_t* t_out);
  void GroupNormMish(const Norm& norm, float* x, int64_t channels, int64_t t);
  // One residual block on x [in, T] -> y [out, T], with FiLM scale and bias `film` [2 * out].
  void Residual(const Block& block, const float* x, int64_t t, const float* film, float* y);

  UNet1dConfig config_;
  std::vector<Block> down_, mid_, up_;
  std::vector<Conv> downsample_, upsample_;
  Conv final_conv_, final_out_;
  Norm final_norm_;
  std::vector<float> cols_, h_, h2_, skip_;  // scratch
};

}  // namespace padbench::nn
