// Every registered policy family, walked from the family table: a new family is picked up
// without editing this file. Learned families get a tiny checkpoint trained here. (REQUIRE, not
// CHECK: LibTorch's headers redefine CHECK.)
#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "eval/data/collect.h"
#include "eval/engine/rollout.h"
#include "policies/family.h"
#include "policies/nn/layers.h"
#include "policies/registry.h"
#include "policies/train/trainable.h"
#include "policies/train/trainer.h"
#include "sim/json_file.h"
#include "sim/renderer.h"
#include "tasks/registry.h"
#include "tests/policies/tiny_training.h"
#include "tests/test_util.h"

namespace padbench {
namespace {

using json = nlohmann::json;

// Two reach and two drawer-open demonstrations at 64x64 (the shipped autoencoder's size),
// collected once per process.
struct TinyData {
  testing::TempPath dir;
  std::string robot;
  TinyData() {
    std::filesystem::create_directories(dir.path());
    CollectConfig c;
    c.tasks = {FindTask("reach"), FindTask("drawer-open")};
    c.episodes = 2;
    c.out = robot = dir.str() + "/robot.hdf5";
    Collect(c, false);
  }
};
const TinyData& Data() {
  static const TinyData data;
  return data;
}

std::string TrainTiny(const Family& family, const std::string& out) {
  return testing::TrainTiny(std::string(family.name), {Data().robot}, out);
}

// Records every action and predicted frame of an episode.
class Recorder : public RolloutObserver {
 public:
  void OnAct(const Observation&, const PolicyOutput& output, double) override {
    for (const Action& a : output.actions) actions.push_back(a);
    for (const PredictedFrame& f : output.predicted) frames.push_back(f.rgb.pixels);
  }
  std::vector<Action> actions;
  std::vector<std::vector<uint8_t>> frames;
};

TEST_CASE("families: the table has unique names and every entry is usable", "[families]") {
  std::set<std::string> names;
  for (const Family& f : Families()) {
    INFO(f.name);
    REQUIRE(names.insert(std::string(f.name)).second);
    REQUIRE(!f.help.empty());
    REQUIRE((f.is_policy() || f.trainer.has_value()));
    if (f.trainer) REQUIRE(f.takes_path);  // a trained model is loaded from its checkpoint folder
    if (f.is_policy() && f.takes_path && !f.trainer) REQUIRE((!f.test_file.empty() || !f.checkpoint_of.empty()));
    if (!f.checkpoint_of.empty()) REQUIRE(FindFamily(f.checkpoint_of, "trainable").takes_path);
  }
  CHECK_THROWS_WITH(FindFamily("nope"), Catch::Matchers::Contains("valid: expert"));
  CHECK_THROWS_WITH(FindFamily("autoencoder"), Catch::Matchers::Contains("unknown policy 'autoencoder'"));
  REQUIRE(FindFamily("autoencoder", "trainable").name == "autoencoder");
}

TEST_CASE("families: every family creates, resets, acts, is deterministic and round-trips its checkpoint",
          "[families][slow]") {
  auto renderer = Renderer::Create();
  for (const Family& family : Families()) {
    DYNAMIC_SECTION(family.name) {
      testing::TempPath scratch;
      std::string path;
      if (family.trainer) {
        path = TrainTiny(family, scratch.str());
        // The run recorded its protocol facts and kept the snapshot.
        const json config = ReadJsonFile(path + "/config.json");
        REQUIRE(config.at("policy") == family.name);
        REQUIRE(config.at("training").at("robot_samples") == 3 * 4);
        REQUIRE(config.at("training").at("threads") == 1);
        REQUIRE(config.at("training").at("parameters").get<int64_t>() > 0);
        REQUIRE(std::filesystem::exists(path + "/samples_8/model.pt"));
        // Checkpoint round-trip: the rebuilt model describes itself as config.json does, and
        // loads the saved weights bit for bit.
        auto a = train::TrainableFromCheckpoint(config), b = train::TrainableFromCheckpoint(config);
        json described = a->Checkpoint();
        json saved = config;
        saved.erase("training");
        REQUIRE(described == saved);
        nn::LoadParameters(a->module(), path + "/model.pt");
        nn::LoadParameters(b->module(), path + "/model.pt");
        const auto pa = a->module().parameters(), pb = b->module().parameters();
        REQUIRE(pa.size() == pb.size());
        for (size_t i = 0; i < pa.size(); ++i) REQUIRE(torch::equal(pa[i], pb[i]));
        // Its data spec is served by the data layer.
        const auto data = train::DemoData::Load({Data().robot}, a->spec().cameras, 0.0, 0);
        Rng rng(3);
        REQUIRE(data.Sample(2, a->spec(), false, rng).size() == 2);
      } else if (!family.checkpoint_of.empty()) {
        path = TrainTiny(FindFamily(family.checkpoint_of, "trainable"), scratch.str());
      } else if (!family.test_file.empty()) {
        path = std::string(PADBENCH_SOURCE_DIR) + "/" + std::string(family.test_file);
      }
      if (!family.is_policy()) continue;
      const std::string spec = family.takes_path ? std::string(family.name) + "=" + path : std::string(family.name);
      INFO(spec);
      Recorder first, second;
      EpisodeRecord records[2];
      for (int run = 0; run < 2; ++run) {
        std::unique_ptr<Policy> policy = MakePolicy(spec);
        REQUIRE(policy->Name() == family.name);
        auto env = MakeTaskEnv(FindTask("reach"), *policy, renderer.get());
        records[run] = RunEpisode(*env, *policy, {spec, 0, 11, {}}, true, {run == 0 ? &first : &second});
      }
      REQUIRE(records[0].failure != "policy_error");
      REQUIRE(records[0].act_calls > 0);
      REQUIRE(records[0].length == records[1].length);
      REQUIRE(records[0].success == records[1].success);
      REQUIRE(first.actions.size() == second.actions.size());
      for (size_t i = 0; i < first.actions.size(); ++i) {
        for (int k = 0; k < kActionDim; ++k) {
          REQUIRE(std::isfinite(first.actions[i][k]));
          REQUIRE(first.actions[i][k] == second.actions[i][k]);
        }
      }
      REQUIRE(first.frames == second.frames);

      // Batched Act (eval --batch-envs): each row gets what its own Act gives, within float
      // rounding, and what a row gets does not depend on which rows are padding.
      const std::shared_ptr<const Task> task = FindTask("reach");
      auto env = MakeTaskEnv(task, *MakePolicy(spec), renderer.get());
      const Observation obs = env->Reset(11);
      auto act = [&](const std::vector<int>& seeds) {  // -1: a padding row
        std::vector<std::unique_ptr<Policy>> instances;
        std::vector<Policy*> rows;
        std::vector<const Observation*> observed;
        for (int seed : seeds) {
          instances.push_back(seed < 0 ? nullptr : MakePolicy(spec));
          rows.push_back(instances.back().get());
          observed.push_back(seed < 0 ? nullptr : &obs);
          if (seed < 0) continue;
          instances.back()->Reset({"reach", env->instruction(), uint64_t(seed), task->MaxSteps(), &env->env(), task.get()});
          instances.back()->Observe(obs);
        }
        Policy* lead = *std::find_if(rows.begin(), rows.end(), [](Policy* p) { return p != nullptr; });
        return lead->ActBatch(rows, observed);
      };
      const std::vector<PolicyOutput> batched = act({11, 12, -1, 13}), padded = act({11, -1, -1, 13});
      REQUIRE(batched.size() == 4);
      REQUIRE(batched[2].actions.empty());
      for (int r : {0, 3}) {
        REQUIRE((batched[r].actions == padded[r].actions));
        REQUIRE(batched[r].predicted.size() == padded[r].predicted.size());
        for (size_t f = 0; f < batched[r].predicted.size(); ++f) {
          REQUIRE(batched[r].predicted[f].rgb.pixels == padded[r].predicted[f].rgb.pixels);
        }
      }
      for (const auto& [row, seed] : {std::pair(0, 11), std::pair(1, 12), std::pair(3, 13)}) {
        const PolicyOutput single = act({seed})[0];
        REQUIRE(single.actions.size() == batched[row].actions.size());
        for (size_t i = 0; i < single.actions.size(); ++i) {
          for (int k = 0; k < kActionDim; ++k) REQUIRE(std::abs(single.actions[i][k] - batched[row].actions[i][k]) < 1e-4);
        }
        REQUIRE(single.predicted.size() == batched[row].predicted.size());
        for (size_t f = 0; f < single.predicted.size(); ++f) {
          const auto &a = single.predicted[f].rgb.pixels, &b = batched[row].predicted[f].rgb.pixels;
          REQUIRE(a.size() == b.size());
          int worst = 0;
          for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(int(a[i]) - int(b[i])));
          REQUIRE(worst <= 1);
        }
      }
    }
  }
}

}  // namespace
}  // namespace padbench
