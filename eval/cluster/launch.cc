// What every build knows of MPI: whether a launcher started this process, and, in a build
// without MPI, the error for a launch that needs it.
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "eval/cluster/transport.h"
#include "sim/error.h"

namespace padbench {
// OpenMPI's mpirun, PMI under srun, or PMIx under srun --mpi=pmix (whose size Slurm gives).
int LaunchedRanks() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) {
    if (const char* value = std::getenv(name)) return std::atoi(value);
  }
  if (!std::getenv("PMIX_RANK")) return 0;
  const char* tasks = std::getenv("SLURM_NTASKS");
  return tasks ? std::atoi(tasks) : 2;  // size unknown: assume several
}

#ifndef PADBENCH_WITH_MPI
bool BuiltWithMpi() { return false; }

Transport* MpiWorld() {
  if (LaunchedRanks() > 1) {
    throw Error(fmt::format("an MPI launcher started {} ranks, but this padbench was built without MPI; install "
                            "libopenmpi-dev (scripts/setup.sh does) and rebuild, or run without mpirun",
                            LaunchedRanks()));
  }
  return nullptr;
}
#endif

}  // namespace padbench
