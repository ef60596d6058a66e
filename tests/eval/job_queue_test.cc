// The job queue of distributed runs over an in-memory network: order, exactly-once results,
// a rank that falls silent, a rank that runs another job, cancellation. The same queue runs
// local runs (no network), so these also pin what a local eval, experts or collect sees.
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "eval/cluster/job_queue.h"

namespace padbench {
namespace {

using Catch::Matchers::Contains;
using Next = JobSource::Next;

// Ranks 0..n-1 in one process: a send lands in the receiver's inbox at once.
class Network {
 public:
  explicit Network(int size) : inboxes_(size) {
    for (int r = 0; r < size; ++r) ranks_.push_back(std::make_unique<Rank>(*this, r));
  }
  Transport& rank(int r) { return *ranks_[size_t(r)]; }
  // Messages to `to` are dropped from now on (its process died).
  void Kill(int r) { dead_[r] = true; }

 private:
  class Rank final : public Transport {
   public:
    Rank(Network& net, int rank) : net_(net), rank_(rank) {}
    int rank() const override { return rank_; }
    int size() const override { return int(net_.inboxes_.size()); }
    void Send(int to, int tag, std::string body) override {
      if (!net_.dead_[rank_] && !net_.dead_[to]) net_.inboxes_[size_t(to)].push_back({rank_, tag, std::move(body)});
    }
    std::optional<Message> Receive() override {
      auto& inbox = net_.inboxes_[size_t(rank_)];
      if (inbox.empty()) return std::nullopt;
      Message m = std::move(inbox.front());
      inbox.pop_front();
      return m;
    }

   private:
    Network& net_;
    int rank_;
  };
  std::vector<std::deque<Message>> inboxes_;
  std::vector<std::unique_ptr<Rank>> ranks_;
  std::map<int, bool> dead_;
};

QueueOptions Options(const std::string& fingerprint = "run", double timeout_s = 30) {
  QueueOptions o;
  o.fingerprint = fingerprint;
  o.rank_timeout_s = timeout_s;
  return o;
}

// Polls every side a few rounds so that messages settle.
template <typename... Sources>
void Settle(Sources&... sources) {
  for (int round = 0; round < 4; ++round) (sources.Poll(1), ...);
}

TEST_CASE("job queue: a local queue hands out its jobs in order and takes each result once", "[cluster]") {
  std::vector<std::pair<size_t, std::string>> results;
  JobServer server(nullptr, {4, 2, 9}, [&](size_t job, const std::string& r) { results.push_back({job, r}); });
  size_t job = 0;
  std::vector<size_t> order;
  while (server.Take(&job) == Next::kJob) order.push_back(job);
  REQUIRE(order == std::vector<size_t>{4, 2, 9});
  REQUIRE(server.Take(&job) == Next::kWait);  // all out, none back yet
  server.Complete(2, "b");
  server.Complete(2, "b again");  // a second copy is ignored
  server.Complete(4, "a");
  REQUIRE_FALSE(server.finished());
  server.Complete(9, "c");
  REQUIRE(server.finished());
  REQUIRE(server.Take(&job) == Next::kDone);
  REQUIRE(results == std::vector<std::pair<size_t, std::string>>{{2, "b"}, {4, "a"}, {9, "c"}});
}

TEST_CASE("job queue: ranks share the jobs, results reach rank 0 once, and every rank learns the end",
          "[cluster]") {
  Network net(3);
  std::map<size_t, std::string> results;
  std::vector<size_t> jobs(10);
  for (size_t j = 0; j < jobs.size(); ++j) jobs[j] = j;
  JobServer server(&net.rank(0), jobs, [&](size_t job, const std::string& r) {
    REQUIRE(results.emplace(job, r).second);
  }, Options());
  JobClient one(net.rank(1), Options()), two(net.rank(2), Options());
  std::map<int, int> ran;
  for (int round = 0; round < 50 && !server.finished(); ++round) {
    server.Poll(1);
    one.Poll(1);
    two.Poll(1);
    size_t job = 0;
    if (server.Take(&job) == Next::kJob) server.Complete(job, "r0:" + std::to_string(job)), ++ran[0];
    if (one.Take(&job) == Next::kJob) one.Complete(job, "r1:" + std::to_string(job)), ++ran[1];
    if (two.Take(&job) == Next::kJob) two.Complete(job, "r2:" + std::to_string(job)), ++ran[2];
  }
  Settle(server, one, two);
  REQUIRE(server.finished());
  REQUIRE(results.size() == 10);
  REQUIRE(ran[0] > 0);
  REQUIRE(ran[1] > 0);
  REQUIRE(ran[2] > 0);
  REQUIRE(server.results_per_rank() == std::vector<int>{ran[0], ran[1], ran[2]});
  size_t job = 0;
  REQUIRE(one.Take(&job) == Next::kDone);
  REQUIRE(two.Take(&job) == Next::kDone);
  REQUIRE(server.error().empty());
}

TEST_CASE("job queue: a silent rank's jobs go back to the front of the queue, and its late result counts once",
          "[cluster]") {
  Network net(2);
  std::vector<std::string> results;
  JobServer server(&net.rank(0), {0, 1, 2, 3}, [&](size_t job, const std::string& r) {
    results.push_back(std::to_string(job) + "=" + r);
  }, Options("run", 0.2));
  JobClient client(net.rank(1), Options("run", 0.2));
  size_t job = 0;
  Settle(server, client);
  REQUIRE(client.Take(&job) == Next::kJob);  // it holds 0 and 1 (one to run, one ahead)
  REQUIRE(job == 0);
  REQUIRE(server.Take(&job) == Next::kJob);
  REQUIRE(job == 2);
  // The client stops answering; rank 0 waits out the timeout.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  server.Poll(1);
  REQUIRE(server.requeued() == 2);
  REQUIRE(server.Take(&job) == Next::kJob);
  REQUIRE(job == 0);  // the oldest first
  server.Complete(0, "rank0");
  // It was only slow: its result for job 0 is a second copy.
  client.Complete(0, "rank1");
  server.Poll(1);
  REQUIRE(results == std::vector<std::string>{"0=rank0"});
  REQUIRE(server.Take(&job) == Next::kJob);
  REQUIRE(job == 1);
}

TEST_CASE("job queue: a rank that stops alone hands its jobs back at once", "[cluster]") {
  Network net(2);
  JobServer server(&net.rank(0), {0, 1, 2}, [](size_t, const std::string&) {}, Options());
  JobClient client(net.rank(1), Options());
  Settle(server, client);
  client.Stop("");
  server.Poll(1);
  REQUIRE(server.requeued() == 2);
  REQUIRE_FALSE(server.stopped());
  size_t job = 0;
  REQUIRE(server.Take(&job) == Next::kJob);
  REQUIRE(job == 0);
}

TEST_CASE("job queue: a rank with another fingerprint, or an error on any rank, stops every rank", "[cluster]") {
  Network net(3);
  JobServer server(&net.rank(0), {0, 1}, [](size_t, const std::string&) {}, Options("episodes=10"));
  JobClient same(net.rank(1), Options("episodes=10"));
  SECTION("another fingerprint") {
    JobClient other(net.rank(2), Options("episodes=20"));
    Settle(server, same, other);
    REQUIRE(server.stopped());
    REQUIRE_THAT(server.error(), Contains("rank 2 runs a different job") && Contains("episodes=20"));
    REQUIRE(same.stopped());
    REQUIRE_THAT(same.error(), Contains("rank 0 ended the run"));
  }
  SECTION("an error on rank 2") {
    JobClient failing(net.rank(2), Options("episodes=10"));
    Settle(server, same, failing);
    failing.Stop("cannot load checkpoint x");
    Settle(server, same, failing);
    REQUIRE_THAT(server.error(), Contains("rank 2: cannot load checkpoint x"));
    REQUIRE(same.stopped());
    size_t job = 0;
    REQUIRE(same.Take(&job) == Next::kDone);
  }
}

TEST_CASE("job queue: a rank notices rank 0 falling silent", "[cluster]") {
  Network net(2);
  JobClient client(net.rank(1), Options("run", 0.1));
  client.Poll(1);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  client.Poll(1);
  REQUIRE(client.stopped());
  REQUIRE_THAT(client.error(), Contains("rank 0 has been silent") && Contains("--resume"));
}

TEST_CASE("job queue: jobs for rank 0 alone stay on rank 0, and cancelled jobs are neither handed out nor counted",
          "[cluster]") {
  Network net(2);
  std::vector<size_t> got;
  QueueOptions options = Options();
  options.rank0_only = [](size_t job) { return job % 10 == 0; };  // e.g. the episodes that write videos
  JobServer server(&net.rank(0), {0, 1, 2, 10, 11, 12}, [&](size_t job, const std::string&) { got.push_back(job); },
                   options);
  JobClient client(net.rank(1), Options());
  Settle(server, client);
  size_t job = 0;
  std::vector<size_t> remote;
  while (client.Take(&job) == Next::kJob) remote.push_back(job), Settle(server, client);
  REQUIRE(remote == std::vector<size_t>{1, 2, 11, 12});
  REQUIRE(server.Take(&job) == Next::kJob);
  REQUIRE(job == 0);
  server.Cancel([](size_t j) { return j >= 10; });  // 10 still waits, 11 and 12 run remotely
  client.Complete(11, "late");
  server.Complete(0, "");
  client.Complete(1, "");
  client.Complete(2, "");
  Settle(server, client);
  REQUIRE(got == std::vector<size_t>{0, 1, 2});
  REQUIRE(server.finished());
  REQUIRE(server.Take(&job) == Next::kDone);
}

}  // namespace
}  // namespace padbench
