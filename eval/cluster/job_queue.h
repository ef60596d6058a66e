// The work of one run, handed out job by job: to the workers of this process alone (a local
// run), or by rank 0 to every rank of a distributed run. A job is a number that every rank maps
// to the same work (an episode, an expert attempt); its result is a byte string (an episode
// record) that reaches rank 0's `on_result` exactly once, whichever rank ran it.
//
// Faults: every rank and rank 0 exchange a heartbeat each second. A rank silent for
// `rank_timeout_s` counts as dead: its jobs go back to the front of the queue for another rank
// (a result that still comes from it later is one more copy of a result, and ignored). A rank
// that stops alone (a signal) hands its jobs back at once. Rank 0 silent that long ends the
// others with an error: the run folder it owns resumes with --resume, with MPI or without.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "eval/cluster/transport.h"

namespace padbench {

class JobSource {
 public:
  enum class Next { kJob, kWait, kDone };
  virtual ~JobSource() = default;
  // The next job for this process (kJob, with *job set); kWait: none now, but one may come (a
  // job of a rank that dies); kDone: none will.
  virtual Next Take(size_t* job) = 0;
  // The result of a job this process took.
  virtual void Complete(size_t job, std::string result) = 0;
  // Moves messages: call it every few milliseconds while working or waiting. `idle`: how many
  // jobs this process could start now.
  virtual void Poll(int idle) = 0;
  // Ends the run: `error` says why ("" for a stop request). On rank 0 it stops every rank; on
  // another rank an error stops the run, and "" hands this rank's jobs back.
  virtual void Stop(const std::string& error) = 0;
  // Stopped, here or by another rank: take no more jobs, abandon the running ones.
  virtual bool stopped() const = 0;
  // The error that stopped the run, "" if none.
  virtual const std::string& error() const = 0;
};

struct QueueOptions {
  double rank_timeout_s = 30;                  // silence after which a rank counts as dead
  std::string fingerprint;                     // every rank must bring the same (the run's identity)
  std::function<bool(size_t job)> rank0_only;  // jobs only rank 0 runs (they write into its run folder)
  int prefetch = 1;                            // jobs a rank holds beyond those it can start now
  std::function<int(size_t job)> weight;       // what a job counts in results_per_rank (default 1)
};

// Rank 0's side of a distributed run, and the whole of a local one (`net` null): hands out
// `jobs` in their order, rank 0's own workers and the other ranks alike.
class JobServer final : public JobSource {
 public:
  using ResultFn = std::function<void(size_t job, const std::string& result)>;
  JobServer(Transport* net, const std::vector<size_t>& jobs, ResultFn on_result, QueueOptions options = {});

  Next Take(size_t* job) override;
  void Complete(size_t job, std::string result) override;
  void Poll(int idle) override;
  void Stop(const std::string& error) override;
  bool stopped() const override { return stopped_; }
  const std::string& error() const override { return error_; }

  // Drops the jobs `drop` selects that have no result yet: they are not handed out again, and a
  // result that still comes for one is ignored (collect: a task has all its demonstrations).
  void Cancel(const std::function<bool(size_t job)>& drop);
  // Every job has its result or was cancelled.
  bool finished() const { return remaining_ == 0; }
  // Jobs handed back to the queue because their rank fell silent or stopped.
  int requeued() const { return requeued_; }
  // Results accepted from each rank.
  const std::vector<int>& results_per_rank() const { return per_rank_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Rank {
    bool alive = true;
    int asked = 0;  // jobs its last request wants, 0 when answered
    Clock::time_point heard;
  };
  void Accept(int rank, size_t job, const std::string& result);
  void Handle(const Message& message);
  void Requeue(int rank, const std::string& why);
  void Serve();
  void SendAll(int tag, const std::string& body);
  void TellDoneIfFinished();  // every rank learns the end once

  Transport* net_;
  ResultFn on_result_;
  QueueOptions options_;
  std::deque<size_t> pending_, pending_rank0_;  // in order; rank0_only jobs apart
  std::map<size_t, int> owner_;                 // job -> the rank running it
  std::set<size_t> closed_;                     // jobs with a result, or cancelled
  size_t remaining_ = 0;
  std::vector<Rank> ranks_;
  Clock::time_point last_beat_;
  bool stopped_ = false, done_sent_ = false;
  std::string error_;
  int requeued_ = 0;
  std::vector<int> per_rank_;
};

// The side of every rank but 0.
class JobClient final : public JobSource {
 public:
  JobClient(Transport& net, QueueOptions options);

  Next Take(size_t* job) override;
  void Complete(size_t job, std::string result) override;
  void Poll(int idle) override;
  void Stop(const std::string& error) override;
  bool stopped() const override { return stopped_; }
  const std::string& error() const override { return error_; }
  // Jobs this rank took.
  int taken() const { return taken_; }

 private:
  using Clock = std::chrono::steady_clock;
  Transport& net_;
  QueueOptions options_;
  std::deque<size_t> jobs_;
  bool hello_sent_ = false, asking_ = false, done_ = false, stopped_ = false;
  std::string error_;
  Clock::time_point heard_, last_beat_;
  int taken_ = 0;
};

// Rank 0 ending every other rank before a JobServer exists (a run folder it cannot use):
// their JobClients stop with `error`.
void StopAllRanks(Transport& net, const std::string& error);

}  // namespace padbench
