// Helpers shared by the tests: temporary files that clean up after themselves.
#pragma once

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace padbench::testing {

// A unique path under the system temp folder, removed (with anything below it) on destruction.
class TempPath {
 public:
  explicit TempPath(const std::string& suffix = "") {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("padbench_test_" + std::to_string(rd()) + std::to_string(rd()) + suffix);
  }
  ~TempPath() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string str() const { return path_.string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void WriteText(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace padbench::testing
