#include "policies/threads.h"

#include <ATen/Parallel.h>

namespace padbench {

void SetTorchThreads(int threads) { at::set_num_threads(threads); }
int TorchThreads() { return at::get_num_threads(); }

}  // namespace padbench
