#include "sim/assets.h"

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "sim/error.h"

namespace padbench {

std::string AssetDir() {
  const char* env = std::getenv("PADBENCH_ASSETS");
  return env && *env ? env : PADBENCH_ASSET_DIR;
}

std::string AssetPath(const std::string& relative) {
  std::string path = AssetDir() + "/" + relative;
  if (!std::filesystem::exists(path)) {
    throw Error(fmt::format("asset not found: {} (asset folder {}; set PADBENCH_ASSETS to move it)",
                            path, AssetDir()));
  }
  return path;
}

}  // namespace padbench
