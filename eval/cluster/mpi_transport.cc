#include <mpi.h>

#include <chrono>
#include <cstdlib>
#include <list>
#include <memory>
#include <thread>

#include "eval/cluster/transport.h"
#include "sim/error.h"

namespace padbench {
namespace {

class MpiTransport final : public Transport {
 public:
  MpiTransport() {
    // OpenMPI's MPI_Finalize waits in a fence for every rank, a dead one too (mpirun
    // --enable-recovery keeps the others running): without the fence, the living ranks end.
    // Each rank lets its own sends finish first (Finalize below).
    setenv("OMPI_MCA_async_mpi_finalize", "1", /*overwrite=*/0);
    int provided = 0;
    // Every MPI call of a process comes from one thread at a time (the experts' threads take
    // turns under a lock), which MPI_THREAD_SERIALIZED allows.
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
    if (provided < MPI_THREAD_SERIALIZED) throw Error("MPI: this MPI library does not allow MPI_THREAD_SERIALIZED");
    // A rank that died must not take this one with it: errors come back as codes, and a
    // send to a dead rank is simply never answered (the job queue notices the silence).
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }

  // Gives the last messages a moment to leave, then ends MPI. Sends to a rank that died never
  // complete: they are abandoned.
  void Finalize() {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (Reap(), !sending_.empty() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (Outgoing& out : sending_) MPI_Request_free(&out.request);
    sending_.clear();
    MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void Send(int to, int tag, std::string body) override {
    Reap();
    sending_.push_back({std::move(body), MPI_REQUEST_NULL});
    Outgoing& out = sending_.back();
    if (MPI_Isend(out.body.data(), int(out.body.size()), MPI_BYTE, to, tag, MPI_COMM_WORLD, &out.request) !=
        MPI_SUCCESS) {
      sending_.pop_back();  // that rank is gone; the queue handles its silence
    }
  }

  std::optional<Message> Receive() override {
    Reap();
    int flag = 0;
    MPI_Message handle;
    MPI_Status status;
    if (MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &handle, &status) != MPI_SUCCESS || !flag) {
      return std::nullopt;
    }
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    Message message{status.MPI_SOURCE, status.MPI_TAG, std::string(size_t(count), '\0')};
    MPI_Mrecv(message.body.data(), count, MPI_BYTE, &handle, MPI_STATUS_IGNORE);
    return message;
  }

 private:
  struct Outgoing {
    std::string body;  // kept alive until the send completes
    MPI_Request request;
  };
  void Reap() {
    for (auto it = sending_.begin(); it != sending_.end();) {
      int done = 0;
      MPI_Test(&it->request, &done, MPI_STATUS_IGNORE);
      it = done ? sending_.erase(it) : std::next(it);
    }
  }
  int rank_ = 0, size_ = 1;
  std::list<Outgoing> sending_;  // a list: bodies must not move while MPI reads them
};

std::unique_ptr<MpiTransport> world;

}  // namespace

bool BuiltWithMpi() { return true; }

Transport* MpiWorld() {
  static const bool initialised = [] {
    if (LaunchedRanks() == 0) return false;
    world = std::make_unique<MpiTransport>();
    std::atexit([] {
      world->Finalize();
      world.reset();
    });
    return true;
  }();
  return initialised && world->size() > 1 ? world.get() : nullptr;
}

}  // namespace padbench
