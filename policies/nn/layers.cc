#include "policies/nn/layers.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "sim/error.h"

namespace padbench::nn {
namespace F = torch::nn::functional;

// ---- vision ----

torch::Tensor SpatialSoftmax(const torch::Tensor& features) {
  const int64_t b = features.size(0), c = features.size(1), h = features.size(2), w = features.size(3);
  auto attention = torch::softmax(features.reshape({b, c, h * w}), -1).reshape({b, c, h, w});
  auto opts = features.options();
  auto ys = torch::linspace(-1.0, 1.0, h, opts).view({1, 1, h, 1});
  auto xs = torch::linspace(-1.0, 1.0, w, opts).view({1, 1, 1, w});
  auto x = (attention * xs).sum({2, 3});
  auto y = (attention * ys).sum({2, 3});
  return torch::cat({x, y}, 1);
}

namespace {

class ResidualBlock2dImpl : public torch::nn::Module {
 public:
  ResidualBlock2dImpl(int64_t in, int64_t out, int64_t stride, int64_t groups) {
    conv1_ = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
    norm1_ = register_module("norm1", torch::nn::GroupNorm(groups, out));
    conv2_ = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(out, out, 3).padding(1).bias(false)));
    norm2_ = register_module("norm2", torch::nn::GroupNorm(groups, out));
    if (in != out || stride != 1) {
      skip_ = register_module("skip", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = torch::relu(norm1_(conv1_(x)));
    y = norm2_(conv2_(y));
    return torch::relu(y + (skip_ ? skip_(x) : x));
  }

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, skip_{nullptr};
  torch::nn::GroupNorm norm1_{nullptr}, norm2_{nullptr};
};
TORCH_MODULE(ResidualBlock2d);

}  // namespace

ResNetEncoderImpl::ResNetEncoderImpl(const ResNetEncoderConfig& c) {
  PADBENCH_CHECK(!c.channels.empty(), "the encoder needs at least one stage");
  stem_ = register_module("stem", torch::nn::Sequential(
      torch::nn::Conv2d(torch::nn::Conv2dOptions(3, c.channels[0], 3).stride(2).padding(1).bias(false)),
      torch::nn::GroupNorm(c.groups, c.channels[0]), torch::nn::ReLU()));
  stages_ = register_module("stages", torch::nn::Sequential());
  int64_t in = c.channels[0];
  for (size_t i = 0; i < c.channels.size(); ++i) {
    stages_->push_back(ResidualBlock2d(in, c.channels[i], i == 0 ? 1 : 2, c.groups));
    in = c.channels[i];
  }
  keypoints_ = register_module("keypoints", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, c.keypoints, 1)));
  out_ = register_module("out", torch::nn::Linear(2 * c.keypoints, c.out_dim));
}

torch::Tensor ResNetEncoderImpl::forward(const torch::Tensor& images) {
  auto x = stages_->forward(stem_->forward(images / 255.0));
  return out_(SpatialSoftmax(keypoints_(x)));
}

torch::Tensor RandomShift(const torch::Tensor& images, int64_t pad, torch::Generator& generator) {
  if (pad <= 0) return images;
  const int64_t n = images.size(0), h = images.size(2), w = images.size(3);
  auto padded = F::pad(images, F::PadFuncOptions({pad, pad, pad, pad}).mode(torch::kReplicate));
  auto offsets = torch::randint(0, 2 * pad + 1, {n, 2}, generator, torch::kLong);
  std::vector<torch::Tensor> crops;
  crops.reserve(n);
  auto acc = offsets.accessor<int64_t, 2>();
  for (int64_t i = 0; i < n; ++i) {
    crops.push_back(padded[i].narrow(1, acc[i][0], h).narrow(2, acc[i][1], w));
  }
  return torch::stack(crops);
}

// ---- language ----

std::vector<std::string> Words(const std::string& sentence) {
  std::vector<std::string> words;
  std::string word;
  for (char ch : sentence + " ") {
    if (std::isalnum(static_cast<unsigned char>(ch))) {
      word += char(std::tolower(static_cast<unsigned char>(ch)));
    } else if (!word.empty()) {
      words.push_back(word);
      word.clear();
    }
  }
  return words;
}

Vocabulary Vocabulary::Build(const std::vector<std::string>& sentences) {
  std::set<std::string> all;
  for (const auto& s : sentences)
    for (auto& w : Words(s)) all.insert(w);
  return FromJson(nlohmann::json(std::vector<std::string>(all.begin(), all.end())));
}

Vocabulary Vocabulary::FromJson(const nlohmann::json& words) {
  Vocabulary v;
  v.words_ = words.get<std::vector<std::string>>();
  for (size_t i = 0; i < v.words_.size(); ++i) v.ids_[v.words_[i]] = int64_t(i) + 2;
  return v;
}

nlohmann::json Vocabulary::ToJson() const { return words_; }

std::vector<int64_t> Vocabulary::Encode(const std::string& sentence, int64_t length) const {
  std::vector<int64_t> ids(length, kPad);
  const auto words = Words(sentence);
  for (int64_t i = 0; i < length && i < int64_t(words.size()); ++i) {
    const auto it = ids_.find(words[i]);
    ids[i] = it == ids_.end() ? kUnknown : it->second;
  }
  return ids;
}

torch::Tensor Vocabulary::EncodeBatch(const std::vector<std::string>& sentences, int64_t length) const {
  std::vector<int64_t> ids;
  for (const auto& s : sentences) {
    const auto row = Encode(s, length);
    ids.insert(ids.end(), row.begin(), row.end());
  }
  return torch::tensor(ids).view({int64_t(sentences.size()), length});
}

TextEncoderImpl::TextEncoderImpl(int64_t vocabulary_size, int64_t dim) {
  embedding_ = register_module("embedding", torch::nn::Embedding(vocabulary_size, dim));
}

torch::Tensor TextEncoderImpl::forward(const torch::Tensor& ids) {
  auto mask = (ids != Vocabulary::kPad).to(torch::kFloat).unsqueeze(-1);
  return (embedding_(ids) * mask).sum(1) / mask.sum(1).clamp_min(1.0);
}

ScriptTextEncoder::ScriptTextEncoder(const std::string& path) {
  try {
    module_ = torch::jit::load(path, torch::kCPU);
    module_.eval();
    torch::NoGradGuard no_grad;
    dim_ = Encode("probe").size(1);
  } catch (const c10::Error& e) {
    throw Error(fmt::format("text encoder '{}': cannot load or run forward(str): {}", path,
                            std::string(e.what()).substr(0, 200)));
  }
}

torch::Tensor ScriptTextEncoder::Encode(const std::string& sentence) {
  auto out = module_.forward({c10::IValue(sentence)}).toTensor().to(torch::kFloat);
  return out.dim() == 1 ? out.unsqueeze(0) : out;
}

// ---- data ----

Normalizer Normalizer::Fit(const torch::Tensor& data) {
  auto lo = std::get<0>(data.min(0)).to(torch::kFloat).contiguous();
  auto hi = std::get<0>(data.max(0)).to(torch::kFloat).contiguous();
  Normalizer n;
  n.low.assign(lo.data_ptr<float>(), lo.data_ptr<float>() + lo.numel());
  n.high.assign(hi.data_ptr<float>(), hi.data_ptr<float>() + hi.numel());
  return n;
}

Normalizer Normalizer::FromJson(const nlohmann::json& j) {
  Normalizer n{j.at("low").get<std::vector<float>>(), j.at("high").get<std::vector<float>>()};
  if (n.low.size() != n.high.size()) throw Error("normaliser: low and high differ in size");
  return n;
}

nlohmann::json Normalizer::ToJson() const { return {{"low", low}, {"high", high}}; }

torch::Tensor Normalizer::Normalize(const torch::Tensor& x) const {
  auto lo = torch::tensor(low), hi = torch::tensor(high);
  // Constant features (range ~0) map to 0 instead of dividing by zero.
  auto range = (hi - lo).clamp_min(1e-6);
  return (x - lo) / range * 2.0 - 1.0;
}

torch::Tensor Normalizer::Unnormalize(const torch::Tensor& x) const {
  auto lo = torch::tensor(low), hi = torch::tensor(high);
  return (x + 1.0) / 2.0 * (hi - lo).clamp_min(1e-6) + lo;
}

Ema::Ema(const torch::nn::Module& model, double max_decay, double power) : max_decay_(max_decay), power_(power) {
  torch::NoGradGuard no_grad;
  for (const auto& p : model.parameters()) shadow_.push_back(p.detach().clone());
  for (const auto& b : model.buffers()) shadow_.push_back(b.detach().clone());
}

void Ema::Update(const torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  ++steps_;
  const double decay = std::clamp(1.0 - std::pow(1.0 + steps_, -power_), 0.0, max_decay_);
  size_t i = 0;
  for (const auto& p : model.parameters()) {
    // Frozen parameters are copied: decay * p + (1 - decay) * p is not p in floating point.
    if (p.requires_grad()) {
      shadow_[i++].mul_(decay).add_(p.detach(), 1.0 - decay);
    } else {
      shadow_[i++].copy_(p);
    }
  }
  for (const auto& b : model.buffers()) shadow_[i++].copy_(b);
}

void Ema::CopyTo(torch::nn::Module& target) const {
  torch::NoGradGuard no_grad;
  size_t i = 0;
  for (auto& p : target.parameters()) p.copy_(shadow_[i++]);
  for (auto& b : target.buffers()) b.copy_(shadow_[i++]);
}

// ---- diffusion networks ----

torch::Tensor SinusoidalEmbedding(const torch::Tensor& t, int64_t dim) {
  const int64_t half = dim / 2;
  auto freqs = torch::exp(-std::log(10000.0) * torch::arange(half, torch::kFloat) / double(half - 1));
  auto args = t.to(torch::kFloat).unsqueeze(1) * freqs.unsqueeze(0);
  return torch::cat({args.sin(), args.cos()}, 1);
}

namespace {

torch::nn::Sequential ConvBlock(int64_t in, int64_t out, int64_t kernel, int64_t groups) {
  return torch::nn::Sequential(torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, kernel).padding(kernel / 2)),
                               torch::nn::GroupNorm(groups, out), torch::nn::Mish());
}

// Two conv blocks with FiLM (per-channel scale and bias from the conditioning) between them.
class CondResidualBlockImpl : public torch::nn::Module {
 public:
  CondResidualBlockImpl(int64_t in, int64_t out, int64_t cond_dim, int64_t kernel, int64_t groups) : out_(out) {
    block1_ = register_module("block1", ConvBlock(in, out, kernel, groups));
    block2_ = register_module("block2", ConvBlock(out, out, kernel, groups));
    film_ = register_module("film", torch::nn::Sequential(torch::nn::Mish(), torch::nn::Linear(cond_dim, 2 * out)));
    if (in != out) skip_ = register_module("skip", torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, 1)));
  }
  // FiLM's scale and bias from the conditioning: [R, 2 * out].
  torch::Tensor Film(const torch::Tensor& cond) { return film_->forward(cond); }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& film_rows) {
    auto h = block1_->forward(x);
    auto film = film_rows.view({-1, 2, out_, 1});
    h = torch::addcmul(film.select(1, 1), film.select(1, 0), h);  // scale * h + bias, one operation
    h = block2_->forward(h);
    return h + (skip_ ? skip_(x) : x);
  }

 private:
  int64_t out_;
  torch::nn::Sequential block1_{nullptr}, block2_{nullptr}, film_{nullptr};
  torch::nn::Conv1d skip_{nullptr};
};
TORCH_MODULE(CondResidualBlock);

}  // namespace

UNet1dImpl::UNet1dImpl(const UNet1dConfig& c) : config_(c) {
  const int64_t e = c.step_embed_dim, cond = e + c.cond_dim;
  step_mlp_ = register_module("step_mlp", torch::nn::Sequential(torch::nn::Linear(e, 4 * e), torch::nn::Mish(),
                                                                 torch::nn::Linear(4 * e, e)));
  down_ = register_module("down", torch::nn::ModuleList());
  mid_ = register_module("mid", torch::nn::ModuleList());
  up_ = register_module("up", torch::nn::ModuleList());
  std::vector<int64_t> dims{c.input_dim};
  dims.insert(dims.end(), c.down_dims.begin(), c.down_dims.end());
  const size_t levels = c.down_dims.size();
  for (size_t i = 0; i < levels; ++i) {
    down_->push_back(CondResidualBlock(dims[i], dims[i + 1], cond, c.kernel, c.groups));
    down_->push_back(CondResidualBlock(dims[i + 1], dims[i + 1], cond, c.kernel, c.groups));
    if (i + 1 < levels) {
      down_->push_back(torch::nn::Conv1d(torch::nn::Conv1dOptions(dims[i + 1], dims[i + 1], 3).stride(2).padding(1)));
    }
  }
  const int64_t mid = c.down_dims.back();
  mid_->push_back(CondResidualBlock(mid, mid, cond, c.kernel, c.groups));
  mid_->push_back(CondResidualBlock(mid, mid, cond, c.kernel, c.groups));
  for (size_t i = levels - 1; i >= 1; --i) {
    up_->push_back(CondResidualBlock(2 * dims[i + 1], dims[i], cond, c.kernel, c.groups));
    up_->push_back(CondResidualBlock(dims[i], dims[i], cond, c.kernel, c.groups));
    up_->push_back(torch::nn::ConvTranspose1d(torch::nn::ConvTranspose1dOptions(dims[i], dims[i], 4).stride(2).padding(1)));
  }
  const int64_t start = c.down_dims.front();
  final_ = register_module("final", torch::nn::Sequential(
      torch::nn::Conv1d(torch::nn::Conv1dOptions(start, start, c.kernel).padding(c.kernel / 2)),
      torch::nn::GroupNorm(c.groups, start), torch::nn::Mish(),
      torch::nn::Conv1d(torch::nn::Conv1dOptions(start, c.input_dim, 1))));
}

torch::Tensor UNet1dImpl::forward(const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& cond) {
  return Denoise(x, Films(t, cond));
}

std::vector<torch::Tensor> UNet1dImpl::Films(const torch::Tensor& t, const torch::Tensor& cond_in) {
  auto cond = step_mlp_->forward(SinusoidalEmbedding(t, config_.step_embed_dim));
  if (config_.cond_dim > 0) cond = torch::cat({cond, cond_in}, 1);
  std::vector<torch::Tensor> films;
  for (auto* list : {&down_, &mid_, &up_}) {
    for (auto& m : **list) {
      if (auto* block = m->as<CondResidualBlock>()) films.push_back(block->Film(cond));
    }
  }
  return films;
}

torch::Tensor UNet1dImpl::Denoise(const torch::Tensor& x_in, const std::vector<torch::Tensor>& films, int64_t first) {
  const int64_t b = x_in.size(0);
  size_t f = 0;  // the next block's films, in Films' order: down, mid, up
  auto block = [&](const std::shared_ptr<torch::nn::Module>& m, const torch::Tensor& x) {
    return m->as<CondResidualBlock>()->forward(x, films[f++].narrow(0, first, b));
  };
  auto x = x_in.transpose(1, 2);  // [B, C, T]
  std::vector<torch::Tensor> skips;
  const size_t levels = config_.down_dims.size();
  size_t k = 0;
  for (size_t i = 0; i < levels; ++i) {
    x = block(down_[k++], x);
    x = block(down_[k++], x);
    skips.push_back(x);
    if (i + 1 < levels) x = down_[k++]->as<torch::nn::Conv1d>()->forward(x);
  }
  for (auto& m : *mid_) x = block(m, x);
  k = 0;
  for (size_t i = levels - 1; i >= 1; --i) {
    x = torch::cat({x, skips.back()}, 1);
    skips.pop_back();
    x = block(up_[k++], x);
    x = block(up_[k++], x);
    x = up_[k++]->as<torch::nn::ConvTranspose1d>()->forward(x);
  }
  return final_->forward(x).transpose(1, 2);
}

// ---- parameters on disk ----

void SaveParameters(const torch::nn::Module& module, const std::string& path) {
  torch::serialize::OutputArchive archive;
  for (const auto& p : module.named_parameters()) archive.write(p.key(), p.value());
  for (const auto& b : module.named_buffers()) archive.write(b.key(), b.value(), /*is_buffer=*/true);
  archive.save_to(path);
}

void LoadParameters(torch::nn::Module& module, const std::string& path) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error& e) {
    throw Error(fmt::format("cannot read weights {}: not a padbench/torch archive or truncated ({})", path,
                            std::string(e.what()).substr(0, std::string(e.what()).find('\n'))));
  }
  const std::vector<std::string> names = archive.keys();
  std::set<std::string> keys(names.begin(), names.end());
  std::vector<std::string> problems;
  torch::NoGradGuard no_grad;
  auto load = [&](const std::string& name, torch::Tensor& target, bool buffer) {
    if (!keys.count(name)) {
      problems.push_back(fmt::format("missing '{}'", name));
      return;
    }
    keys.erase(name);
    torch::Tensor value;
    archive.read(name, value, buffer);
    if (value.sizes() != target.sizes()) {
      problems.push_back(fmt::format("'{}' has shape {} in the file, the model expects {}", name,
                                     fmt::join(value.sizes(), "x"), fmt::join(target.sizes(), "x")));
      return;
    }
    target.copy_(value);
  };
  for (auto& p : module.named_parameters()) load(p.key(), p.value(), false);
  for (auto& b : module.named_buffers()) load(b.key(), b.value(), true);
  for (const auto& k : keys) problems.push_back(fmt::format("unexpected '{}'", k));
  if (!problems.empty()) {
    const size_t shown = std::min<size_t>(problems.size(), 5);
    throw Error(fmt::format("weights {} do not match the model: {}{}", path,
                            fmt::join(problems.begin(), problems.begin() + shown, "; "),
                            problems.size() > shown ? fmt::format(" (and {} more)", problems.size() - shown) : ""));
  }
}

}  // namespace padbench::nn
