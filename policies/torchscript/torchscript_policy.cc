#include "policies/torchscript/torchscript_policy.h"

#include <fmt/format.h>
#include <torch/script.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <utility>
#include <vector>

#include "policies/family.h"
#include "sim/error.h"

namespace padbench {
namespace {

constexpr std::string_view kTorchScript = "torchscript";

constexpr char kCameraAttr[] = "padbench_camera";
constexpr char kImageSizeAttr[] = "padbench_image_size";
// Above any image a policy could use at padbench's scale; stops a mistyped attribute from
// asking the renderer for a gigantic buffer.
constexpr int64_t kMaxImageSize = 1024;
constexpr char kSignature[] =
    "forward(Tensor image, Tensor proprio) or forward(Tensor image, Tensor proprio, str instruction)";

// One line from torch's multi-line messages (source excerpts, C++ frames): the first line says
// what went wrong, except in an interpreter traceback, whose last line does ("RuntimeError: ...").
std::string Summary(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (text.rfind("The following operation failed in the TorchScript interpreter", 0) == 0) {
    return std::string(text.substr(text.rfind('\n') + 1));
  }
  return std::string(text.substr(0, text.find('\n')));
}

// Every message starts with the policy and its file, so a CLI error line says which model failed.
template <typename... Args>
Error PolicyError(const std::string& path, fmt::format_string<Args...> what, Args&&... args) {
  return Error(fmt::format("torchscript policy '{}': {}", path, fmt::format(what, std::forward<Args>(args)...)));
}

std::string ShapeString(at::IntArrayRef sizes) { return fmt::format("[{}]", fmt::join(sizes, ", ")); }

// "forward(Tensor image, Tensor proprio) -> Tensor" without the `self` argument, for messages.
std::string SignatureString(const c10::FunctionSchema& schema) {
  std::vector<std::string> args;
  for (size_t i = 1; i < schema.arguments().size(); ++i) {
    const c10::Argument& arg = schema.arguments()[i];
    args.push_back(fmt::format("{} {}", arg.type()->annotation_str(), arg.name()));
  }
  std::vector<std::string> returns;
  for (const c10::Argument& ret : schema.returns()) returns.push_back(ret.type()->annotation_str());
  return fmt::format("forward({}) -> {}", fmt::join(args, ", "), fmt::join(returns, ", "));
}

// TorchScript archives are zip files; checking the magic first gives a clearer message
// than torch's "failed finding central directory" for a file of some other kind.
bool HasZipMagic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::array<char, 4> magic{};
  in.read(magic.data(), magic.size());
  return in.gcount() == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4;
}

torch::jit::Module LoadModule(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw PolicyError(path, "the file does not exist");
  if (!fs::is_regular_file(path, ec)) throw PolicyError(path, "not a file");
  if (!HasZipMagic(path)) {
    throw PolicyError(path, "not a TorchScript archive (not a zip file; save the module with torch.jit.save)");
  }
  std::string problem;
  try {
    // kCPU: a module saved from a GPU loads here too.
    return torch::jit::load(path, torch::kCPU);
  } catch (const c10::Error& e) {
    problem = Summary(e.what_without_backtrace());
  } catch (const std::exception& e) {
    problem = Summary(e.what());
  }
  // torch.save writes a zip too, without the compiled code TorchScript needs.
  const bool pickle = problem.find("constants.pkl") != std::string::npos;
  throw PolicyError(path, "not a TorchScript archive or corrupt: {}{}", problem,
                    pickle ? " (saved with torch.save rather than torch.jit.save?)" : "");
}

// Returns whether forward takes the instruction; throws unless forward follows the contract.
bool CheckForward(const torch::jit::Module& module, const std::string& path) {
  const auto forward = module.find_method("forward");  // c10::optional in LibTorch 1.13
  if (!forward) throw PolicyError(path, "the module has no forward method; expected {}", kSignature);
  const c10::FunctionSchema& schema = forward->function().getSchema();
  const std::vector<c10::Argument>& args = schema.arguments();  // args[0] is self
  const auto is_tensor = [](const c10::Argument& arg) { return arg.type()->kind() == c10::TypeKind::TensorType; };
  const bool tensors = args.size() >= 3 && is_tensor(args[1]) && is_tensor(args[2]);
  const bool takes_instruction = args.size() == 4 && args[3].type()->kind() == c10::TypeKind::StringType;
  if (!tensors || !(args.size() == 3 || takes_instruction)) {
    throw PolicyError(path, "wrong forward signature {}; expected {}", SignatureString(schema), kSignature);
  }
  // Only a scripted module states a precise return type; a traced one always says Tensor.
  if (schema.returns().size() != 1 || schema.returns()[0].type()->kind() != c10::TypeKind::TensorType) {
    throw PolicyError(path, "wrong forward signature {}; forward must return one Tensor [1, T, 4]",
                      SignatureString(schema));
  }
  return takes_instruction;
}

// The camera and image size the module asks for, or padbench's defaults.
PolicyInputs ReadInputs(const torch::jit::Module& module, const std::string& path) {
  PolicyInputs inputs;
  if (module.hasattr(kCameraAttr)) {
    const c10::IValue camera = module.attr(kCameraAttr);
    if (!camera.isString() || camera.toStringRef().empty()) {
      throw PolicyError(path, "attribute {} must be a non-empty str, found {}", kCameraAttr,
                        camera.isString() ? "''" : camera.tagKind());
    }
    inputs.cameras = {camera.toStringRef()};
  }
  if (module.hasattr(kImageSizeAttr)) {
    const c10::IValue size = module.attr(kImageSizeAttr);
    if (!size.isInt() || size.toInt() < 1 || size.toInt() > kMaxImageSize) {
      throw PolicyError(path, "attribute {} must be an int in [1, {}], found {}", kImageSizeAttr, kMaxImageSize,
                        size.isInt() ? std::to_string(size.toInt()) : size.tagKind());
    }
    inputs.image_size = static_cast<int>(size.toInt());
  }
  return inputs;
}

class TorchScriptPolicy final : public Policy {
 public:
  TorchScriptPolicy(std::string path, torch::jit::Module module, bool takes_instruction, PolicyInputs inputs)
      : path_(std::move(path)),
        module_(std::move(module)),
        takes_instruction_(takes_instruction),
        inputs_(std::move(inputs)) {}

  std::string_view Name() const override { return kTorchScript; }
  PolicyInputs Inputs() const override { return inputs_; }
  void Reset(const EpisodeInfo& episode) override { instruction_ = episode.instruction; }
  PolicyOutput Act(const Observation& obs) override;

 private:
  at::Tensor ImageTensor(const Observation& obs) const;
  at::Tensor Forward(std::vector<c10::IValue> args);

  std::string path_;
  torch::jit::Module module_;
  bool takes_instruction_;
  PolicyInputs inputs_;
  std::string instruction_;
};

// [1, 3, H, W] float in [0, 1] from the HWC uint8 image of the policy's camera.
at::Tensor TorchScriptPolicy::ImageTensor(const Observation& obs) const {
  const std::string& camera = inputs_.cameras.front();
  const auto it = obs.rgb.find(camera);
  if (it == obs.rgb.end()) {
    throw PolicyError(path_, "the observation has no image from camera '{}'", camera);
  }
  const Image& image = it->second;
  const int size = inputs_.image_size;
  if (image.height != size || image.width != size || image.channels != 3 ||
      image.pixels.size() != size_t(size) * size * 3) {
    throw PolicyError(path_, "camera '{}' image is {}x{}x{}, the module wants {}x{}x3", camera, image.height,
                      image.width, image.channels, size, size);
  }
  // from_blob only borrows the pixels; the conversion to float makes the copy the module sees.
  const at::Tensor hwc =
      torch::from_blob(const_cast<uint8_t*>(image.data()), {image.height, image.width, 3}, torch::kUInt8);
  return hwc.to(torch::kFloat).div_(255).permute({2, 0, 1}).unsqueeze(0).contiguous();
}

at::Tensor TorchScriptPolicy::Forward(std::vector<c10::IValue> args) {
  c10::IValue result;
  try {
    result = module_.forward(std::move(args));
  } catch (const c10::Error& e) {
    throw PolicyError(path_, "forward failed: {}", Summary(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw PolicyError(path_, "forward failed: {}", Summary(e.what()));
  }
  if (!result.isTensor()) throw PolicyError(path_, "forward returned a {}, expected a Tensor [1, T, 4]", result.tagKind());
  at::Tensor out = result.toTensor();
  const bool chunk = out.dim() == 3 && out.size(0) == 1 && out.size(1) >= 1 && out.size(2) == kActionDim;
  const bool single = out.dim() == 2 && out.size(0) == 1 && out.size(1) == kActionDim;
  if (!chunk && !single) {
    throw PolicyError(path_, "forward returned shape {}, expected [1, T, 4] with T >= 1 or [1, 4]",
                      ShapeString(out.sizes()));
  }
  if (!out.is_floating_point()) {
    throw PolicyError(path_, "forward returned {} values, expected float32", c10::toString(out.scalar_type()));
  }
  return out.to(torch::kFloat).reshape({-1, kActionDim}).contiguous();
}

PolicyOutput TorchScriptPolicy::Act(const Observation& obs) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  // No autograd bookkeeping: inference only. The global thread count is the caller's choice.
  torch::NoGradGuard no_grad;
  std::array<float, 4> proprio{obs.ee_pos[0], obs.ee_pos[1], obs.ee_pos[2], obs.gripper};
  std::vector<c10::IValue> args{ImageTensor(obs), torch::from_blob(proprio.data(), {1, 4}, torch::kFloat).clone()};
  if (takes_instruction_) args.emplace_back(instruction_);
  const Clock::time_point forward_start = Clock::now();
  const at::Tensor actions = Forward(std::move(args));
  const Clock::time_point forward_end = Clock::now();

  PolicyOutput output;
  const float* values = actions.data_ptr<float>();
  output.actions.resize(actions.size(0));
  // Copied as they are: a non-finite action is the engine's to record as a policy error.
  for (size_t t = 0; t < output.actions.size(); ++t) {
    for (int i = 0; i < kActionDim; ++i) output.actions[t][i] = values[t * kActionDim + i];
  }
  const auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  output.timings_ms["forward"] = ms(forward_end - forward_start);
  output.timings_ms["total"] = ms(Clock::now() - start);
  return output;
}

}  // namespace

std::unique_ptr<Policy> MakeTorchScriptPolicy(const std::string& path) {
  torch::jit::Module module = LoadModule(path);
  module.eval();
  const bool takes_instruction = CheckForward(module, path);
  PolicyInputs inputs = ReadInputs(module, path);
  return std::make_unique<TorchScriptPolicy>(path, std::move(module), takes_instruction, std::move(inputs));
}

Family TorchScriptFamily() {
  Family f;
  f.name = kTorchScript;
  f.help = "a TorchScript module exported from PyTorch (policies/torchscript/README.md)";
  f.takes_path = true;
  f.make = MakeTorchScriptPolicy;
  f.test_file = "tests/data/torchscript_policy.pt";
  return f;
}

}  // namespace padbench
