// Shared building blocks: noise schedules, encoders, normalisers, EMA, parameter files.
#include <cmath>

#include <catch2/catch.hpp>

#include "policies/nn/diffusion.h"
#include "policies/nn/fused_unet.h"
#include "policies/nn/layers.h"
#include "sim/error.h"
#include "tests/test_util.h"

namespace padbench::nn {
namespace {

using Catch::Matchers::Contains;

TEST_CASE("nn: forward noising matches its closed form", "[nn]") {
  for (BetaSchedule schedule : {BetaSchedule::kLinear, BetaSchedule::kSquaredCosine}) {
    NoiseScheduleConfig config;
    config.schedule = schedule;
    const NoiseSchedule s(config);
    // alpha_bar_t = prod_{i<=t} (1 - beta_i), computed independently in double precision.
    std::vector<double> betas(100);
    if (schedule == BetaSchedule::kLinear) {
      for (int i = 0; i < 100; ++i) betas[i] = 1e-4 + (0.02 - 1e-4) * i / 99.0;
    } else {
      auto f = [](double t) { return std::pow(std::cos((t + 0.008) / 1.008 * M_PI / 2), 2); };
      for (int i = 0; i < 100; ++i) betas[i] = std::min(1 - f((i + 1) / 100.0) / f(i / 100.0), 0.999);
    }
    double abar = 1;
    for (int t = 0; t < 100; ++t) {
      abar *= 1 - betas[t];
      REQUIRE(s.alphas_cumprod()[t].item<double>() == Approx(abar).epsilon(1e-9));
    }
    torch::manual_seed(0);
    auto x0 = torch::rand({3, 16, 4}) * 2 - 1, eps = torch::randn({3, 16, 4});
    auto t = torch::tensor({0, 50, 99}, torch::kLong);
    auto xt = s.AddNoise(x0, eps, t);
    for (int i = 0; i < 3; ++i) {
      const double a = s.alphas_cumprod()[t[i].item<int64_t>()].item<double>();
      auto expected = std::sqrt(a) * x0[i] + std::sqrt(1 - a) * eps[i];
      REQUIRE(torch::allclose(xt[i], expected, 1e-5, 1e-6));
    }
  }
}

TEST_CASE("nn: DDIM with every step matches the DDPM posterior mean", "[nn]") {
  NoiseScheduleConfig config;
  config.clip_sample = false;
  config.schedule = BetaSchedule::kLinear;  // small betas everywhere (the cosine one reaches 0.999 at T)
  const NoiseSchedule s(config);
  torch::manual_seed(1);
  const auto steps = s.DdimTimesteps(100);
  REQUIRE(steps.front() == 99);
  REQUIRE(steps.back() == 0);
  REQUIRE(s.DdimTimesteps(10) == std::vector<int>{90, 80, 70, 60, 50, 40, 30, 20, 10, 0});
  for (int t : {99, 60, 20, 5, 1}) {
    auto xt = torch::randn({2, 16, 4}), eps = torch::randn({2, 16, 4});
    auto ddim = s.DdimStep(xt, eps, t, t - 1).to(torch::kDouble);
    auto ddpm = s.DdpmMean(xt, eps, t).to(torch::kDouble);
    // One step apart, deterministic DDIM and the DDPM mean differ by O(beta_t).
    const double err = (ddim - ddpm).abs().max().item<double>();
    INFO("t=" << t << " max difference " << err);
    REQUIRE(err < 0.1);
  }
  // With a perfect noise prediction, DDIM from pure x_T recovers x0 exactly.
  auto x0 = torch::rand({1, 16, 4}) * 2 - 1, eps = torch::randn({1, 16, 4});
  const auto few = s.DdimTimesteps(10);
  auto x = s.AddNoise(x0, eps, torch::tensor({int64_t(few.front())}, torch::kLong));
  for (size_t i = 0; i < few.size(); ++i) x = s.DdimStep(x, eps, few[i], i + 1 < few.size() ? few[i + 1] : -1);
  REQUIRE(torch::allclose(x, x0, 1e-4, 1e-4));
  REQUIRE_THROWS_AS(s.DdimTimesteps(101), Error);
}

TEST_CASE("nn: the float DDIM step loop matches the step in tensor operations", "[nn]") {
  for (bool clip : {false, true}) {
    NoiseScheduleConfig config;
    config.clip_sample = clip;
    const NoiseSchedule s(config);
    torch::manual_seed(3);
    for (int t : {99, 50, 3, 0}) {
      INFO("clip " << clip << " t " << t);
      // Non-contiguous inputs too (the loop reads contiguous copies).
      const auto xt = torch::randn({4, 3, 16}).transpose(1, 2) * 2, eps = torch::randn({4, 16, 3});
      const auto loop = s.DdimStep(xt, eps, t, t - 10);
      const auto ops = s.DdimStep(xt.to(torch::kDouble), eps.to(torch::kDouble), t, t - 10);  // tensor path
      REQUIRE(loop.scalar_type() == torch::kFloat);
      REQUIRE(((loop.to(torch::kDouble) - ops).abs() / (1 + ops.abs())).max().item<double>() < 1e-5);
    }
  }
}

TEST_CASE("nn: spatial softmax finds a peak and the encoder and U-Net have the right shapes", "[nn]") {
  auto features = torch::full({1, 1, 9, 9}, -50.0);
  features[0][0][0][8] = 50.0;  // top-right corner: x = +1, y = -1
  auto kp = SpatialSoftmax(features);
  REQUIRE(kp[0][0].item<float>() == Approx(1.0f).margin(1e-4));
  REQUIRE(kp[0][1].item<float>() == Approx(-1.0f).margin(1e-4));
  ResNetEncoder encoder(ResNetEncoderConfig{{8, 16}, 8, 4, 12});
  REQUIRE(encoder(torch::rand({3, 3, 32, 32}) * 255).sizes() == torch::IntArrayRef({3, 12}));
  UNet1dConfig c;
  c.cond_dim = 10;
  c.down_dims = {16, 32, 64};
  UNet1d unet(c);
  auto out = unet(torch::randn({2, 16, 4}), torch::tensor({3, 70}, torch::kLong), torch::randn({2, 10}));
  REQUIRE(out.sizes() == torch::IntArrayRef({2, 16, 4}));
}

TEST_CASE("nn: the U-Net's films of many steps at once give each step's forward", "[nn]") {
  torch::manual_seed(4);
  UNet1dConfig config;
  config.cond_dim = 6;
  config.down_dims = {16, 32};
  config.step_embed_dim = 16;
  config.groups = 4;
  UNet1d unet(config);
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({2, 8, 4}), cond = torch::randn({2, 6});
  const auto t = torch::tensor({90, 90, 40, 40, 0, 0}, torch::kLong);  // three steps of a batch of 2
  const auto films = unet->Films(t, cond.repeat({3, 1}));
  for (int step = 0; step < 3; ++step) {
    const auto expected = unet(x, t.narrow(0, 2 * step, 2), cond);
    REQUIRE((unet->Denoise(x, films, 2 * step) - expected).abs().max().item<double>() < 1e-5);
  }
}

TEST_CASE("nn: the fused U-Net gives the U-Net's outputs within float rounding", "[nn]") {
  torch::manual_seed(5);
  for (const std::vector<int64_t>& dims : {std::vector<int64_t>{16, 32}, std::vector<int64_t>{8, 16, 32}}) {
    UNet1dConfig config;
    config.cond_dim = 6;
    config.down_dims = dims;
    config.step_embed_dim = 16;
    config.groups = 4;
    UNet1d unet(config);
    torch::NoGradGuard no_grad;
    for (auto& p : unet->parameters()) p.add_(0.05 * torch::randn(p.sizes()));
    const auto x = torch::randn({2, 16, 4}), cond = torch::randn({2, 6});
    const auto films = unet->Films(torch::tensor({70, 70}, torch::kLong), cond);
    const auto expected = unet->Denoise(x, films);
    FusedUNet1d fused(*unet);
    const auto got = fused.Denoise(x, films);
    REQUIRE(got.sizes() == expected.sizes());
    INFO("max difference " << (got - expected).abs().max().item<double>());
    REQUIRE((got - expected).abs().max().item<double>() < 1e-5);
    REQUIRE(expected.abs().max().item<double>() > 1e-2);
  }
}

TEST_CASE("nn: random shift keeps the size and moves content by at most the padding", "[nn]") {
  auto img = torch::zeros({4, 3, 16, 16});
  img.index_put_({torch::indexing::Slice(), torch::indexing::Slice(), 8, 8}, 255.0);
  torch::Generator gen = at::detail::createCPUGenerator(3);
  auto shifted = RandomShift(img, 2, gen);
  REQUIRE(shifted.sizes() == img.sizes());
  for (int i = 0; i < 4; ++i) {
    auto nz = torch::nonzero(shifted[i][0]);
    REQUIRE(nz.size(0) == 1);
    REQUIRE(std::abs(nz[0][0].item<int64_t>() - 8) <= 2);
    REQUIRE(std::abs(nz[0][1].item<int64_t>() - 8) <= 2);
  }
}

TEST_CASE("nn: vocabulary maps unknown words to the unknown token and pads", "[nn]") {
  const Vocabulary v = Vocabulary::Build({"Open the drawer", "close the drawer!"});
  REQUIRE(v.size() == 4 + 2);
  const auto ids = v.Encode("open the fridge", 5);
  REQUIRE(ids.size() == 5);
  REQUIRE(ids[0] >= 2);
  REQUIRE(ids[2] == Vocabulary::kUnknown);
  REQUIRE(ids[3] == Vocabulary::kPad);
  REQUIRE(Vocabulary::FromJson(v.ToJson()).Encode("open the fridge", 5) == ids);
  TextEncoder text(v.size(), 6);
  auto a = text(torch::tensor({ids[0], ids[1], int64_t(0)}).view({1, 3}));
  auto b = text(torch::tensor({ids[0], ids[1], int64_t(0), int64_t(0)}).view({1, 4}));
  REQUIRE(torch::allclose(a, b));  // padding does not change the pooled embedding
}

TEST_CASE("nn: normaliser round-trips and EMA tracks the weights", "[nn]") {
  auto data = torch::tensor({{0.0f, 10.0f}, {1.0f, 30.0f}, {0.5f, 20.0f}});
  const Normalizer n = Normalizer::Fit(data);
  auto z = n.Normalize(data);
  REQUIRE(z.min().item<float>() == Approx(-1.0f));
  REQUIRE(z.max().item<float>() == Approx(1.0f));
  REQUIRE(torch::allclose(Normalizer::FromJson(n.ToJson()).Unnormalize(z), data, 1e-5, 1e-5));

  torch::nn::Linear model(2, 1), copy(2, 1);
  Ema ema(*model, 0.5, 1.0);
  {
    torch::NoGradGuard no_grad;
    model->weight.fill_(1.0);
  }
  for (int i = 0; i < 50; ++i) ema.Update(*model);
  ema.CopyTo(*copy);
  REQUIRE(copy->weight[0][0].item<float>() == Approx(1.0f).margin(1e-6));
}

TEST_CASE("nn: parameter files round-trip and mismatches are named", "[nn]") {
  testing::TempPath file(".pt");
  UNet1dConfig c;
  c.down_dims = {16, 32};
  UNet1d a(c), b(c);
  SaveParameters(*a, file.str());
  LoadParameters(*b, file.str());
  for (size_t i = 0; i < a->parameters().size(); ++i) REQUIRE(torch::equal(a->parameters()[i], b->parameters()[i]));
  c.down_dims = {16, 48};
  UNet1d wider(c);
  REQUIRE_THROWS_WITH(LoadParameters(*wider, file.str()), Contains("has shape") && Contains(file.str()));
  testing::WriteText(file.str(), "not a torch archive");
  REQUIRE_THROWS_WITH(LoadParameters(*b, file.str()), Contains("cannot read weights"));
}

}  // namespace
}  // namespace padbench::nn

namespace padbench::nn {
namespace {

TEST_CASE("nn: a TorchScript text encoder loads and encodes a sentence to one row", "[nn]") {
  ScriptTextEncoder encoder(std::string(PADBENCH_TEST_DATA) + "/text_encoder.pt");
  REQUIRE(encoder.dim() == 16);
  const auto a = encoder.Encode("open the drawer"), b = encoder.Encode("close the window");
  REQUIRE(a.sizes() == torch::IntArrayRef({1, 16}));
  REQUIRE_FALSE(torch::allclose(a, b));
  REQUIRE_THROWS_WITH(ScriptTextEncoder("/nonexistent/clip.pt"), Catch::Matchers::Contains("/nonexistent/clip.pt"));
}

}  // namespace
}  // namespace padbench::nn
