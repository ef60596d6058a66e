// Locating padbench's asset folder (MJCF scenes, shipped checkpoints).
#pragma once

#include <string>

namespace padbench {

// $PADBENCH_ASSETS if set, else the source tree's assets/ folder compiled in.
std::string AssetDir();
// AssetDir() + "/" + relative; throws padbench::Error if the file does not exist.
std::string AssetPath(const std::string& relative);

}  // namespace padbench
