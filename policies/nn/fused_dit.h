// An inference-only copy of a stack of adaLN-Zero DiT blocks (dit.h), run on contiguous float
// buffers with one BLAS call per matrix product and plain loops between them: no framework
// dispatch, no temporaries, every buffer reused. At batch 1 the DiT's matrices are 33 tokens
// by 128, so in LibTorch's eager mode the ~25 operations per block, not the arithmetic, cost
// most of a forward. Same results as DiTBlock::forward up to the order of float operations
// (tests/policies/fused_dit_test.cc: within 1e-5). Internal to policies/.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "policies/nn/dit.h"

namespace padbench::nn {

class FusedDiTBlocks {
 public:
  // Copies the weights of `blocks` (DiTBlocks with adaLN-Zero conditioning, no mask: what
  // inference with every sample a robot sample runs).
  FusedDiTBlocks(const torch::nn::ModuleList& blocks, int64_t width, int64_t heads);

  // The blocks' modulation (shift, scale and gate of both halves) from `cond` [R, width]:
  // [R, depth, 6 * width]. Computed once per Act for every DDIM step at once.
  torch::Tensor Modulations(const torch::Tensor& cond) const;

  // Runs every block on x [batch, n, width] (contiguous float, in place), sample b with the
  // modulation mod[b] ([depth, 6 * width] contiguous rows).
  void Forward(float* x, int64_t batch, int64_t n, const float* const* mod);

  int64_t depth() const { return int64_t(blocks_.size()); }

 private:
  struct Block {
    std::vector<float> qkv_w, qkv_b, out_w, out_b, mlp1_w, mlp1_b, mlp2_w, mlp2_b;
  };
  std::vector<Block> blocks_;
  std::vector<torch::nn::Sequential> modulation_;  // SiLU then Linear(width, 6 width), kept in torch
  int64_t width_, heads_, hidden_;
  std::vector<float> h_, qkv_, y_, scores_, mlp_;  // scratch, grown to the largest call
};

}  // namespace padbench::nn
