// HDF5 demonstration datasets in robomimic's layout:
//   data/                         attrs: total (int, sum of episode lengths), env_args (JSON string)
//   data/demo_<i>/                attrs: task, instruction (strings), seed (uint64), num_samples (int)
//   data/demo_<i>/obs/<cam>_image uint8 [T,H,W,3], chunked + gzip
//   data/demo_<i>/obs/<cam>_depth float32 [T,H,W] (optional)
//   data/demo_<i>/obs/ee_pos      float32 [T,3]
//   data/demo_<i>/obs/gripper     float32 [T,1]
//   data/demo_<i>/actions         float32 [T,4] (absent in action-free video sets)
//   data/demo_<i>/rewards         float32 [T]
//   data/demo_<i>/dones           uint8   [T]
// Frame t is the observation before action t.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace padbench {

// One episode's arrays, laid out exactly as stored.
struct EpisodeData {
  std::string task;
  std::string instruction;
  uint64_t seed = 0;
  int length = 0;        // T
  int image_height = 0;  // H
  int image_width = 0;   // W
  std::map<std::string, std::vector<uint8_t>> images;  // camera -> [T,H,W,3]
  std::map<std::string, std::vector<float>> depths;    // camera -> [T,H,W]
  std::vector<float> ee_pos;                           // [T,3]
  std::vector<float> gripper;                          // [T]
  std::vector<float> actions;                          // [T,4]; empty for video-only sets
  std::vector<float> rewards;                          // [T]
  std::vector<uint8_t> dones;                          // [T]
};

// Appends episodes to a new file; Close() (or the destructor) writes the `data` attributes.
class DatasetWriter {
 public:
  // Creates (truncates) `path`. Throws padbench::Error when it cannot.
  static std::unique_ptr<DatasetWriter> Create(const std::string& path, const std::string& env_args_json);
  virtual ~DatasetWriter() = default;
  // Writes data/demo_<n> where n counts appended episodes. Throws on inconsistent shapes.
  virtual void Append(const EpisodeData& episode) = 0;
  virtual int NumEpisodes() const = 0;
  // Flushes and closes the file; further Append calls throw.
  virtual void Close() = 0;
};

// Opens and validates a dataset; every missing or mis-shaped array is named in the error.
class DatasetReader {
 public:
  static std::unique_ptr<DatasetReader> Open(const std::string& path);
  virtual ~DatasetReader() = default;
  virtual int NumEpisodes() const = 0;
  virtual int64_t TotalSamples() const = 0;
  virtual std::string EnvArgs() const = 0;
  virtual bool HasActions() const = 0;              // false for action-free video sets
  virtual std::vector<std::string> Cameras() const = 0;
  virtual EpisodeData Read(int index) const = 0;    // demo order: demo_0, demo_1, ...
};

}  // namespace padbench
