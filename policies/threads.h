// LibTorch's intra-op thread count, settable without including torch.
#pragma once

namespace padbench {

void SetTorchThreads(int threads);
int TorchThreads();

}  // namespace padbench
