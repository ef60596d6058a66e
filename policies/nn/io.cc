#include "policies/nn/io.h"

#include <fmt/format.h>

#include "sim/error.h"

namespace padbench::nn {

torch::Tensor ImageTensor(const Observation& obs, const std::string& camera, int size, std::string_view policy) {
  const auto it = obs.rgb.find(camera);
  if (it == obs.rgb.end()) throw Error(fmt::format("{}: observation lacks camera '{}'", policy, camera));
  const Image& img = it->second;
  if (img.height != size || img.width != size) {
    throw Error(fmt::format("{}: expects {}x{} images, got {}x{}", policy, size, size, img.height, img.width));
  }
  return torch::from_blob(const_cast<uint8_t*>(img.data()), {size, size, 3}, torch::kUInt8).permute({2, 0, 1});
}

torch::Tensor ProprioTensor(const Observation& obs) {
  return torch::tensor({obs.ee_pos[0], obs.ee_pos[1], obs.ee_pos[2], obs.gripper});
}

std::vector<Action> ToActions(const torch::Tensor& chunk, int from, int count) {
  const auto c = chunk.clamp(-1.0, 1.0).contiguous();
  const auto rows = c.accessor<float, 2>();
  std::vector<Action> out(count);
  for (int i = 0; i < count; ++i)
    for (int k = 0; k < kActionDim; ++k) out[i][k] = rows[from + i][k];
  return out;
}

}  // namespace padbench::nn
