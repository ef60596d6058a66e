#include "sim/dataset.h"

#include <H5Cpp.h>
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "sim/error.h"

namespace padbench {
namespace {

namespace fs = std::filesystem;
using Catch::Contains;

// A fresh directory per test case, removed afterwards even when the test fails.
class TempDir {
 public:
  TempDir() {
    std::random_device random;
    path_ = fs::temp_directory_path() / ("padbench_dataset_test_" + std::to_string(random()) + "_" +
                                         std::to_string(random()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// Deterministic but irregular contents, so a transposed or shifted array cannot compare equal.
EpisodeData MakeEpisode(int length, int height, int width, const std::vector<std::string>& cameras, bool depth,
                        bool actions, uint32_t salt) {
  std::mt19937 rng(salt);
  std::uniform_real_distribution<float> real(-2.0f, 2.0f);
  EpisodeData e;
  e.task = "lift";
  e.instruction = "pick up the café mug, then lift it 10 cm";
  e.seed = 0xFEDCBA9876543210ull + salt;  // Above 2^63: catches a signed round trip.
  e.length = length;
  e.image_height = height;
  e.image_width = width;
  const size_t t = static_cast<size_t>(length);
  const size_t frame = static_cast<size_t>(height * width);
  for (const std::string& camera : cameras) {
    auto& pixels = e.images[camera];
    pixels.resize(t * frame * 3);
    for (auto& p : pixels) p = static_cast<uint8_t>(rng());
    if (depth) {
      auto& d = e.depths[camera];
      d.resize(t * frame);
      for (auto& v : d) v = real(rng);
    }
  }
  auto fill = [&](std::vector<float>& v, size_t n) {
    v.resize(n);
    for (auto& x : v) x = real(rng);
  };
  fill(e.ee_pos, t * 3);
  fill(e.gripper, t);
  if (actions) fill(e.actions, t * 4);
  fill(e.rewards, t);
  e.dones.assign(t, 0);
  e.dones.back() = 1;
  return e;
}

template <typename T>
bool BitEqual(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

template <typename T>
bool BitEqual(const std::map<std::string, std::vector<T>>& a, const std::map<std::string, std::vector<T>>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [key, value] : a) {
    auto it = b.find(key);
    if (it == b.end() || !BitEqual(value, it->second)) return false;
  }
  return true;
}

void RequireSame(const EpisodeData& a, const EpisodeData& b) {
  CHECK(a.task == b.task);
  CHECK(a.instruction == b.instruction);
  CHECK(a.seed == b.seed);
  CHECK(a.length == b.length);
  CHECK(a.image_height == b.image_height);
  CHECK(a.image_width == b.image_width);
  CHECK(BitEqual(a.images, b.images));
  CHECK(BitEqual(a.depths, b.depths));
  CHECK(BitEqual(a.ee_pos, b.ee_pos));
  CHECK(BitEqual(a.gripper, b.gripper));
  CHECK(BitEqual(a.actions, b.actions));
  CHECK(BitEqual(a.rewards, b.rewards));
  CHECK(BitEqual(a.dones, b.dones));
}

const std::vector<std::string> kCameras = {"front", "wrist"};

std::string WriteValidFile(const TempDir& dir, const std::string& name) {
  const std::string path = dir.File(name);
  auto writer = DatasetWriter::Create(path, "{}");
  writer->Append(MakeEpisode(5, 16, 12, kCameras, true, true, 1));
  writer->Append(MakeEpisode(3, 16, 12, kCameras, true, true, 2));
  writer->Close();
  return path;
}

TEST_CASE("dataset: round trip keeps arrays and attributes bit-identical", "[dataset]") {
  TempDir dir;
  const std::string path = dir.File("demos.hdf5");
  const std::string env_args = R"({"env_name": "Lift", "type": 1, "env_kwargs": {"camera_names": ["front"]}})";
  const EpisodeData first = MakeEpisode(5, 16, 12, kCameras, true, true, 1);
  const EpisodeData second = MakeEpisode(3, 16, 12, kCameras, true, true, 2);
  {
    auto writer = DatasetWriter::Create(path, env_args);
    writer->Append(first);
    writer->Append(second);
    REQUIRE(writer->NumEpisodes() == 2);
    writer->Close();
    REQUIRE_THROWS_WITH(writer->Append(first), Contains("closed"));
  }

  auto reader = DatasetReader::Open(path);
  REQUIRE(reader->NumEpisodes() == 2);
  CHECK(reader->TotalSamples() == 8);
  CHECK(reader->EnvArgs() == env_args);
  CHECK(reader->HasActions());
  CHECK(reader->Cameras() == kCameras);
  RequireSame(reader->Read(0), first);
  RequireSame(reader->Read(1), second);
  REQUIRE_THROWS_WITH(reader->Read(2), Contains("episode index 2 out of range"));
  REQUIRE_THROWS_WITH(reader->Read(-1), Contains("out of range"));
}

TEST_CASE("dataset: a video-only file has no actions", "[dataset]") {
  TempDir dir;
  const std::string path = dir.File("video.hdf5");
  const EpisodeData episode = MakeEpisode(4, 8, 8, {"front"}, false, false, 3);
  {
    auto writer = DatasetWriter::Create(path, "");
    writer->Append(episode);
    REQUIRE_THROWS_WITH(writer->Append(MakeEpisode(4, 8, 8, {"front"}, false, true, 4)),
                        Contains("actions is not empty"));
    REQUIRE(writer->NumEpisodes() == 1);
  }  // The destructor closes the file.
  auto reader = DatasetReader::Open(path);
  CHECK_FALSE(reader->HasActions());
  CHECK(reader->TotalSamples() == 4);
  const EpisodeData read = reader->Read(0);
  CHECK(read.actions.empty());
  CHECK(read.depths.empty());
  RequireSame(read, episode);
}

TEST_CASE("dataset: writer rejects wrong-shaped arrays and names the array", "[dataset]") {
  TempDir dir;
  auto writer = DatasetWriter::Create(dir.File("bad.hdf5"), "{}");
  EpisodeData e = MakeEpisode(4, 8, 6, kCameras, true, true, 5);

  SECTION("images") {
    e.images["wrist"].pop_back();
    REQUIRE_THROWS_WITH(writer->Append(e), Contains("images[wrist] has 575 values, expected T*H*W*3"));
  }
  SECTION("depths") {
    e.depths["front"].push_back(0.0f);
    REQUIRE_THROWS_WITH(writer->Append(e), Contains("depths[front] has 193 values"));
  }
  SECTION("depth without image") {
    e.depths["side"] = e.depths["front"];
    REQUIRE_THROWS_WITH(writer->Append(e), Contains("depths[side] has no matching images[side]"));
  }
  SECTION("ee_pos") {
    e.ee_pos.resize(4 * 2);
    REQUIRE_THROWS_WITH(writer->Append(e), Contains("ee_pos has 8 values, expected T*3 (T=4) = 12"));
  }
  SECTION("gripper") {
    e.gripper.resize(5);
    REQUIRE_THROWS_WITH(writer->Append(e), Contains("gripper has 5 values"));
  }
  SECTION("actions") {
    e.actions.resize(4 * 3);
    REQUIRE_THROWS_WITH(writer->Append(e), Contains("actions has 12 values, expected T*4 (T=4) = 16"));
  }
  SECTION("rewards") {
    e.rewards.clear();
    REQUIRE_THROWS_WITH(writer->Append(e), Contains("rewards has 0 values"));
  }
  SECTION("dones") {
    e.dones.push_back(0);
    REQUIRE_THROWS_WITH(writer->Append(e), Contains("dones has 5 values"));
  }
  SECTION("no cameras") {
    e.images.clear();
    e.depths.clear();
    REQUIRE_THROWS_WITH(writer->Append(e), Contains("images is empty"));
  }
  SECTION("camera set differs from demo_0") {
    writer->Append(MakeEpisode(4, 8, 6, kCameras, true, true, 6));
    e.images.erase("wrist");
    e.depths.erase("wrist");
    REQUIRE_THROWS_WITH(writer->Append(e), Contains("images has cameras {front}, but demo_0 has {front, wrist}"));
  }
  REQUIRE_THROWS_AS(writer->Append(e), Error);

  // A rejected episode leaves no trace: the next valid one still becomes the next demo.
  const int before = writer->NumEpisodes();
  writer->Append(MakeEpisode(4, 8, 6, kCameras, true, true, 7));
  CHECK(writer->NumEpisodes() == before + 1);
}

TEST_CASE("dataset: reader rejects a truncated file", "[dataset]") {
  TempDir dir;
  const std::string path = WriteValidFile(dir, "truncated.hdf5");
  fs::resize_file(path, fs::file_size(path) / 2);
  REQUIRE_THROWS_WITH(DatasetReader::Open(path), Contains(path) && Contains("truncated file"));
}

TEST_CASE("dataset: reader rejects a file of random bytes", "[dataset]") {
  TempDir dir;
  const std::string path = dir.File("random.hdf5");
  {
    std::mt19937 rng(42);
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 64 * 1024; ++i) out.put(static_cast<char>(rng()));
  }
  REQUIRE_THROWS_WITH(DatasetReader::Open(path), Contains(path) && Contains("not an HDF5 file"));
}

TEST_CASE("dataset: reader rejects a nonexistent path", "[dataset]") {
  TempDir dir;
  const std::string path = dir.File("absent.hdf5");
  REQUIRE_THROWS_WITH(DatasetReader::Open(path), Contains(path) && Contains("no such file"));
}

TEST_CASE("dataset: writer reports an uncreatable path", "[dataset]") {
  TempDir dir;
  const std::string path = dir.File("no_such_dir/demos.hdf5");
  REQUIRE_THROWS_WITH(DatasetWriter::Create(path, "{}"), Contains(path) && Contains("cannot create"));
}

TEST_CASE("dataset: reader names a missing dataset", "[dataset]") {
  TempDir dir;
  const std::string path = WriteValidFile(dir, "missing.hdf5");
  {
    H5::H5File file(path, H5F_ACC_RDWR);
    file.unlink("data/demo_0/obs/ee_pos");
  }
  REQUIRE_THROWS_WITH(DatasetReader::Open(path),
                      Contains(path) && Contains("data/demo_0/obs/ee_pos: missing (expected float32 [T,3])"));
}

TEST_CASE("dataset: reader names a wrong dtype and shape", "[dataset]") {
  TempDir dir;
  const std::string path = WriteValidFile(dir, "mistyped.hdf5");
  SECTION("rewards stored as float64") {
    {
      H5::H5File file(path, H5F_ACC_RDWR);
      file.unlink("data/demo_1/rewards");
      const hsize_t dims[1] = {3};
      const std::vector<double> rewards(3, 0.5);
      file.createDataSet("data/demo_1/rewards", H5::PredType::IEEE_F64LE, H5::DataSpace(1, dims))
          .write(rewards.data(), H5::PredType::NATIVE_DOUBLE);
    }
    REQUIRE_THROWS_WITH(DatasetReader::Open(path),
                        Contains("data/demo_1/rewards: expected float32 [3], found float64 [3]"));
  }
  SECTION("a camera with a different frame size") {
    {
      H5::H5File file(path, H5F_ACC_RDWR);
      file.unlink("data/demo_0/obs/wrist_image");
      const hsize_t dims[4] = {5, 8, 8, 3};
      const std::vector<uint8_t> pixels(5 * 8 * 8 * 3, 7);
      file.createDataSet("data/demo_0/obs/wrist_image", H5::PredType::STD_U8LE, H5::DataSpace(4, dims))
          .write(pixels.data(), H5::PredType::NATIVE_UINT8);
    }
    REQUIRE_THROWS_WITH(DatasetReader::Open(path),
                        Contains("data/demo_0/obs/wrist_image: expected uint8 [5,16,12,3], found uint8 [5,8,8,3]"));
  }
  SECTION("a demo without actions among demos with actions") {
    {
      H5::H5File file(path, H5F_ACC_RDWR);
      file.unlink("data/demo_1/actions");
    }
    REQUIRE_THROWS_WITH(DatasetReader::Open(path), Contains("data/demo_1/actions: missing, but demo_0 has actions"));
  }
  SECTION("a gap in the demo numbering") {
    {
      H5::H5File file(path, H5F_ACC_RDWR);
      file.move("data/demo_1", "data/demo_2");
    }
    REQUIRE_THROWS_WITH(DatasetReader::Open(path), Contains("data/demo_2: index out of sequence"));
  }
}

TEST_CASE("dataset: reader accepts fixed-length strings and signed seeds from other writers", "[dataset]") {
  TempDir dir;
  const std::string path = WriteValidFile(dir, "foreign.hdf5");
  {
    H5::H5File file(path, H5F_ACC_RDWR);
    H5::Group demo = file.openGroup("data/demo_0");
    demo.removeAttr("task");
    demo.removeAttr("seed");
    const std::string task = "stack";
    H5::StrType fixed(H5::PredType::C_S1, task.size());
    demo.createAttribute("task", fixed, H5::DataSpace(H5S_SCALAR)).write(fixed, task);
    const int64_t seed = 123;
    demo.createAttribute("seed", H5::PredType::STD_I64LE, H5::DataSpace(H5S_SCALAR))
        .write(H5::PredType::NATIVE_INT64, &seed);
  }
  const EpisodeData read = DatasetReader::Open(path)->Read(0);
  CHECK(read.task == "stack");
  CHECK(read.seed == 123);
}

}  // namespace
}  // namespace padbench
