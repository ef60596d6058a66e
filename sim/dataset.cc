#include "sim/dataset.h"

#include <H5Cpp.h>
#include <fmt/format.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <set>
#include <stdexcept>
#include <utility>

#include "sim/error.h"

namespace padbench {
namespace {

constexpr hsize_t kEePosDim = 3;
constexpr hsize_t kActionDim = 4;
constexpr hsize_t kChannels = 3;
constexpr int kGzipLevel = 4;
constexpr const char* kImageSuffix = "_image";
constexpr const char* kDepthSuffix = "_depth";
constexpr const char* kDemoPrefix = "demo_";

enum class Elem { kUint8, kFloat32 };

const char* ElemName(Elem elem) { return elem == Elem::kUint8 ? "uint8" : "float32"; }

const H5::PredType& MemType(Elem elem) {
  return elem == Elem::kUint8 ? H5::PredType::NATIVE_UINT8 : H5::PredType::NATIVE_FLOAT;
}

// Little-endian on disk whatever the host, as h5py/numpy writers do.
const H5::PredType& FileType(Elem elem) {
  return elem == Elem::kUint8 ? H5::PredType::STD_U8LE : H5::PredType::IEEE_F32LE;
}

// HDF5's innermost error text (e.g. "truncated file: eof = ..."), which the C++ exception itself
// reduces to "H5Fopen failed"; it must be read before the next API call clears the stack.
std::string Hdf5Reason(const H5::Exception& e) {
  std::string innermost;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* err, void* out) -> herr_t {
        if (n == 0 && err->desc != nullptr) *static_cast<std::string*>(out) = err->desc;
        return 0;
      },
      &innermost);
  H5Eclear2(H5E_DEFAULT);
  // Some HDF5 descriptions end in a newline, which would split the one-line error.
  while (!innermost.empty() && std::isspace(static_cast<unsigned char>(innermost.back()))) innermost.pop_back();
  return innermost.empty() ? e.getDetailMsg() : innermost;
}

// "front" for ("front_image", "_image"); empty when `name` is not <camera><suffix>.
std::string CameraOf(const std::string& name, const std::string& suffix) {
  if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return "";
  }
  return name.substr(0, name.size() - suffix.size());
}

std::string DemoName(int64_t index) { return fmt::format("{}{}", kDemoPrefix, index); }

// -------------------------------------------------------------------------------------------------
// Writer

void WriteStringAttr(const H5::H5Object& object, const char* name, const std::string& value) {
  // Variable-length UTF-8 is what h5py writes for str and reads back as str.
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  type.setCset(H5T_CSET_UTF8);
  H5::Attribute attr = object.createAttribute(name, type, H5::DataSpace(H5S_SCALAR));
  attr.write(type, value);
}

class Hdf5DatasetWriter final : public DatasetWriter {
 public:
  Hdf5DatasetWriter(std::string path, std::string env_args, H5::H5File file, H5::Group data)
      : path_(std::move(path)), env_args_(std::move(env_args)), file_(std::move(file)), data_(std::move(data)) {}

  ~Hdf5DatasetWriter() override {
    if (closed_) return;
    try {
      Close();
    } catch (const std::exception& e) {
      // A destructor may not throw, but silently losing `total` would leave an unreadable dataset.
      std::fprintf(stderr, "padbench: %s\n", e.what());
    }
  }

  void Append(const EpisodeData& episode) override {
    const std::string demo = DemoName(num_episodes_);
    if (closed_) throw Error(fmt::format("{}: cannot append {}: the writer is closed", path_, demo));
    Validate(episode, demo);
    H5::Exception::dontPrint();  // In case the caller re-enabled HDF5's printing since Create.
    try {
      WriteDemo(episode, demo);
    } catch (const H5::Exception& e) {
      const std::string reason = Hdf5Reason(e);
      // Drop the half-written group so the next Append can reuse the name.
      try {
        if (data_.nameExists(demo)) data_.unlink(demo);
      } catch (const H5::Exception&) {
        H5Eclear2(H5E_DEFAULT);
      }
      throw Error(fmt::format("{}: data/{}: cannot write: {}", path_, demo, reason));
    }
    if (num_episodes_ == 0) {
      for (const auto& [camera, unused] : episode.images) cameras_.insert(camera);
      has_actions_ = !episode.actions.empty();
    }
    ++num_episodes_;
    total_samples_ += episode.length;
  }

  int NumEpisodes() const override { return num_episodes_; }

  void Close() override {
    if (closed_) return;
    // Marked first so that a failed Close is not retried (and re-reported) by the destructor.
    closed_ = true;
    try {
      {
        // Scoped so the attribute handle is released before the file is closed.
        H5::Attribute total = data_.createAttribute("total", H5::PredType::STD_I64LE, H5::DataSpace(H5S_SCALAR));
        total.write(H5::PredType::NATIVE_INT64, &total_samples_);
      }
      WriteStringAttr(data_, "env_args", env_args_);
      data_.close();
      file_.close();
    } catch (const H5::Exception& e) {
      throw Error(fmt::format("{}: cannot finish the file: {}", path_, Hdf5Reason(e)));
    }
  }

 private:
  [[noreturn]] void Reject(const std::string& demo, const std::string& what) const {
    throw Error(fmt::format("{}: cannot append {}: {}", path_, demo, what));
  }

  void CheckSize(const std::string& demo, const std::string& array, size_t actual, uint64_t expected,
                 const std::string& formula) const {
    if (actual != expected) {
      Reject(demo, fmt::format("{} has {} values, expected {} = {}", array, actual, formula, expected));
    }
  }

  void Validate(const EpisodeData& e, const std::string& demo) const {
    if (e.length <= 0) Reject(demo, fmt::format("length is {}, expected at least 1", e.length));
    if (e.image_height <= 0 || e.image_width <= 0) {
      Reject(demo, fmt::format("image size is {}x{}, expected positive", e.image_height, e.image_width));
    }
    const uint64_t t = static_cast<uint64_t>(e.length);
    const uint64_t frame = static_cast<uint64_t>(e.image_height) * static_cast<uint64_t>(e.image_width);
    const std::string dims = fmt::format("(T={}, H={}, W={})", e.length, e.image_height, e.image_width);
    if (e.images.empty()) Reject(demo, "images is empty, expected at least one camera");
    for (const auto& [camera, pixels] : e.images) {
      if (camera.empty() || camera.find('/') != std::string::npos) {
        Reject(demo, fmt::format("images has camera name '{}', expected a non-empty name without '/'", camera));
      }
      CheckSize(demo, fmt::format("images[{}]", camera), pixels.size(), t * frame * kChannels,
                fmt::format("T*H*W*3 {}", dims));
    }
    for (const auto& [camera, depth] : e.depths) {
      if (e.images.count(camera) == 0) {
        Reject(demo, fmt::format("depths[{}] has no matching images[{}]", camera, camera));
      }
      CheckSize(demo, fmt::format("depths[{}]", camera), depth.size(), t * frame, fmt::format("T*H*W {}", dims));
    }
    const std::string tdim = fmt::format("(T={})", e.length);
    CheckSize(demo, "ee_pos", e.ee_pos.size(), t * kEePosDim, "T*3 " + tdim);
    CheckSize(demo, "gripper", e.gripper.size(), t, "T " + tdim);
    CheckSize(demo, "rewards", e.rewards.size(), t, "T " + tdim);
    CheckSize(demo, "dones", e.dones.size(), t, "T " + tdim);
    if (!e.actions.empty()) CheckSize(demo, "actions", e.actions.size(), t * kActionDim, "T*4 " + tdim);

    // Readers require one camera set and actions in all demos or none, so the writer enforces it too.
    if (num_episodes_ > 0) {
      std::set<std::string> cameras;
      for (const auto& [camera, unused] : e.images) cameras.insert(camera);
      if (cameras != cameras_) {
        Reject(demo, fmt::format("images has cameras {{{}}}, but demo_0 has {{{}}}", fmt::join(cameras, ", "),
                                 fmt::join(cameras_, ", ")));
      }
      if (e.actions.empty() == has_actions_) {
        Reject(demo, has_actions_ ? "actions is empty, but demo_0 has actions"
                                  : "actions is not empty, but demo_0 has none (an action-free set)");
      }
    }
  }

  static void WriteArray(const H5::Group& group, const std::string& name, Elem elem, std::vector<hsize_t> dims,
                         const void* data, bool frame_chunks) {
    H5::DSetCreatPropList props;
    if (frame_chunks) {
      std::vector<hsize_t> chunk = dims;
      chunk[0] = 1;
      props.setChunk(static_cast<int>(chunk.size()), chunk.data());
      if (elem == Elem::kFloat32) props.setShuffle();  // Grouping bytes by significance helps gzip on floats.
      props.setDeflate(kGzipLevel);
    }
    H5::DataSpace space(static_cast<int>(dims.size()), dims.data());
    H5::DataSet dataset = group.createDataSet(name, FileType(elem), space, props);
    dataset.write(data, MemType(elem));
  }

  void WriteDemo(const EpisodeData& e, const std::string& demo) {
    const hsize_t t = static_cast<hsize_t>(e.length);
    const hsize_t h = static_cast<hsize_t>(e.image_height);
    const hsize_t w = static_cast<hsize_t>(e.image_width);
    H5::Group group = data_.createGroup(demo);
    WriteStringAttr(group, "task", e.task);
    WriteStringAttr(group, "instruction", e.instruction);
    H5::Attribute seed = group.createAttribute("seed", H5::PredType::STD_U64LE, H5::DataSpace(H5S_SCALAR));
    seed.write(H5::PredType::NATIVE_UINT64, &e.seed);
    H5::Attribute num_samples =
        group.createAttribute("num_samples", H5::PredType::STD_I32LE, H5::DataSpace(H5S_SCALAR));
    num_samples.write(H5::PredType::NATIVE_INT, &e.length);

    H5::Group obs = group.createGroup("obs");
    for (const auto& [camera, pixels] : e.images) {
      WriteArray(obs, camera + kImageSuffix, Elem::kUint8, {t, h, w, kChannels}, pixels.data(), true);
    }
    for (const auto& [camera, depth] : e.depths) {
      WriteArray(obs, camera + kDepthSuffix, Elem::kFloat32, {t, h, w}, depth.data(), true);
    }
    WriteArray(obs, "ee_pos", Elem::kFloat32, {t, kEePosDim}, e.ee_pos.data(), false);
    WriteArray(obs, "gripper", Elem::kFloat32, {t, 1}, e.gripper.data(), false);
    if (!e.actions.empty()) WriteArray(group, "actions", Elem::kFloat32, {t, kActionDim}, e.actions.data(), false);
    WriteArray(group, "rewards", Elem::kFloat32, {t}, e.rewards.data(), false);
    WriteArray(group, "dones", Elem::kUint8, {t}, e.dones.data(), false);
  }

  std::string path_;
  std::string env_args_;
  H5::H5File file_;
  H5::Group data_;
  bool closed_ = false;
  int num_episodes_ = 0;
  int64_t total_samples_ = 0;
  std::set<std::string> cameras_;  // demo_0's cameras; every later demo must match
  bool has_actions_ = false;       // demo_0's; every later demo must match
};

// -------------------------------------------------------------------------------------------------
// Reader

// One expected dimension: a known size, or a symbol (T, H, W) while the size is still unknown.
struct Dim {
  static constexpr hsize_t kAny = std::numeric_limits<hsize_t>::max();
  // Implicit so that shapes read naturally as {"T", 3} or {t, h, w, 3}.
  Dim(hsize_t known) : size(known) {}
  Dim(const char* unknown) : symbol(unknown) {}
  hsize_t size = kAny;
  const char* symbol = "?";
};

std::string ShapeString(const std::vector<Dim>& dims) {
  std::vector<std::string> parts;
  for (const Dim& d : dims) parts.push_back(d.size == Dim::kAny ? d.symbol : std::to_string(d.size));
  return fmt::format("[{}]", fmt::join(parts, ","));
}

std::string ShapeString(const std::vector<hsize_t>& dims) {
  return fmt::format("[{}]", fmt::join(dims, ","));
}

std::string TypeString(const H5::DataType& type) {
  const size_t bits = type.getSize() * 8;
  switch (type.getClass()) {
    case H5T_INTEGER:
      return fmt::format("{}{}", H5Tget_sign(type.getId()) == H5T_SGN_NONE ? "uint" : "int", bits);
    case H5T_FLOAT:
      return fmt::format("float{}", bits);
    case H5T_STRING:
      return "string";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return fmt::format("enum{}", bits);
    default:
      return fmt::format("HDF5 type class {}", static_cast<int>(type.getClass()));
  }
}

bool TypeMatches(const H5::DataType& type, Elem elem) {
  if (elem == Elem::kUint8) {
    return type.getClass() == H5T_INTEGER && type.getSize() == 1 && H5Tget_sign(type.getId()) == H5T_SGN_NONE;
  }
  return type.getClass() == H5T_FLOAT && type.getSize() == 4;
}

std::vector<hsize_t> DimsOf(const H5::DataSpace& space) {
  std::vector<hsize_t> dims(static_cast<size_t>(space.getSimpleExtentNdims()));
  if (!dims.empty()) space.getSimpleExtentDims(dims.data());
  return dims;
}

struct DemoInfo {
  std::string task;
  std::string instruction;
  uint64_t seed = 0;
  int length = 0;
  int height = 0;
  int width = 0;
  std::vector<std::string> depth_cameras;
};

class Hdf5DatasetReader final : public DatasetReader {
 public:
  Hdf5DatasetReader(std::string path, H5::H5File file) : path_(std::move(path)), file_(std::move(file)) {}

  // Checks the whole layout so that Read can only fail on I/O, never on shape.
  void Validate() {
    if (!Exists(file_, "", "data")) Fail("data", "missing (expected the group of demos)");
    RequireType(file_, "", "data", H5O_TYPE_GROUP);
    const H5::Group data = Guard("data", [&] { return file_.openGroup("data"); });

    const hsize_t count = Guard("data", [&] { return data.getNumObjs(); });
    if (count > static_cast<hsize_t>(std::numeric_limits<int>::max())) Fail("data", "too many demos");
    std::vector<bool> seen(count, false);
    for (hsize_t i = 0; i < count; ++i) {
      const std::string name = Guard("data", [&] { return data.getObjnameByIdx(i); });
      const int64_t index = ParseDemoIndex(name);
      if (index < 0) {
        Fail("data/" + name, fmt::format("unexpected member (expected only demo_0..demo_{})", count - 1));
      }
      if (static_cast<hsize_t>(index) >= count) {
        Fail("data/" + name, fmt::format("index out of sequence: data has {} members, so demos must be "
                                         "demo_0..demo_{}",
                                         count, count - 1));
      }
      seen[static_cast<size_t>(index)] = true;
    }
    for (hsize_t i = 0; i < count; ++i) {
      if (!seen[i]) Fail("data/" + DemoName(static_cast<int64_t>(i)), "missing");
    }

    int64_t sum = 0;
    for (hsize_t i = 0; i < count; ++i) {
      demos_.push_back(ValidateDemo(data, static_cast<int>(i)));
      sum += demos_.back().length;
    }

    total_ = ReadIntAttr(data, "data", "total", " (written by DatasetWriter::Close; was the writer closed?)");
    if (total_ != sum) {
      Fail("data", fmt::format("attribute total is {}, but the demos hold {} samples", total_, sum));
    }
    env_args_ = ReadStringAttr(data, "data", "env_args", " (written by DatasetWriter::Close; was the writer closed?)");
  }

  int NumEpisodes() const override { return static_cast<int>(demos_.size()); }
  int64_t TotalSamples() const override { return total_; }
  std::string EnvArgs() const override { return env_args_; }
  bool HasActions() const override { return has_actions_; }
  std::vector<std::string> Cameras() const override { return cameras_; }

  EpisodeData Read(int index) const override {
    if (index < 0 || index >= NumEpisodes()) {
      throw Error(fmt::format("{}: episode index {} out of range [0, {})", path_, index, NumEpisodes()));
    }
    H5::Exception::dontPrint();  // In case the caller re-enabled HDF5's printing since Open.
    const DemoInfo& info = demos_[static_cast<size_t>(index)];
    const std::string where = "data/" + DemoName(index);
    const H5::Group group = Guard(where, [&] { return file_.openGroup(where); });
    const H5::Group obs = Guard(where + "/obs", [&] { return group.openGroup("obs"); });
    const size_t t = static_cast<size_t>(info.length);
    const size_t frame = static_cast<size_t>(info.height) * static_cast<size_t>(info.width);

    EpisodeData e;
    e.task = info.task;
    e.instruction = info.instruction;
    e.seed = info.seed;
    e.length = info.length;
    e.image_height = info.height;
    e.image_width = info.width;
    for (const std::string& camera : cameras_) {
      ReadArray(obs, where + "/obs", camera + kImageSuffix, Elem::kUint8, t * frame * kChannels,
                e.images[camera]);
    }
    for (const std::string& camera : info.depth_cameras) {
      ReadArray(obs, where + "/obs", camera + kDepthSuffix, Elem::kFloat32, t * frame, e.depths[camera]);
    }
    ReadArray(obs, where + "/obs", "ee_pos", Elem::kFloat32, t * kEePosDim, e.ee_pos);
    ReadArray(obs, where + "/obs", "gripper", Elem::kFloat32, t, e.gripper);
    if (has_actions_) ReadArray(group, where, "actions", Elem::kFloat32, t * kActionDim, e.actions);
    ReadArray(group, where, "rewards", Elem::kFloat32, t, e.rewards);
    ReadArray(group, where, "dones", Elem::kUint8, t, e.dones);
    return e;
  }

 private:
  [[noreturn]] void Fail(const std::string& where, const std::string& what) const {
    throw Error(fmt::format("{}: {}: {}", path_, where, what));
  }

  // Runs an HDF5 call, naming `where` if the library fails (e.g. a damaged object header).
  template <typename F>
  auto Guard(const std::string& where, F&& f) const -> decltype(f()) {
    try {
      return f();
    } catch (const H5::Exception& e) {
      Fail(where, "unreadable: " + Hdf5Reason(e));
    }
  }

  static std::string Join(const std::string& parent, const std::string& name) {
    return parent.empty() ? name : parent + "/" + name;
  }

  bool Exists(const H5::H5Location& parent, const std::string& parent_where, const std::string& name) const {
    return Guard(Join(parent_where, name), [&] { return parent.nameExists(name); });
  }

  void RequireType(const H5::H5Location& parent, const std::string& parent_where, const std::string& name,
                   H5O_type_t expected) const {
    const std::string where = Join(parent_where, name);
    const H5O_type_t type = Guard(where, [&] { return parent.childObjType(name); });
    if (type != expected) {
      Fail(where, expected == H5O_TYPE_GROUP ? "is not a group" : "is not a dataset");
    }
  }

  // demo_<n> with n written without leading zeros; -1 for any other name.
  static int64_t ParseDemoIndex(const std::string& name) {
    const std::string prefix = kDemoPrefix;
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return -1;
    const std::string digits = name.substr(prefix.size());
    if (digits.size() > 9 || (digits.size() > 1 && digits[0] == '0')) return -1;
    int64_t value = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return -1;
      value = value * 10 + (c - '0');
    }
    return value;
  }

  // Opens parent/name and checks its dtype and shape; returns the actual dims.
  std::vector<hsize_t> CheckDataset(const H5::Group& parent, const std::string& parent_where,
                                    const std::string& name, Elem elem, const std::vector<Dim>& expected) const {
    const std::string where = Join(parent_where, name);
    const std::string wanted = fmt::format("{} {}", ElemName(elem), ShapeString(expected));
    if (!Exists(parent, parent_where, name)) Fail(where, fmt::format("missing (expected {})", wanted));
    RequireType(parent, parent_where, name, H5O_TYPE_DATASET);
    return Guard(where, [&] {
      const H5::DataSet dataset = parent.openDataSet(name);
      const H5::DataType type = dataset.getDataType();
      const std::vector<hsize_t> dims = DimsOf(dataset.getSpace());
      bool ok = TypeMatches(type, elem) && dims.size() == expected.size();
      for (size_t i = 0; ok && i < dims.size(); ++i) {
        ok = expected[i].size == Dim::kAny || expected[i].size == dims[i];
      }
      if (!ok) Fail(where, fmt::format("expected {}, found {} {}", wanted, TypeString(type), ShapeString(dims)));
      return dims;
    });
  }

  H5::Attribute OpenAttr(const H5::H5Object& object, const std::string& where, const std::string& name,
                         const char* hint) const {
    const bool exists = Guard(where, [&] { return object.attrExists(name); });
    if (!exists) Fail(where, fmt::format("attribute '{}' missing{}", name, hint));
    return Guard(where, [&] {
      H5::Attribute attr = object.openAttribute(name);
      if (attr.getSpace().getSimpleExtentNpoints() != 1) {
        Fail(where, fmt::format("attribute '{}' has {} values, expected one", name,
                                attr.getSpace().getSimpleExtentNpoints()));
      }
      return attr;
    });
  }

  std::string ReadStringAttr(const H5::H5Object& object, const std::string& where, const std::string& name,
                             const char* hint = "") const {
    const H5::Attribute attr = OpenAttr(object, where, name, hint);
    return Guard(where, [&] {
      const H5::DataType type = attr.getDataType();
      if (type.getClass() != H5T_STRING) {
        Fail(where, fmt::format("attribute '{}' is {}, expected a string", name, TypeString(type)));
      }
      std::string value;
      // Reading with the stored type handles both variable- and fixed-length strings.
      attr.read(attr.getStrType(), value);
      return value;
    });
  }

  int64_t ReadIntAttr(const H5::H5Object& object, const std::string& where, const std::string& name,
                      const char* hint = "") const {
    const H5::Attribute attr = OpenAttr(object, where, name, hint);
    return Guard(where, [&] {
      const H5::DataType type = attr.getDataType();
      if (type.getClass() != H5T_INTEGER) {
        Fail(where, fmt::format("attribute '{}' is {}, expected an integer", name, TypeString(type)));
      }
      int64_t value = 0;
      attr.read(H5::PredType::NATIVE_INT64, &value);
      return value;
    });
  }

  uint64_t ReadSeedAttr(const H5::H5Object& object, const std::string& where) const {
    const H5::Attribute attr = OpenAttr(object, where, "seed", "");
    return Guard(where, [&] {
      const H5::DataType type = attr.getDataType();
      if (type.getClass() != H5T_INTEGER) {
        Fail(where, fmt::format("attribute 'seed' is {}, expected an integer", TypeString(type)));
      }
      // Signed seeds (h5py's default int64) are accepted unless negative, which a uint64 cannot hold.
      if (H5Tget_sign(type.getId()) != H5T_SGN_NONE) {
        int64_t value = 0;
        attr.read(H5::PredType::NATIVE_INT64, &value);
        if (value < 0) Fail(where, fmt::format("attribute 'seed' is {}, expected a non-negative value", value));
        return static_cast<uint64_t>(value);
      }
      uint64_t value = 0;
      attr.read(H5::PredType::NATIVE_UINT64, &value);
      return value;
    });
  }

  static void CheckFitsInt(const std::string& path, const std::string& where, const char* symbol, hsize_t value) {
    if (value > static_cast<hsize_t>(std::numeric_limits<int>::max())) {
      throw Error(fmt::format("{}: {}: {} = {} is too large", path, where, symbol, value));
    }
  }

  DemoInfo ValidateDemo(const H5::Group& data, int index) {
    const std::string demo = DemoName(index);
    const std::string where = "data/" + demo;
    RequireType(data, "data", demo, H5O_TYPE_GROUP);
    const H5::Group group = Guard(where, [&] { return data.openGroup(demo); });
    if (!Exists(group, where, "obs")) Fail(where + "/obs", "missing (expected the group of observations)");
    RequireType(group, where, "obs", H5O_TYPE_GROUP);
    const std::string obs_where = where + "/obs";
    const H5::Group obs = Guard(obs_where, [&] { return group.openGroup("obs"); });

    DemoInfo info;
    const std::vector<hsize_t> ee = CheckDataset(obs, obs_where, "ee_pos", Elem::kFloat32, {"T", kEePosDim});
    const hsize_t t = ee[0];
    CheckFitsInt(path_, obs_where + "/ee_pos", "T", t);
    if (t == 0) Fail(obs_where + "/ee_pos", "has no steps (T = 0)");
    info.length = static_cast<int>(t);
    CheckDataset(obs, obs_where, "gripper", Elem::kFloat32, {t, 1});

    std::set<std::string> cameras;
    std::set<std::string> depth_cameras;
    const hsize_t count = Guard(obs_where, [&] { return obs.getNumObjs(); });
    for (hsize_t i = 0; i < count; ++i) {
      const std::string name = Guard(obs_where, [&] { return obs.getObjnameByIdx(i); });
      if (const std::string camera = CameraOf(name, kImageSuffix); !camera.empty()) cameras.insert(camera);
      if (const std::string camera = CameraOf(name, kDepthSuffix); !camera.empty()) depth_cameras.insert(camera);
    }
    if (cameras.empty()) Fail(obs_where, "no <camera>_image dataset (expected at least one camera)");
    hsize_t h = 0;
    hsize_t w = 0;
    for (const std::string& camera : cameras) {
      const bool first = camera == *cameras.begin();
      const std::vector<hsize_t> dims =
          first ? CheckDataset(obs, obs_where, camera + kImageSuffix, Elem::kUint8, {t, "H", "W", kChannels})
                : CheckDataset(obs, obs_where, camera + kImageSuffix, Elem::kUint8, {t, h, w, kChannels});
      if (first) {
        h = dims[1];
        w = dims[2];
        CheckFitsInt(path_, obs_where + "/" + camera + kImageSuffix, "H", h);
        CheckFitsInt(path_, obs_where + "/" + camera + kImageSuffix, "W", w);
        if (h == 0 || w == 0) Fail(obs_where + "/" + camera + kImageSuffix, "has empty frames");
      }
    }
    for (const std::string& camera : depth_cameras) {
      if (cameras.count(camera) == 0) {
        Fail(obs_where + "/" + camera + kDepthSuffix, fmt::format("has no matching {}{}", camera, kImageSuffix));
      }
      CheckDataset(obs, obs_where, camera + kDepthSuffix, Elem::kFloat32, {t, h, w});
    }
    info.height = static_cast<int>(h);
    info.width = static_cast<int>(w);
    info.depth_cameras.assign(depth_cameras.begin(), depth_cameras.end());

    const std::vector<std::string> camera_list(cameras.begin(), cameras.end());
    if (index == 0) {
      cameras_ = camera_list;
    } else if (camera_list != cameras_) {
      Fail(obs_where, fmt::format("has cameras {{{}}}, but demo_0 has {{{}}}", fmt::join(camera_list, ", "),
                                  fmt::join(cameras_, ", ")));
    }

    const bool has_actions = Exists(group, where, "actions");
    if (index == 0) {
      has_actions_ = has_actions;
    } else if (has_actions != has_actions_) {
      Fail(where + "/actions", has_actions_ ? "missing, but demo_0 has actions"
                                            : "present, but demo_0 has none (actions must be in all demos or none)");
    }
    if (has_actions) CheckDataset(group, where, "actions", Elem::kFloat32, {t, kActionDim});
    CheckDataset(group, where, "rewards", Elem::kFloat32, {t});
    CheckDataset(group, where, "dones", Elem::kUint8, {t});

    info.task = ReadStringAttr(group, where, "task");
    info.instruction = ReadStringAttr(group, where, "instruction");
    info.seed = ReadSeedAttr(group, where);
    if (Guard(where, [&] { return group.attrExists("num_samples"); })) {
      const int64_t num_samples = ReadIntAttr(group, where, "num_samples");
      if (num_samples != static_cast<int64_t>(t)) {
        Fail(where, fmt::format("attribute num_samples is {}, but the arrays hold T = {} steps", num_samples, t));
      }
    }
    return info;
  }

  template <typename T>
  void ReadArray(const H5::Group& parent, const std::string& parent_where, const std::string& name, Elem elem,
                 size_t count, std::vector<T>& out) const {
    const std::string where = parent_where + "/" + name;
    try {
      out.resize(count);
    } catch (const std::exception&) {
      Fail(where, fmt::format("cannot allocate {} values", count));
    }
    Guard(where, [&] { parent.openDataSet(name).read(out.data(), MemType(elem)); });
  }

  std::string path_;
  H5::H5File file_;
  std::vector<DemoInfo> demos_;
  std::vector<std::string> cameras_;  // sorted; identical in every demo
  bool has_actions_ = false;
  int64_t total_ = 0;
  std::string env_args_;
};

}  // namespace

std::unique_ptr<DatasetWriter> DatasetWriter::Create(const std::string& path, const std::string& env_args_json) {
  // One clear padbench::Error per failure instead of HDF5's multi-line stack dump on stderr.
  H5::Exception::dontPrint();
  try {
    H5::H5File file(path, H5F_ACC_TRUNC);
    H5::Group data = file.createGroup("data");
    return std::make_unique<Hdf5DatasetWriter>(path, env_args_json, std::move(file), std::move(data));
  } catch (const H5::Exception& e) {
    throw Error(fmt::format("{}: cannot create HDF5 file: {}", path, Hdf5Reason(e)));
  }
}

std::unique_ptr<DatasetReader> DatasetReader::Open(const std::string& path) {
  H5::Exception::dontPrint();
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) throw Error(fmt::format("{}: no such file", path));
  if (!std::filesystem::is_regular_file(status)) throw Error(fmt::format("{}: not a regular file", path));
  std::unique_ptr<Hdf5DatasetReader> reader;
  try {
    if (!H5::H5File::isHdf5(path)) throw Error(fmt::format("{}: not an HDF5 file (no HDF5 signature)", path));
    reader = std::make_unique<Hdf5DatasetReader>(path, H5::H5File(path, H5F_ACC_RDONLY));
  } catch (const H5::Exception& e) {
    throw Error(fmt::format("{}: cannot open HDF5 file: {}", path, Hdf5Reason(e)));
  }
  reader->Validate();
  return reader;
}

}  // namespace padbench
