// DiT blocks (the backbone PAD will use): identity at initialisation, masking, conditioning variants.
#include <catch2/catch.hpp>

#include "policies/nn/dit.h"
#include "policies/nn/fused_dit.h"
#include "sim/error.h"

namespace padbench::nn {
namespace {

TEST_CASE("dit: an adaLN-Zero block is the identity at initialisation", "[dit]") {
  torch::manual_seed(0);
  DiTBlock block(32, 4, Conditioning::kAdaLnZero);
  auto x = torch::randn({2, 10, 32}), c = torch::randn({2, 32});
  REQUIRE(torch::equal(block(x, c), x));
  // The plain adaLN block is not (its modulation is not zeroed).
  DiTBlock adaln(32, 4, Conditioning::kAdaLn);
  REQUIRE_FALSE(torch::allclose(adaln(x, c), x));
}

TEST_CASE("dit: the fused adaLN-Zero blocks give the blocks' outputs within float rounding", "[dit]") {
  torch::manual_seed(2);
  torch::nn::ModuleList blocks;
  for (int i = 0; i < 3; ++i) blocks->push_back(DiTBlock(32, 4, Conditioning::kAdaLnZero));
  {
    torch::NoGradGuard no_grad;
    for (auto& p : blocks->parameters()) p.add_(0.1 * torch::randn(p.sizes()));
  }
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({2, 7, 32}), cond = torch::randn({2, 32});
  auto expected = x;
  for (const auto& block : *blocks) expected = block->as<DiTBlock>()->forward(expected, cond);
  FusedDiTBlocks fused(blocks, 32, 4);
  const auto mod = fused.Modulations(cond);
  REQUIRE(mod.sizes() == torch::IntArrayRef({2, 3, 6 * 32}));
  auto got = x.clone();
  const float* rows[] = {mod[0].data_ptr<float>(), mod[1].data_ptr<float>()};
  fused.Forward(got.data_ptr<float>(), 2, 7, rows);
  REQUIRE((got - expected).abs().max().item<double>() < 1e-5);
  REQUIRE((expected - x).abs().max().item<double>() > 0.1);  // the blocks did something
}

TEST_CASE("dit: masked tokens have no influence on the others", "[dit]") {
  torch::manual_seed(1);
  for (Conditioning mode : {Conditioning::kAdaLnZero, Conditioning::kAdaLn, Conditioning::kCrossAttention,
                            Conditioning::kInContext}) {
    INFO(ConditioningName(mode));
    DiTBlock block(32, 4, mode);
    // Give adaLN-Zero's modulation weights, or the block would pass tokens through untouched.
    {
      torch::NoGradGuard no_grad;
      for (auto& p : block->parameters()) p.add_(0.05 * torch::randn(p.sizes()));
    }
    auto x = torch::randn({1, 8, 32});
    auto c = mode == Conditioning::kCrossAttention ? torch::randn({1, 3, 32}) : torch::randn({1, 32});
    auto mask = torch::zeros({1, 8}, torch::kBool);
    mask.index_put_({0, torch::indexing::Slice(5, 8)}, true);  // tokens 5..7 are padding
    auto y = block(x, c, mask);
    auto x2 = x.clone();
    x2.index_put_({0, torch::indexing::Slice(5, 8)}, torch::randn({3, 32}) * 10);
    auto y2 = block(x2, c, mask);
    using torch::indexing::Slice;
    REQUIRE(torch::allclose(y.index({0, Slice(0, 5)}), y2.index({0, Slice(0, 5)}), 1e-5, 1e-6));
    REQUIRE_FALSE(torch::allclose(y.index({0, Slice(5, 8)}), y2.index({0, Slice(5, 8)})));
  }
}

TEST_CASE("dit: patch and timestep embeddings have the documented shapes", "[dit]") {
  PatchEmbed patches(16, 64, 2);  // 3 + 3 x 4 latent channels of PAD's 8x8x4 latents
  REQUIRE(patches(torch::randn({2, 16, 8, 8})).sizes() == torch::IntArrayRef({2, 16, 64}));
  TimestepEmbed t(64);
  REQUIRE(t(torch::tensor({0, 99}, torch::kLong)).sizes() == torch::IntArrayRef({2, 64}));
  REQUIRE_THROWS_AS(ParseConditioning("film"), Error);
  REQUIRE(ParseConditioning("cross_attention") == Conditioning::kCrossAttention);
}

}  // namespace
}  // namespace padbench::nn
