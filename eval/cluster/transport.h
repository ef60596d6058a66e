// Messages between the processes of one distributed run: the ranks an MPI launcher (mpirun,
// srun) started. No MPI header here; only mpi_transport.cc includes <mpi.h>, and a build
// without MPI has none of it (MpiWorld() is then always null).
#pragma once

#include <optional>
#include <string>

namespace padbench {

struct Message {
  int from = 0;
  int tag = 0;
  std::string body;
};

// Tagged byte strings between ranks 0..size-1. Messages from one rank to another arrive in
// the order they were sent.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Returns at once; the message leaves in the background.
  virtual void Send(int to, int tag, std::string body) = 0;
  // A message that has arrived, or none; never waits.
  virtual std::optional<Message> Receive() = 0;
};

// How many ranks the MPI launcher that started this process says it started (its environment
// tells, in any build); 0 when no launcher started it.
int LaunchedRanks();
// Whether this padbench was built with MPI (PADBENCH_WITH_MPI).
bool BuiltWithMpi();

// The MPI world of this process: initialised on the first call, finalised at exit. Null when no
// MPI launcher started the process, or when it started one rank alone (a local run). Throws
// padbench::Error when a launcher started several ranks of a build without MPI.
Transport* MpiWorld();

}  // namespace padbench
