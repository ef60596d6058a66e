#include "eval/cluster/job_queue.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "sim/error.h"

namespace padbench {
namespace {

// The messages of the queue. Rank r to 0: kHello (its fingerprint, once), kAsk (how many
// jobs it wants; one request at a time), kResult ("<job> <result>"), kBeat, kStop (an error,
// or "" when it leaves). Rank 0 to r: kJobs ("<job> <job> ...", the answer to one kAsk),
// kDone (no job will come), kBeat, kStop (the run ends: an error, or "" for a stop request).
enum Tag { kHello = 1, kAsk, kJobs, kResult, kBeat, kDone, kStop };

constexpr auto kBeatEvery = std::chrono::seconds(1);

}  // namespace

// ---- rank 0 ----

JobServer::JobServer(Transport* net, const std::vector<size_t>& jobs, ResultFn on_result, QueueOptions options)
    : net_(net), on_result_(std::move(on_result)), options_(std::move(options)), remaining_(jobs.size()) {
  for (size_t job : jobs) {
    (options_.rank0_only && options_.rank0_only(job) ? pending_rank0_ : pending_).push_back(job);
  }
  ranks_.resize(net_ ? size_t(net_->size()) : 1);
  per_rank_.assign(ranks_.size(), 0);
  last_beat_ = Clock::now();
  for (Rank& r : ranks_) r.heard = last_beat_;
}

JobSource::Next JobServer::Take(size_t* job) {
  if (stopped_ || finished()) return Next::kDone;
  std::deque<size_t>& from = pending_rank0_.empty() ? pending_ : pending_rank0_;
  if (from.empty()) return Next::kWait;  // the rest runs on other ranks; one may die
  *job = from.front();
  from.pop_front();
  owner_[*job] = 0;
  return Next::kJob;
}

void JobServer::Complete(size_t job, std::string result) { Accept(0, job, result); }

void JobServer::Accept(int rank, size_t job, const std::string& result) {
  if (stopped_ || !closed_.insert(job).second) return;  // a second copy (a rank thought dead), or cancelled
  per_rank_[size_t(rank)] += options_.weight ? options_.weight(job) : 1;
  if (owner_.erase(job) == 0) {  // requeued from a rank thought dead, which then finished it after all
    for (std::deque<size_t>* queue : {&pending_, &pending_rank0_}) {
      if (const auto it = std::find(queue->begin(), queue->end(), job); it != queue->end()) queue->erase(it);
    }
  }
  --remaining_;
  on_result_(job, result);
  TellDoneIfFinished();
}

void JobServer::Cancel(const std::function<bool(size_t job)>& drop) {
  for (std::deque<size_t>* queue : {&pending_, &pending_rank0_}) {
    for (size_t job : *queue) {
      if (drop(job) && closed_.insert(job).second) --remaining_;
    }
    queue->erase(std::remove_if(queue->begin(), queue->end(), [&](size_t job) { return drop(job); }), queue->end());
  }
  for (auto it = owner_.begin(); it != owner_.end();) {  // running somewhere: its result will be ignored
    if (drop(it->first) && closed_.insert(it->first).second) {
      --remaining_;
      it = owner_.erase(it);
    } else {
      ++it;
    }
  }
  TellDoneIfFinished();
}

void JobServer::Poll(int) {
  if (!net_) return;
  while (std::optional<Message> message = net_->Receive()) Handle(*message);
  if (stopped_) return;
  const Clock::time_point now = Clock::now();
  for (int r = 1; r < int(ranks_.size()); ++r) {
    const double silent = std::chrono::duration<double>(now - ranks_[r].heard).count();
    if (ranks_[r].alive && silent > options_.rank_timeout_s) {
      Requeue(r, fmt::format("has been silent for {:.1f} s", silent));
    }
  }
  Serve();
  if (now - last_beat_ >= kBeatEvery) {
    last_beat_ = now;
    for (int r = 1; r < int(ranks_.size()); ++r)
      if (ranks_[r].alive) net_->Send(r, kBeat, "");
  }
}

void JobServer::Handle(const Message& m) {
  if (m.from <= 0 || m.from >= int(ranks_.size())) return;
  Rank& rank = ranks_[m.from];
  rank.heard = Clock::now();
  if (!rank.alive && m.tag != kStop) {
    std::fprintf(stderr, "padbench: rank %d answers again; it takes jobs again\n", m.from);
    rank.alive = true;
  }
  switch (m.tag) {
    case kHello:
      if (m.body != options_.fingerprint) {
        Stop(fmt::format("rank {} runs a different job than rank 0: {} against {}; give every rank the same "
                         "command line and files",
                         m.from, m.body, options_.fingerprint));
      }
      break;
    case kAsk:
      rank.asked = std::atoi(m.body.c_str());
      break;
    case kResult: {
      const size_t space = m.body.find(' ');
      Accept(m.from, std::strtoull(m.body.c_str(), nullptr, 10),
             space == std::string::npos ? "" : m.body.substr(space + 1));
      break;
    }
    case kStop:
      if (m.body.empty()) {
        Requeue(m.from, "stopped");
      } else {
        Stop(fmt::format("rank {}: {}", m.from, m.body));
      }
      break;
    default:
      break;
  }
}

void JobServer::Requeue(int r, const std::string& why) {
  ranks_[r].alive = false;
  ranks_[r].asked = 0;
  std::vector<size_t> back;
  for (auto it = owner_.begin(); it != owner_.end();) {
    if (it->second == r) {
      back.push_back(it->first);
      it = owner_.erase(it);
    } else {
      ++it;
    }
  }
  // To the front, in order: the jobs that waited longest run next.
  for (auto it = back.rbegin(); it != back.rend(); ++it) {
    (options_.rank0_only && options_.rank0_only(*it) ? pending_rank0_ : pending_).push_front(*it);
  }
  requeued_ += int(back.size());
  std::fprintf(stderr, "padbench: rank %d %s: its %zu running jobs go back to the queue\n", r, why.c_str(),
               back.size());
}

void JobServer::Serve() {
  for (int r = 1; r < int(ranks_.size()) && !pending_.empty(); ++r) {
    Rank& rank = ranks_[r];
    if (!rank.alive || rank.asked <= 0) continue;
    std::string body;
    for (int n = 0; n < rank.asked && !pending_.empty(); ++n) {
      const size_t job = pending_.front();
      pending_.pop_front();
      owner_[job] = r;
      body += (body.empty() ? "" : " ") + std::to_string(job);
    }
    rank.asked = 0;
    net_->Send(r, kJobs, body);
  }
}

void JobServer::TellDoneIfFinished() {
  if (!finished() || !net_ || done_sent_) return;
  done_sent_ = true;
  SendAll(kDone, "");
}

void JobServer::Stop(const std::string& error) {
  if (stopped_) return;
  stopped_ = true;
  error_ = error;
  if (net_) SendAll(kStop, error);
}

void JobServer::SendAll(int tag, const std::string& body) {
  for (int r = 1; r < int(ranks_.size()); ++r) net_->Send(r, tag, body);
}

void StopAllRanks(Transport& net, const std::string& error) {
  for (int r = 1; r < net.size(); ++r) net.Send(r, kStop, error);
}

// ---- every other rank ----

JobClient::JobClient(Transport& net, QueueOptions options) : net_(net), options_(std::move(options)) {
  heard_ = last_beat_ = Clock::now();
}

JobSource::Next JobClient::Take(size_t* job) {
  if (stopped_) return Next::kDone;
  if (jobs_.empty()) return done_ ? Next::kDone : Next::kWait;
  *job = jobs_.front();
  jobs_.pop_front();
  ++taken_;
  return Next::kJob;
}

void JobClient::Complete(size_t job, std::string result) {
  net_.Send(0, kResult, std::to_string(job) + " " + result);
}

void JobClient::Poll(int idle) {
  if (!hello_sent_) {
    hello_sent_ = true;
    net_.Send(0, kHello, options_.fingerprint);
  }
  while (std::optional<Message> m = net_.Receive()) {
    if (m->from != 0) continue;
    heard_ = Clock::now();
    if (m->tag == kJobs) {
      asking_ = false;
      for (const char* p = m->body.c_str(); *p;) {
        char* end = nullptr;
        jobs_.push_back(std::strtoull(p, &end, 10));
        p = *end ? end + 1 : end;
      }
    } else if (m->tag == kDone) {
      done_ = true;
    } else if (m->tag == kStop && !stopped_) {
      stopped_ = true;
      if (!m->body.empty()) error_ = "rank 0 ended the run: " + m->body;
    }
  }
  if (stopped_) return;
  const Clock::time_point now = Clock::now();
  if (const double silent = std::chrono::duration<double>(now - heard_).count(); silent > options_.rank_timeout_s) {
    stopped_ = true;
    error_ = fmt::format("rank 0 has been silent for {:.1f} s; its run folder holds every episode it received: "
                         "finish the run with --resume (with MPI or without)",
                         silent);
    return;
  }
  const int want = idle + options_.prefetch - int(jobs_.size());
  if (!done_ && !asking_ && want > 0) {
    asking_ = true;
    net_.Send(0, kAsk, std::to_string(want));
  }
  if (now - last_beat_ >= kBeatEvery) {
    last_beat_ = now;
    net_.Send(0, kBeat, "");
  }
}

void JobClient::Stop(const std::string& error) {
  if (stopped_) return;
  stopped_ = true;
  error_ = error;
  net_.Send(0, kStop, error);
}

}  // namespace padbench
