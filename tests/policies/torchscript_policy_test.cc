// The torchscript policy against modules exported by scripts/export_torchscript.py (fixtures in
// tests/data, expected outputs computed by Python torch) and against small modules defined here.
#include "policies/torchscript/torchscript_policy.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/script.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "sim/error.h"
#include "tests/test_util.h"

#ifndef PADBENCH_TEST_DATA
#error "PADBENCH_TEST_DATA must name the tests/data folder"
#endif

namespace padbench {
namespace {

using Catch::Contains;
using testing::TempPath;

// Both checks in one: the right exception type and a message naming what went wrong.
#define REQUIRE_PADBENCH_ERROR(expr, matcher) \
  do {                                       \
    REQUIRE_THROWS_AS(expr, Error);          \
    REQUIRE_THROWS_WITH(expr, matcher);      \
  } while (false)

constexpr char kScripted[] = "torchscript_policy.pt";
constexpr char kTraced[] = "torchscript_policy_traced.pt";
constexpr char kBadOutput[] = "torchscript_bad_output.pt";
constexpr char kInstruction[] = "reach the red ball";
constexpr float kTolerance = 1e-5f;

std::string DataPath(const std::string& name) { return std::string(PADBENCH_TEST_DATA) + "/" + name; }

// tests/data/torchscript_policy_expected.json, keyed by fixture file name.
const nlohmann::json& Expected() {
  static const nlohmann::json expected = [] {
    std::ifstream in(DataPath("torchscript_policy_expected.json"));
    REQUIRE(in);
    return nlohmann::json::parse(in);
  }();
  return expected;
}

// The "pattern" image of export_torchscript.py: pixel (y, x, c) = (3y + 5x + 80c) mod 256.
Image PatternImage(int size) {
  Image image(size, size);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      for (int c = 0; c < 3; ++c) image.pixels[(size_t(y) * size + x) * 3 + c] = uint8_t((3 * y + 5 * x + 80 * c) % 256);
    }
  }
  return image;
}

// The observation the Python side used: proprio [0.1, 0.5, 0.2, 0.04], `image` from `camera`.
Observation MakeObservation(const std::string& camera, Image image) {
  Observation obs;
  obs.rgb[camera] = std::move(image);
  obs.ee_pos = {0.1f, 0.5f, 0.2f};
  obs.gripper = 0.04f;
  obs.instruction = kInstruction;
  return obs;
}

EpisodeInfo MakeEpisode(const std::string& instruction) {
  EpisodeInfo episode;
  episode.task = "reach";
  episode.instruction = instruction;
  episode.seed = 7;
  episode.max_steps = 100;
  return episode;
}

std::vector<float> Flatten(const std::vector<Action>& actions) {
  std::vector<float> values;
  for (const Action& a : actions) values.insert(values.end(), a.begin(), a.end());
  return values;
}

void RequireClose(const std::vector<float>& got, const std::vector<float>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("value " << i);
    REQUIRE(std::abs(got[i] - want[i]) <= kTolerance);
  }
}

// Saves a module with the given TorchScript source (and attributes set by `setup`) to dir/name.
template <typename Setup>
std::string SaveModule(const TempPath& dir, const std::string& name, const std::string& source, Setup setup) {
  torch::jit::Module module("__torch__.TestPolicy");
  setup(module);
  module.define(source);
  const std::string path = (dir.path() / name).string();
  module.save(path);
  return path;
}

std::string SaveModule(const TempPath& dir, const std::string& name, const std::string& source) {
  return SaveModule(dir, name, source, [](torch::jit::Module&) {});
}

// A temporary folder, created now and removed with its contents at the end of the scope.
struct TempDir : TempPath {
  TempDir() { std::filesystem::create_directories(path()); }
};

// ---- agreement with Python ----

TEST_CASE("torchscript: fixtures loaded with torch::jit::load match Python on the all-0.5 image") {
  for (const std::string name : {kScripted, kTraced}) {
    SECTION(name) {
      const nlohmann::json& want = Expected().at(name);
      torch::jit::Module module = torch::jit::load(DataPath(name));
      module.eval();
      torch::NoGradGuard no_grad;
      std::vector<float> proprio = want.at("proprio").get<std::vector<float>>();
      std::vector<c10::IValue> args{torch::full({1, 3, 64, 64}, 0.5f),
                                    torch::from_blob(proprio.data(), {1, 4}, torch::kFloat).clone()};
      if (!want.at("instruction").is_null()) args.emplace_back(want.at("instruction").get<std::string>());
      const at::Tensor out = module.forward(args).toTensor().contiguous();
      const nlohmann::json& half = want.at("cases").at("half");
      REQUIRE(std::vector<int64_t>(out.sizes().begin(), out.sizes().end()) == half.at("shape").get<std::vector<int64_t>>());
      RequireClose(std::vector<float>(out.data_ptr<float>(), out.data_ptr<float>() + out.numel()),
                   half.at("output").get<std::vector<float>>());
    }
  }
}

TEST_CASE("torchscript: Act matches Python on the pattern image (layout, scaling, proprio, instruction)") {
  for (const std::string name : {kScripted, kTraced}) {
    SECTION(name) {
      const nlohmann::json& want = Expected().at(name).at("cases").at("pattern");
      std::unique_ptr<Policy> policy = MakeTorchScriptPolicy(DataPath(name));
      policy->Reset(MakeEpisode(kInstruction));
      const PolicyInputs inputs = policy->Inputs();
      const PolicyOutput out = policy->Act(MakeObservation(inputs.cameras.at(0), PatternImage(inputs.image_size)));
      const std::vector<int64_t> shape = want.at("shape").get<std::vector<int64_t>>();
      REQUIRE(int64_t(out.actions.size()) == (shape.size() == 3 ? shape[1] : 1));
      RequireClose(Flatten(out.actions), want.at("output").get<std::vector<float>>());
    }
  }
}

// ---- the Policy interface ----

TEST_CASE("torchscript: Act on a hand-built observation returns T actions of 4") {
  struct Case {
    const char* file;
    size_t chunk;
  };
  for (const Case& c : {Case{kScripted, 4}, Case{kTraced, 1}}) {
    SECTION(c.file) {
      std::unique_ptr<Policy> policy = MakeTorchScriptPolicy(DataPath(c.file));
      REQUIRE(policy->Name() == "torchscript");
      policy->Reset(MakeEpisode(kInstruction));
      Image image(64, 64);
      std::fill(image.pixels.begin(), image.pixels.end(), uint8_t{128});
      const PolicyOutput out = policy->Act(MakeObservation(policy->Inputs().cameras.at(0), image));
      REQUIRE(out.actions.size() == c.chunk);
      for (const Action& a : out.actions) {
        for (float v : a) REQUIRE((std::isfinite(v) && v >= -1 && v <= 1));  // the example ends in tanh
      }
      REQUIRE(out.predicted.empty());
      REQUIRE(out.timings_ms.count("forward") == 1);
    }
  }
}

TEST_CASE("torchscript: Inputs come from the module's attributes, else the defaults") {
  PolicyInputs scripted = MakeTorchScriptPolicy(DataPath(kScripted))->Inputs();
  REQUIRE(scripted.cameras == std::vector<std::string>{"corner"});
  REQUIRE(scripted.image_size == 64);
  REQUIRE_FALSE(scripted.depth);
  PolicyInputs traced = MakeTorchScriptPolicy(DataPath(kTraced))->Inputs();  // exported with --camera front
  REQUIRE(traced.cameras == std::vector<std::string>{"front"});
  REQUIRE(traced.image_size == 64);
  PolicyInputs plain = MakeTorchScriptPolicy(DataPath(kBadOutput))->Inputs();  // has no attributes
  REQUIRE(plain.cameras == std::vector<std::string>{"corner"});
  REQUIRE(plain.image_size == 64);

  TempDir dir;
  const std::string path = SaveModule(
      dir, "wrist.pt",
      "def forward(self, image: Tensor, proprio: Tensor) -> Tensor:\n  return torch.zeros([1, 4])\n",
      [](torch::jit::Module& m) {
        m.register_attribute("padbench_camera", c10::StringType::get(), std::string("wrist"));
        m.register_attribute("padbench_image_size", c10::IntType::get(), int64_t{32});
      });
  std::unique_ptr<Policy> policy = MakeTorchScriptPolicy(path);
  REQUIRE(policy->Inputs().cameras == std::vector<std::string>{"wrist"});
  REQUIRE(policy->Inputs().image_size == 32);
  REQUIRE(policy->Act(MakeObservation("wrist", PatternImage(32))).actions.size() == 1);
}

TEST_CASE("torchscript: a scripted module gets the instruction from Reset; a traced one does not take it") {
  const Observation obs = MakeObservation("corner", PatternImage(64));
  std::unique_ptr<Policy> scripted = MakeTorchScriptPolicy(DataPath(kScripted));
  scripted->Reset(MakeEpisode(kInstruction));
  const std::vector<float> reach = Flatten(scripted->Act(obs).actions);
  scripted->Reset(MakeEpisode("open the drawer"));
  REQUIRE(Flatten(scripted->Act(obs).actions) != reach);
  scripted->Reset(MakeEpisode(kInstruction));
  REQUIRE(Flatten(scripted->Act(obs).actions) == reach);

  std::unique_ptr<Policy> traced = MakeTorchScriptPolicy(DataPath(kTraced));
  const Observation front = MakeObservation("front", PatternImage(64));
  traced->Reset(MakeEpisode(kInstruction));
  const std::vector<float> first = Flatten(traced->Act(front).actions);
  traced->Reset(MakeEpisode("open the drawer"));
  REQUIRE(Flatten(traced->Act(front).actions) == first);
}

TEST_CASE("torchscript: two instances give identical actions") {
  const Observation obs = MakeObservation("corner", PatternImage(64));
  std::unique_ptr<Policy> a = MakeTorchScriptPolicy(DataPath(kScripted));
  std::unique_ptr<Policy> b = MakeTorchScriptPolicy(DataPath(kScripted));
  a->Reset(MakeEpisode(kInstruction));
  b->Reset(MakeEpisode(kInstruction));
  const std::vector<float> first = Flatten(a->Act(obs).actions);
  REQUIRE(Flatten(a->Act(obs).actions) == first);
  REQUIRE(Flatten(b->Act(obs).actions) == first);
}

TEST_CASE("torchscript: non-finite actions are passed on, not hidden") {
  TempDir dir;
  const std::string path = SaveModule(
      dir, "nan.pt",
      "def forward(self, image: Tensor, proprio: Tensor) -> Tensor:\n  return torch.full([1, 2, 4], float('nan'))\n");
  std::unique_ptr<Policy> policy = MakeTorchScriptPolicy(path);
  const PolicyOutput out = policy->Act(MakeObservation("corner", PatternImage(64)));
  REQUIRE(out.actions.size() == 2);
  for (const Action& a : out.actions) {
    for (float v : a) REQUIRE(std::isnan(v));
  }
}

// ---- errors name the file and the problem ----

TEST_CASE("torchscript: a missing file is an error naming it") {
  const std::string path = DataPath("no_such_policy.pt");
  REQUIRE_PADBENCH_ERROR(MakeTorchScriptPolicy(path), Contains(path) && Contains("does not exist"));
  REQUIRE_PADBENCH_ERROR(MakeTorchScriptPolicy(PADBENCH_TEST_DATA), Contains(PADBENCH_TEST_DATA) && Contains("not a file"));
}

TEST_CASE("torchscript: a corrupt or foreign file is an error naming it") {
  TempDir dir;
  SECTION("random bytes") {
    const std::string path = (dir.path() / "random.pt").string();
    std::mt19937 rng(3);
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 4096; ++i) out.put(char(rng()));
    out.close();
    REQUIRE_PADBENCH_ERROR(MakeTorchScriptPolicy(path), Contains(path) && Contains("not a TorchScript archive"));
  }
  SECTION("a truncated copy of the fixture") {
    const std::string path = (dir.path() / "truncated.pt").string();
    std::ifstream in(DataPath(kScripted), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size() / 2));
    REQUIRE_PADBENCH_ERROR(MakeTorchScriptPolicy(path), Contains(path) && Contains("corrupt"));
  }
  SECTION("a zip written by torch.save, not torch.jit.save") {
    const std::string path = (dir.path() / "state_dict.pt").string();
    const std::vector<char> bytes = torch::jit::pickle_save(torch::ones({2}));
    std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
    REQUIRE_PADBENCH_ERROR(MakeTorchScriptPolicy(path), Contains(path) && Contains("rather than torch.jit.save"));
  }
  SECTION("an empty file") {
    const std::string path = (dir.path() / "empty.pt").string();
    std::ofstream(path).close();
    REQUIRE_PADBENCH_ERROR(MakeTorchScriptPolicy(path), Contains(path) && Contains("not a TorchScript archive"));
  }
}

TEST_CASE("torchscript: a wrong output shape is an error naming the file and the shape") {
  const std::string path = DataPath(kBadOutput);
  std::unique_ptr<Policy> policy = MakeTorchScriptPolicy(path);
  policy->Reset(MakeEpisode(kInstruction));
  const Observation obs = MakeObservation("corner", PatternImage(64));
  REQUIRE_PADBENCH_ERROR(policy->Act(obs), Contains(path) && Contains("shape [1, 3]"));
}

TEST_CASE("torchscript: a wrong forward signature is an error naming the file and the signature") {
  TempDir dir;
  struct Case {
    const char* name;
    const char* source;
    const char* found;
  };
  const Case cases[] = {
      {"one_arg.pt", "def forward(self, image: Tensor) -> Tensor:\n  return image\n", "forward(Tensor image) -> Tensor"},
      {"int_arg.pt", "def forward(self, image: Tensor, proprio: Tensor, step: int) -> Tensor:\n  return proprio\n",
       "forward(Tensor image, Tensor proprio, int step)"},
      {"str_second.pt", "def forward(self, image: Tensor, instruction: str) -> Tensor:\n  return image\n",
       "forward(Tensor image, str instruction)"},
      {"tuple.pt",
       "def forward(self, image: Tensor, proprio: Tensor) -> Tuple[Tensor, Tensor]:\n  return image, proprio\n",
       "-> Tuple[Tensor, Tensor]"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      const std::string path = SaveModule(dir, c.name, c.source);
      REQUIRE_PADBENCH_ERROR(MakeTorchScriptPolicy(path), Contains(path) && Contains(c.found));
    }
  }
}

TEST_CASE("torchscript: attributes of the wrong type are errors") {
  TempDir dir;
  const char* source = "def forward(self, image: Tensor, proprio: Tensor) -> Tensor:\n  return torch.zeros([1, 4])\n";
  const std::string camera = SaveModule(dir, "camera.pt", source, [](torch::jit::Module& m) {
    m.register_attribute("padbench_camera", c10::IntType::get(), int64_t{2});
  });
  REQUIRE_PADBENCH_ERROR(MakeTorchScriptPolicy(camera), Contains(camera) && Contains("padbench_camera must be"));
  const std::string size = SaveModule(dir, "size.pt", source, [](torch::jit::Module& m) {
    m.register_attribute("padbench_image_size", c10::IntType::get(), int64_t{0});
  });
  REQUIRE_PADBENCH_ERROR(MakeTorchScriptPolicy(size), Contains(size) && Contains("padbench_image_size must be"));
}

TEST_CASE("torchscript: an observation without the module's camera or size is an error") {
  std::unique_ptr<Policy> policy = MakeTorchScriptPolicy(DataPath(kTraced));  // wants front, 64x64
  policy->Reset(MakeEpisode(kInstruction));
  REQUIRE_PADBENCH_ERROR(policy->Act(MakeObservation("corner", PatternImage(64))),
                         Contains(kTraced) && Contains("no image from camera 'front'"));
  REQUIRE_PADBENCH_ERROR(policy->Act(MakeObservation("front", PatternImage(32))),
                         Contains(kTraced) && Contains("32x32x3, the module wants 64x64x3"));
}

TEST_CASE("torchscript: a forward that fails at run time is an error naming the file") {
  TempDir dir;
  const std::string path = SaveModule(
      dir, "raises.pt",
      "def forward(self, image: Tensor, proprio: Tensor) -> Tensor:\n  return torch.mm(image, proprio)\n");
  std::unique_ptr<Policy> policy = MakeTorchScriptPolicy(path);
  REQUIRE_PADBENCH_ERROR(policy->Act(MakeObservation("corner", PatternImage(64))),
                         Contains(path) && Contains("forward failed: RuntimeError: self must be a matrix"));
}

}  // namespace
}  // namespace padbench
