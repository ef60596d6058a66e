#include "eval/engine/engine.h"

#include <fcntl.h>
#include <sys/file.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "eval/cluster/job_queue.h"
#include "eval/engine/aggregate.h"
#include "eval/report/progress.h"
#include "eval/report/report.h"
#include "eval/engine/rollout.h"
#include "eval/engine/runner.h"
#include "eval/report/video_observer.h"
#include "policies/registry.h"
#include "sim/error.h"
#include "sim/json_file.h"
#include "sim/rng.h"
#include "tasks/registry.h"
#include "tasks/task_env.h"

namespace padbench {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::atomic<bool> stop_requested{false};

// The run-folder locks this process holds (FolderLock). A forked worker closes its copies, so a
// folder is free the moment its run dies, not only once the last worker has died too.
std::set<int>& HeldLocks() {
  static std::set<int> fds;
  return fds;
}

// ---- The run's identity (run.json): what must match for --resume and merge ----

json Identity(const EvalConfig& c) {
  json tasks = json::array();
  for (const auto& t : c.tasks) tasks.push_back(t->Name());
  json id = {{"policies", c.policies}, {"tasks", tasks},          {"episodes", c.episodes},
             {"seed", c.seed},         {"shard_index", c.shard_index}, {"shard_count", c.shard_count}};
  // Only real-time runs name their timing, so that synchronous run folders of before still resume.
  if (c.timing.realtime) id["act_timing"] = c.timing.ToJson();
  if (c.batch_envs > 1) id["batch_envs"] = c.batch_envs;  // a row's float order depends on the batch
  return id;
}

// ---- episodes.jsonl: one line per finished episode, appended with one write() ----

class JsonlAppender {
 public:
  explicit JsonlAppender(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error(fmt::format("cannot open {} for appending", path));
  }
  ~JsonlAppender() { ::close(fd_); }
  void Append(const json& j) {
    const std::string line = j.dump() + "\n";
    // O_APPEND makes each write land whole at the end; a kill can only tear the line being written.
    if (::write(fd_, line.data(), line.size()) != ssize_t(line.size())) {
      throw Error(fmt::format("cannot append to {}", path_));
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
};

// Cuts a torn last line (a kill mid-write) so appends start on a clean line: one without its
// newline, or one that is not a complete JSON object even though a newline follows.
void TrimTornTail(const std::string& path) {
  if (!fs::exists(path)) return;
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t end = text.size();
  if (end > 0 && text[end - 1] == '\n') --end;
  const size_t start = end == 0 ? 0 : text.rfind('\n', end - 1) == std::string::npos ? 0 : text.rfind('\n', end - 1) + 1;
  const std::string last = text.substr(start, end - start);
  bool complete = !text.empty() && text.back() == '\n';
  if (complete && !last.empty()) complete = json::accept(last) && json::parse(last).is_object();
  if (!complete) fs::resize_file(path, start);
}

// What a worker runs at once: one episode, or with --batch-envs B one batch of B episodes side by
// side (episodes index .. index + B - 1 of a (policy, task), fewer at the end; row = index % B).
struct Job {
  size_t policy, task;
  int index;
  int count = 1;
};

// The episodes of `job` this run evaluates: those in the shard (global index % shard_count).
std::vector<int> JobEpisodes(const EvalConfig& config, const Job& job) {
  std::vector<int> out;
  for (int i = job.index; i < job.index + job.count; ++i) {
    const size_t global = (job.policy * config.tasks.size() + job.task) * size_t(config.episodes) + size_t(i);
    if (int(global % size_t(config.shard_count)) == config.shard_index) out.push_back(i);
  }
  return out;
}

// A job's records as the worker sends them: one record, or a batch's array of records.
std::string JobResult(const EvalConfig& config, const std::vector<EpisodeRecord>& records) {
  if (config.batch_envs == 1) return EpisodeToJson(records.at(0)).dump();
  json all = json::array();
  for (const EpisodeRecord& r : records) all.push_back(EpisodeToJson(r));
  return all.dump();
}

// The canonical order: policy, then task, then episode index.
void SortCanonical(std::vector<EpisodeRecord>& records, const std::vector<std::string>& policies,
                   const std::vector<std::string>& tasks) {
  auto rank = [](const std::vector<std::string>& order, const std::string& name) {
    return std::find(order.begin(), order.end(), name) - order.begin();
  };
  std::sort(records.begin(), records.end(), [&](const EpisodeRecord& a, const EpisodeRecord& b) {
    return std::tuple(rank(policies, a.policy), rank(tasks, a.task), a.index) <
           std::tuple(rank(policies, b.policy), rank(tasks, b.task), b.index);
  });
}

// Stops an episode when the run is asked to stop.
class StopObserver : public RolloutObserver {
 public:
  bool ShouldStop() override { return stop_requested.load(); }
};

// Finishes a run: aggregates, writes results.json and the reports.
// `how` joins the metadata (how the episodes ran: ranks, workers).
json Finish(const std::string& out_dir, std::vector<EpisodeRecord>& records, const json& identity,
            const std::string& command_line, const RunTiming& timing, bool plots, const json& how = json::object()) {
  const std::vector<std::string> policies = identity.at("policies");
  const std::vector<std::string> tasks = identity.at("tasks");
  SortCanonical(records, policies, tasks);
  json per_episode = json::array();
  for (const EpisodeRecord& r : records) per_episode.push_back(EpisodeToJson(r));
  json metadata = RunMetadata(command_line);
  metadata.update(how);
  json results = {{"metadata", metadata},
                  {"config", identity},
                  {"per_episode", per_episode},
                  {"aggregated", Aggregate(records, policies, timing)}};
  WriteReports(out_dir, results, plots);
  return results;
}

double ControlPeriodMs(const EnvConfig& env, const Task& task) {
  return 1e3 * env.frame_skip * LoadTaskModel(task)->opt.timestep;
}

// ---- workers ----

// One job on `runner` (the stop flag, a video for the first K episodes, `extra` observers): the
// records of its episodes. An abandoned episode comes back with failure "interrupted".
std::vector<EpisodeRecord> RunJob(const EvalConfig& config, EpisodeRunner& runner, const Job& job,
                                  const std::vector<RolloutObserver*>& extra = {}) {
  StopObserver stop;
  const std::string& spec = config.policies[job.policy];
  const std::shared_ptr<const Task>& task = config.tasks[job.task];
  const std::string name(task->Name());
  const std::vector<int> episodes = JobEpisodes(config, job);
  // Rows: episode index % batch_envs; the others are padding.
  const int rows = config.batch_envs;
  std::vector<std::optional<EpisodeJob>> row_jobs(static_cast<size_t>(rows));
  std::vector<std::vector<RolloutObserver*>> observers(static_cast<size_t>(rows));
  std::vector<std::optional<VideoObserver>> videos(static_cast<size_t>(rows));
  for (int i : episodes) {
    const size_t r = size_t(i % rows);
    row_jobs[r] = EpisodeJob{spec, i, EpisodeSeed(config.seed, name, uint64_t(i)), config.timing};
    observers[r] = {&stop};
    if (i < config.videos) {
      videos[r].emplace(VideoPath(config.out_dir, spec, name, i));
      observers[r].push_back(&*videos[r]);
    }
    observers[r].insert(observers[r].end(), extra.begin(), extra.end());
  }
  std::vector<EpisodeRecord> records;
  if (rows == 1) {
    records.push_back(runner.Run(*row_jobs[0], task, observers[0]));
  } else {
    records = runner.RunBatch(row_jobs, task, observers);
  }
  for (const EpisodeRecord& rec : records) {
    std::optional<VideoObserver>& video = videos[size_t(rec.index % rows)];
    if (video && rec.failure != "interrupted") video->Close();
  }
  return records;
}

bool Interrupted(const std::vector<EpisodeRecord>& records) {
  return std::any_of(records.begin(), records.end(), [](const EpisodeRecord& r) { return r.failure == "interrupted"; });
}

// The in-process worker (one, when this process already renders): every job in order.
void RunInProcess(const EvalConfig& config, const PolicyFactory& make, const std::vector<Job>& jobs,
                  const std::vector<size_t>& todo, const std::function<void(EpisodeRecord)>& emit) {
  EpisodeRunner runner(config.gl, config.torch_threads, make);
  for (size_t job : todo) {
    if (stop_requested) return;
    std::vector<EpisodeRecord> records = RunJob(config, runner, jobs[job]);
    if (Interrupted(records)) return;
    for (EpisodeRecord& rec : records) emit(std::move(rec));
  }
}

// ---- forked worker processes ----
//
// Why processes, not threads: Mesa's llvmpipe serialises rendering across the GL contexts of one
// process (one rasteriser per screen), so two render threads ran no faster than one; two
// processes render at full speed each. Processes also isolate faults: a worker that crashes or
// hangs costs its episode, not the run.
//
// The parent hands each worker one job at a time ("J <job>"; "Q" to finish) and reads its
// lines: "S <instruction>" at reset, "A <step>" before and "D" after each Act (the watchdog),
// "R <record>" when the episode ends, "E <message>" for an error that stops the run (a policy
// that cannot be loaded).

// Writes all of `line`; false when the other end is gone.
bool WriteAll(int fd, const std::string& line) {
  for (size_t off = 0; off < line.size();) {
    const ssize_t n = write(fd, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += size_t(n);
  }
  return true;
}

// Reports episode progress to the parent from inside a worker.
class Heartbeat final : public RolloutObserver {
 public:
  explicit Heartbeat(int fd) : fd_(fd) {}
  void OnReset(const EpisodeInfo& info, const Observation&) override { Send("S " + json(info.instruction).dump()); }
  void OnActStart(const Observation& obs) override { Send(fmt::format("A {}", obs.step)); }
  void OnAct(const Observation&, const PolicyOutput&, double) override { Send("D"); }

 private:
  void Send(const std::string& line) {
    if (!WriteAll(fd_, line + "\n")) _exit(1);
  }
  int fd_;
};

// The worker process: runs the jobs the parent sends until told to quit.
[[noreturn]] void WorkerMain(const EvalConfig& config, const PolicyFactory& make, const std::vector<Job>& jobs,
                             int in_fd, int out_fd) {
  int status = 0;
  try {
    EpisodeRunner runner(config.gl, config.torch_threads, make);
    Heartbeat heartbeat(out_fd);
    FILE* in = fdopen(in_fd, "r");
    char line[64];
    while (!stop_requested && in && std::fgets(line, sizeof(line), in) && line[0] == 'J') {
      const size_t j = std::strtoull(line + 2, nullptr, 10);
      if (j >= jobs.size()) break;
      const std::vector<EpisodeRecord> records = RunJob(config, runner, jobs[j], {&heartbeat});
      if (Interrupted(records)) break;
      if (!WriteAll(out_fd, "R " + JobResult(config, records) + "\n")) _exit(1);
    }
  } catch (const std::exception& e) {
    std::string message = e.what();
    std::replace(message.begin(), message.end(), '\n', ' ');
    WriteAll(out_fd, "E " + message + "\n");
    status = 1;
  }
  _exit(status);
}

std::string DescribeExit(int status) {
  if (WIFSIGNALED(status)) {
    return fmt::format("killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  }
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  return fmt::format("ended with wait status {}", status);
}

// The records of a job its worker did not finish (crash or Act timeout); `instructions` are
// those its episodes reported, in order.
std::string UnfinishedResult(const EvalConfig& config, const Job& job, const std::vector<std::string>& instructions,
                             int length, int act_calls, const std::string& failure, const std::string& detail) {
  const Task& task = *config.tasks[job.task];
  std::vector<EpisodeRecord> records;
  for (int i : JobEpisodes(config, job)) {
    EpisodeRecord r;
    r.policy = config.policies[job.policy];
    r.task = std::string(task.Name());
    r.group = std::string(DifficultyName(task.Group()));
    r.index = i;
    r.seed = EpisodeSeed(config.seed, r.task, uint64_t(i));
    r.instruction = records.size() < instructions.size() ? instructions[records.size()] : "";
    r.length = length;
    r.act_calls = act_calls;
    r.failure = failure;
    r.failure_detail = detail;
    records.push_back(std::move(r));
  }
  return JobResult(config, records);
}

// Runs the jobs `source` hands out on up to config.workers worker processes; each result (an
// episode record line) goes back through source.Complete. Throws the error that stopped the
// run (a worker's, or another rank's).
void RunWorkerProcesses(const EvalConfig& config, const PolicyFactory& make, const std::vector<Job>& jobs,
                        JobSource& source) {
  using Clock = std::chrono::steady_clock;
  if (GlContextCreated()) {
    throw Error("eval: parallel workers are forked processes, and this process has already created a GL context "
                "(a fork would inherit the renderer without its threads); run with one worker here");
  }
  struct Worker {
    pid_t pid = -1;
    int to_child = -1, from_child = -1;
    std::string buffer;
    long job = -1;  // the job it runs, -1 when idle
    bool quitting = false;  // told to finish
    std::vector<std::string> instructions;  // of the job's episodes, as they start
    int step = 0, acts = 0;
    std::optional<Clock::time_point> act_since;  // inside Act since
    bool timed_out = false;
  };
  std::vector<Worker> workers;
  std::deque<size_t> retry;                // jobs whose worker died, before any new one
  std::map<size_t, std::string> crashed;  // job -> how its first worker died
  const pid_t parent = getpid();
  std::string error;
  bool stopping = false, source_done = false;
  Clock::time_point kill_at;
  auto old_pipe = std::signal(SIGPIPE, SIG_IGN);  // a dead worker's pipe must not kill the parent
  // Across ranks a request waits for the next poll: poll often.
  const int poll_ms = config.cluster ? 5 : 100;

  auto spawn = [&]() -> Worker& {
    int down[2], up[2];
    if (pipe(down) != 0 || pipe(up) != 0) throw Error("eval: cannot create pipes for a worker");
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) throw Error("eval: cannot fork a worker process");
    if (pid == 0) {
      // The child: die with the parent (a killed run leaves no orphans).
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(1);
      std::signal(SIGPIPE, SIG_DFL);
      std::signal(SIGTERM, SIG_DFL);  // the parent's stop: die at once, whatever handler was inherited
      for (const Worker& w : workers) {
        if (w.to_child >= 0) close(w.to_child);
        if (w.from_child >= 0) close(w.from_child);
      }
      for (int fd : HeldLocks()) close(fd);  // the lock stays with the run (flock: the parent's copy holds it)
      close(down[1]);
      close(up[0]);
      WorkerMain(config, make, jobs, down[0], up[1]);
    }
    close(down[0]);
    close(up[1]);
    Worker w;
    w.pid = pid;
    w.to_child = down[1];
    w.from_child = up[0];
    workers.push_back(std::move(w));
    return workers.back();
  };
  auto alive = [&] {
    int n = 0;
    for (const Worker& w : workers) n += w.pid > 0;
    return n;
  };
  auto idle = [](const Worker& w) { return w.pid > 0 && w.job < 0 && !w.quitting; };
  // Idle workers, plus the workers not yet started.
  auto free_slots = [&] { return int(std::count_if(workers.begin(), workers.end(), idle)) + config.workers - alive(); };
  // Hands the next jobs to idle workers, starting workers as jobs come; tells idle workers to
  // finish once no job will come.
  auto dispatch = [&] {
    while (!stopping && free_slots() > 0) {
      size_t job = 0;
      if (!retry.empty()) {
        job = retry.front();
        retry.pop_front();
      } else {
        const JobSource::Next next = source.Take(&job);
        if (next == JobSource::Next::kWait) return;
        if (next == JobSource::Next::kDone) {
          source_done = true;
          break;
        }
      }
      const auto free = std::find_if(workers.begin(), workers.end(), idle);
      Worker& w = free != workers.end() ? *free : spawn();
      w.job = long(job);
      w.act_since.reset();
      w.instructions.clear();
      w.step = w.acts = 0;
      w.timed_out = false;
      if (!WriteAll(w.to_child, fmt::format("J {}\n", job))) {
        w.job = -1;
        retry.push_front(job);  // it died before taking the job: the job waits for the next worker
        return;
      }
    }
    if (source_done && retry.empty()) {
      for (Worker& w : workers) {
        if (idle(w)) {
          w.quitting = true;
          WriteAll(w.to_child, "Q\n");
        }
      }
    }
  };
  auto stop_all = [&](int signal) {
    for (Worker& w : workers)
      if (w.pid > 0) kill(w.pid, signal);
  };

  while (true) {
    source.Poll(stopping ? 0 : free_slots());
    if ((stop_requested || source.stopped()) && !stopping) {
      stopping = true;
      source.Stop("");  // a no-op when the source stopped the run; else the other ranks learn of it
      stop_all(SIGTERM);  // they abandon their episodes at the next step
      kill_at = Clock::now() + std::chrono::seconds(2);
    }
    if (stopping && Clock::now() > kill_at) stop_all(SIGKILL);  // stuck inside Act
    dispatch();
    if (alive() == 0 && (stopping || (source_done && retry.empty()))) break;
    // The Act watchdog.
    for (Worker& w : workers) {
      if (w.pid > 0 && w.act_since && !w.timed_out &&
          Clock::now() - *w.act_since > std::chrono::duration<double>(config.act_timeout_s)) {
        w.timed_out = true;
        kill(w.pid, SIGKILL);
      }
    }
    std::vector<pollfd> polls;
    for (const Worker& w : workers)
      if (w.pid > 0) polls.push_back({w.from_child, POLLIN, 0});
    if (poll(polls.data(), polls.size(), poll_ms) < 0 && errno != EINTR) break;
    for (Worker& w : workers) {
      if (w.pid <= 0) continue;
      const auto it = std::find_if(polls.begin(), polls.end(), [&](const pollfd& p) { return p.fd == w.from_child; });
      if (it == polls.end() || !(it->revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char chunk[65536];
      const ssize_t n = read(w.from_child, chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR) continue;
      if (n > 0) {
        w.buffer.append(chunk, size_t(n));
        for (size_t eol; w.pid > 0 && (eol = w.buffer.find('\n')) != std::string::npos;) {
          const std::string line = w.buffer.substr(0, eol);
          w.buffer.erase(0, eol + 1);
          if (line.rfind("R ", 0) == 0) {
            if (error.empty()) source.Complete(size_t(w.job), line.substr(2));
            w.job = -1;
            w.act_since.reset();
          } else if (line.rfind("A ", 0) == 0) {
            w.step = std::atoi(line.c_str() + 2);
            w.act_since = Clock::now();
          } else if (line == "D") {
            ++w.acts;
            w.act_since.reset();
          } else if (line.rfind("S ", 0) == 0) {
            w.instructions.push_back(json::parse(line.substr(2)).get<std::string>());
          } else if (line.rfind("E ", 0) == 0) {
            if (error.empty()) error = line.substr(2);
            stopping = true;
            source.Stop(error);
            kill_at = Clock::now() + std::chrono::seconds(2);
            stop_all(SIGTERM);
          }
        }
        continue;
      }
      // The worker is gone: how, and what it leaves undone.
      close(w.from_child);
      close(w.to_child);
      w.from_child = w.to_child = -1;  // the numbers get reused: a later fork must not close them again
      int status = 0;
      while (waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
      }
      w.pid = -1;
      if (w.job < 0 || stopping) continue;  // idle (finished, or told to quit), or the run is stopping
      const size_t job = size_t(w.job);
      const std::string how = DescribeExit(status);
      if (w.timed_out) {
        source.Complete(job, UnfinishedResult(config, jobs[job], w.instructions, w.step, w.acts, "policy_timeout",
                                              fmt::format("Act at step {} did not return within {} s; its worker "
                                                          "was killed",
                                                          w.step, config.act_timeout_s)));
      } else if (!crashed.count(job)) {
        crashed[job] = how;
        retry.push_front(job);  // once more, on a fresh worker: the same episode (seeds are per episode)
      } else {
        source.Complete(job, UnfinishedResult(config, jobs[job], w.instructions, w.step, w.acts, "worker_crash",
                                              fmt::format("its worker died twice at step {}: {}, then {}", w.step,
                                                          crashed[job], how)));
      }
    }
  }
  std::signal(SIGPIPE, old_pipe);
  if (!error.empty()) throw Error(error);
  if (!source.error().empty()) throw Error(source.error());
}

}  // namespace

void RequestEvalStop() { stop_requested = true; }

std::vector<EpisodeRecord> ReadEpisodesJsonl(const std::string& path, std::vector<int>* line_numbers) {
  std::vector<EpisodeRecord> records;
  std::ifstream in(path);
  if (!in) return records;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    json j;
    try {
      j = json::parse(line);
    } catch (const json::exception&) {
      if (in.peek() == EOF) break;  // a torn last line: the episode is simply run again
      throw Error(fmt::format("{}:{}: not a JSON line", path, number));
    }
    try {
      records.push_back(EpisodeFromJson(j));
    } catch (const Error& e) {
      throw Error(fmt::format("{}:{}: {}", path, number, e.what()));
    }
    if (line_numbers) line_numbers->push_back(number);
  }
  return records;
}

namespace {

// Checks that `records` (read from `path`, lines `lines`) all belong to the run `identity`:
// a listed policy and task, an index in range, in the shard, no episode twice.
void CheckBelongs(const std::vector<EpisodeRecord>& records, const std::vector<int>& lines, const json& identity,
                  const std::string& path) {
  const std::vector<std::string> policies = identity.at("policies"), tasks = identity.at("tasks");
  const int episodes = identity.at("episodes"), shard = identity.at("shard_index"), shards = identity.at("shard_count");
  const uint64_t seed = identity.at("seed");
  std::map<std::string, int> seen;
  for (size_t i = 0; i < records.size(); ++i) {
    const EpisodeRecord& r = records[i];
    const std::string where = fmt::format("{}:{}", path, lines[i]);
    const auto p = std::find(policies.begin(), policies.end(), r.policy);
    const auto t = std::find(tasks.begin(), tasks.end(), r.task);
    if (p == policies.end()) throw Error(fmt::format("{}: policy '{}' is not one of this run's", where, r.policy));
    if (t == tasks.end()) throw Error(fmt::format("{}: task '{}' is not one of this run's", where, r.task));
    if (r.index < 0 || r.index >= episodes) {
      throw Error(fmt::format("{}: episode index {} is outside this run's 0..{}", where, r.index, episodes - 1));
    }
    const size_t global = (size_t(p - policies.begin()) * tasks.size() + size_t(t - tasks.begin())) * episodes + r.index;
    if (int(global % shards) != shard) {
      throw Error(fmt::format("{}: episode {} belongs to shard {} of {}, not {}", where, r.Key(), global % shards,
                              shards, shard));
    }
    if (r.seed != EpisodeSeed(seed, r.task, uint64_t(r.index))) {
      throw Error(fmt::format("{}: episode {} has seed {}, this run gives it {}", where, r.Key(), r.seed,
                              EpisodeSeed(seed, r.task, uint64_t(r.index))));
    }
    if (const auto [it, fresh] = seen.emplace(r.Key(), lines[i]); !fresh) {
      throw Error(fmt::format("{}: episode {} appears twice (first at line {})", where, r.Key(), it->second));
    }
  }
}

// An exclusive lock on a run folder for as long as this process lives (its workers do not hold it).
class FolderLock {
 public:
  explicit FolderLock(const std::string& dir) {
    const std::string path = dir + "/.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error(fmt::format("cannot create {}", path));
    // A run that is ending (its workers still dying) releases the lock within moments.
    bool locked = false;
    for (int attempt = 0; attempt < 20 && !(locked = flock(fd_, LOCK_EX | LOCK_NB) == 0); ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!locked) {
      ::close(fd_);
      throw Error(fmt::format("{} is in use by another padbench run; wait for it to finish or choose another --out",
                              dir));
    }
    HeldLocks().insert(fd_);
  }
  ~FolderLock() {
    HeldLocks().erase(fd_);
    ::close(fd_);
  }
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

// The names in `dir` but the lock file, sorted, as "a, b, c, ..." (at most three named).
std::string FolderFiles(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename() != ".lock") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return fmt::format("{}{}", fmt::join(names.begin(), names.begin() + std::min<size_t>(3, names.size()), ", "),
                     names.size() > 3 ? ", ..." : "");
}

}  // namespace

namespace {

// Every job of the run in order: policy, then task, then episode (one per job, or batch_envs).
std::vector<Job> AllJobs(const EvalConfig& config) {
  std::vector<Job> jobs;
  const int b = config.batch_envs;
  for (size_t p = 0; p < config.policies.size(); ++p)
    for (size_t t = 0; t < config.tasks.size(); ++t)
      for (int i = 0; i < config.episodes; i += b) jobs.push_back({p, t, i, std::min(b, config.episodes - i)});
  return jobs;
}

// What every rank of one run must agree on: its identity, and which episodes write videos.
QueueOptions RankQueueOptions(const EvalConfig& config, const json& identity) {
  QueueOptions options;
  options.rank_timeout_s = config.rank_timeout_s;
  options.fingerprint = json{{"run", identity}, {"videos", config.videos}}.dump();
  return options;
}

// Rank 0 of a distributed run, or a local run: the run folder, the queue, the reports.
EvalOutcome RunOwner(const EvalConfig& config, const PolicyFactory& make, const std::vector<Job>& jobs, bool in_process) {
  // ---- the output folder: new, or resumed; locked while the run lives ----
  const json identity = Identity(config);
  const std::string run_path = config.out_dir + "/run.json", jsonl_path = config.out_dir + "/episodes.jsonl";
  const bool existed = fs::exists(config.out_dir);
  if (existed && !fs::is_directory(config.out_dir)) throw Error(fmt::format("--out {} is not a folder", config.out_dir));
  if (existed && !fs::exists(run_path) && !config.force) {
    if (const std::string files = FolderFiles(config.out_dir); !files.empty()) {
      throw Error(fmt::format("{} holds files that are not a padbench run ({}); choose another --out or pass --force",
                              config.out_dir, files));
    }
  }
  fs::create_directories(config.out_dir);
  const FolderLock lock(config.out_dir);
  std::vector<EpisodeRecord> done;
  const bool fresh_run = !fs::exists(run_path);
  if (!fresh_run) {
    if (!config.resume) {
      throw Error(fmt::format("{} already holds a run; pass --resume to finish it or choose another --out",
                              config.out_dir));
    }
    const json previous = ReadJsonFile(run_path);
    if (previous != identity) {
      throw Error(fmt::format("--resume: {} holds a different run ({}), not this one ({})", config.out_dir,
                              previous.dump(), identity.dump()));
    }
    TrimTornTail(jsonl_path);
    std::vector<int> lines;
    done = ReadEpisodesJsonl(jsonl_path, &lines);
    CheckBelongs(done, lines, identity, jsonl_path);
  } else {
    fs::remove(jsonl_path);  // --force over a foreign folder: nothing of it is read
    WriteJsonFile(run_path, identity);
  }
  std::set<std::string> done_keys;
  for (const EpisodeRecord& r : done) done_keys.insert(r.Key());

  // ---- the jobs with episodes of this shard not yet done (a batch reruns its done ones, dropped below) ----
  std::vector<size_t> todo;
  int64_t episodes_todo = 0;
  for (size_t j = 0; j < jobs.size(); ++j) {
    const Job& job = jobs[j];
    int missing = 0;
    for (int i : JobEpisodes(config, job)) {
      missing += !done_keys.count(EpisodeKey(config.policies[job.policy], config.tasks[job.task]->Name(), i));
    }
    if (missing > 0) todo.push_back(j);
    episodes_todo += missing;
  }

  EvalOutcome outcome;
  outcome.episodes_resumed = int(done.size());
  outcome.episodes = std::move(done);
  JsonlAppender appender(jsonl_path);
  std::optional<ProgressBar> bar;
  if (config.progress) bar.emplace(episodes_todo, "eval");
  int successes = 0;
  int64_t steps_run = 0;
  auto record = [&](EpisodeRecord rec, const json& line) {
    if (done_keys.count(rec.Key())) return;  // rerun in its batch after --resume
    appender.Append(line);
    successes += rec.success;
    steps_run += rec.length;
    outcome.episodes.push_back(std::move(rec));
    ++outcome.episodes_run;
    if (bar) bar->Update(outcome.episodes_run, fmt::format("success {}/{}", successes, outcome.episodes_run));
  };
  stop_requested = false;
  const auto start = std::chrono::steady_clock::now();
  // How the episodes ran, for results.json's metadata.
  json how = {{"ranks", config.cluster ? config.cluster->size() : 1}, {"workers_per_rank", config.workers}};
  try {
    if (in_process) {
      RunInProcess(config, make, jobs, todo, [&](EpisodeRecord rec) {
        const json line = EpisodeToJson(rec);
        record(std::move(rec), line);
      });
      how["episodes_per_rank"] = {outcome.episodes_run};
      how["episodes_requeued"] = 0;
    } else {
      QueueOptions options = RankQueueOptions(config, identity);
      // Rank 0 owns the folder the videos go to.
      options.rank0_only = [&](size_t job) { return jobs[job].index < config.videos; };
      options.weight = [&](size_t job) { return int(JobEpisodes(config, jobs[job]).size()); };
      JobServer server(config.cluster, todo, [&](size_t, const std::string& result) {
        const json lines = json::parse(result);
        for (const json& line : lines.is_array() ? lines : json::array({lines})) record(EpisodeFromJson(line), line);
      }, options);
      RunWorkerProcesses(config, make, jobs, server);
      how["episodes_per_rank"] = server.results_per_rank();
      how["episodes_requeued"] = server.requeued();
    }
  } catch (const Error&) {
    // A new run that failed before its first episode (e.g. a checkpoint a worker cannot load)
    // leaves nothing behind that would block running the same command again.
    if (fresh_run && outcome.episodes.empty()) {
      fs::remove(run_path);
      fs::remove(jsonl_path);
      if (!existed) {
        fs::remove(config.out_dir + "/.lock");
        fs::remove(config.out_dir);
      }
    }
    throw;
  }
  if (bar) bar->Finish();

  if (outcome.episodes_run < episodes_todo) {  // stopped by a signal
    outcome.interrupted = true;
    return outcome;
  }
  RunTiming timing;
  timing.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  timing.episodes_run = outcome.episodes_run;
  timing.env_steps_run = steps_run;
  timing.control_period_ms = ControlPeriodMs(EnvConfig{}, *config.tasks.front());
  outcome.results =
      Finish(config.out_dir, outcome.episodes, identity, config.command_line, timing, config.write_plots, how);
  return outcome;
}


// Every rank of a distributed run but 0: runs the episodes rank 0 hands out, sends back each record.
EvalOutcome RunRank(const EvalConfig& config, const PolicyFactory& make, const std::vector<Job>& jobs) {
  JobClient client(*config.cluster, RankQueueOptions(config, Identity(config)));
  stop_requested = false;
  RunWorkerProcesses(config, make, jobs, client);
  EvalOutcome outcome;
  outcome.rank = config.cluster->rank();
  outcome.episodes_run = client.taken();
  outcome.interrupted = client.stopped();
  return outcome;
}

}  // namespace

EvalOutcome RunEval(const EvalConfig& config) {
  // ---- check the request ----
  if (config.policies.empty()) throw Error("eval: give at least one --policy");
  if (config.tasks.empty()) throw Error("eval: no tasks");
  if (config.episodes < 1) throw Error(fmt::format("eval: --episodes must be >= 1, got {}", config.episodes));
  // The job list is held in memory: bound it well below what a machine holds.
  constexpr int64_t kMaxEpisodes = 10'000'000;
  if (int64_t(config.episodes) * int64_t(config.policies.size()) * int64_t(config.tasks.size()) > kMaxEpisodes) {
    throw Error(fmt::format("eval: {} episodes x {} policies x {} tasks is more than the {} episodes one run takes; "
                            "split it with --shard or fewer --episodes",
                            config.episodes, config.policies.size(), config.tasks.size(), kMaxEpisodes));
  }
  if (config.workers < 1) throw Error(fmt::format("eval: --workers must be >= 1, got {}", config.workers));
  if (config.batch_envs < 1 || config.batch_envs > 256) {
    throw Error(fmt::format("eval: --batch-envs must be in [1, 256], got {}", config.batch_envs));
  }
  if (config.shard_count < 1 || config.shard_index < 0 || config.shard_index >= config.shard_count) {
    throw Error(fmt::format("eval: bad shard {}/{} (want i/n with 0 <= i < n)", config.shard_index, config.shard_count));
  }
  if (config.out_dir.empty()) throw Error("eval: --out is required");
  std::set<std::string> unique(config.policies.begin(), config.policies.end());
  if (unique.size() != config.policies.size()) throw Error("eval: a policy is listed twice");
  const PolicyFactory make = config.make_policy ? config.make_policy : PolicyFactory(MakePolicy);

  // A bad spec or file fails here, before any episode (workers make their own instances).
  // With forked workers the parent only checks the names: loading a LibTorch model here could
  // start OpenMP threads, which a forked child inherits broken; a load error in a worker
  // still stops the run with its message.
  const bool in_process = config.workers == 1 && GlContextCreated() && !config.cluster;
  for (const std::string& spec : config.policies) {
    if (in_process) {
      make(spec);
    } else if (!config.make_policy) {
      ParsePolicySpec(spec);
    }
  }
  if (!(config.act_timeout_s > 0)) {
    throw Error(fmt::format("eval: --act-timeout must be > 0 seconds, got {}", config.act_timeout_s));
  }
  if (config.cluster && in_process) {
    throw Error("eval: a distributed run needs forked workers, and this process has already created a GL context");
  }
  if (!(config.rank_timeout_s > 0)) {
    throw Error(fmt::format("eval: --rank-timeout must be > 0 seconds, got {}", config.rank_timeout_s));
  }


  if (cpu_set_t cpus; sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) < config.workers) {
    // mpirun binds each rank to one core by default (two or fewer ranks); its workers inherit that.
    std::fprintf(stderr, "padbench: this process may run on %d core(s) only, and runs %d workers on them%s\n",
                 CPU_COUNT(&cpus), config.workers, LaunchedRanks() > 0 ? "; pass --bind-to none to mpirun" : "");
  }
  const std::vector<Job> jobs = AllJobs(config);
  if (config.cluster && config.cluster->rank() != 0) return RunRank(config, make, jobs);
  try {
    return RunOwner(config, make, jobs, in_process);
  } catch (const std::exception& e) {
    if (config.cluster) StopAllRanks(*config.cluster, e.what());  // they wait for jobs that will not come
    throw;
  }
}

EvalOutcome MergeShards(const std::vector<std::string>& shard_dirs, const std::string& out_dir,
                        const std::string& command_line, bool write_plots, bool force) {
  if (shard_dirs.empty()) throw Error("merge: no shard folders given");
  if (out_dir.empty()) throw Error("merge: --out is required");
  if (fs::exists(out_dir)) {
    if (!fs::is_directory(out_dir)) throw Error(fmt::format("merge: --out {} is not a folder", out_dir));
    for (const std::string& dir : shard_dirs) {
      if (fs::exists(dir) && fs::equivalent(dir, out_dir)) {
        throw Error(fmt::format("merge: --out {} is one of the shard folders; choose a new folder", out_dir));
      }
    }
    if (const std::string files = FolderFiles(out_dir); !files.empty() && !force) {
      throw Error(fmt::format("merge: --out {} is not empty ({}); choose a new folder or pass --force", out_dir, files));
    }
  }
  // Shards still running are refused (their lock is held); none can start while this reads them.
  std::vector<std::unique_ptr<FolderLock>> locks;
  for (const std::string& dir : shard_dirs) {
    if (!fs::is_directory(dir)) throw Error(fmt::format("merge: {} is not a shard folder", dir));
    locks.push_back(std::make_unique<FolderLock>(dir));
  }
  json identity;
  std::set<int> shards;
  EvalOutcome outcome;
  std::set<std::string> keys;
  int count = 0;
  for (const std::string& dir : shard_dirs) {
    json id = ReadJsonFile(dir + "/run.json");
    const int index = id.at("shard_index"), shard_count = id.at("shard_count");
    id.erase("shard_index");
    id.erase("shard_count");
    if (identity.is_null()) {
      identity = id;
      count = shard_count;
    } else if (id != identity || shard_count != count) {
      throw Error(fmt::format("merge: {} belongs to a different run", dir));
    }
    if (!shards.insert(index).second) throw Error(fmt::format("merge: shard {} given twice ({})", index, dir));
    std::vector<int> lines;
    std::vector<EpisodeRecord> records = ReadEpisodesJsonl(dir + "/episodes.jsonl", &lines);
    json shard_identity = id;
    shard_identity["shard_index"] = index;
    shard_identity["shard_count"] = shard_count;
    CheckBelongs(records, lines, shard_identity, dir + "/episodes.jsonl");
    for (EpisodeRecord& r : records) {
      if (!keys.insert(r.Key()).second) throw Error(fmt::format("merge: episode {} appears twice", r.Key()));
      outcome.episodes.push_back(std::move(r));
    }
  }
  identity["shard_index"] = 0;
  identity["shard_count"] = 1;
  if (int(shards.size()) != count) {
    throw Error(fmt::format("merge: {} of {} shards given", shards.size(), count));
  }
  const size_t expected = identity.at("policies").size() * identity.at("tasks").size() * int(identity.at("episodes"));
  if (outcome.episodes.size() != expected) {
    throw Error(fmt::format("merge: {} of {} episodes present; finish the shards with --resume first",
                            outcome.episodes.size(), expected));
  }
  fs::create_directories(out_dir);
  const FolderLock lock(out_dir);
  fs::remove(out_dir + "/results.json");  // --force over an old merge: no stale result while this one writes
  WriteJsonFile(out_dir + "/run.json", identity);
  const std::vector<std::string> policies = identity.at("policies");
  const std::vector<std::string> tasks = identity.at("tasks");
  SortCanonical(outcome.episodes, policies, tasks);
  std::string lines;
  for (const EpisodeRecord& r : outcome.episodes) lines += EpisodeToJson(r).dump() + "\n";
  WriteFileAtomic(out_dir + "/episodes.jsonl", lines);
  // Shards ran apart: the merged "wall" time is the episodes' summed time, as if run one after another.
  RunTiming timing;
  for (const EpisodeRecord& r : outcome.episodes) {
    timing.wall_s += r.wall_s;
    timing.env_steps_run += r.length;
  }
  timing.episodes_run = int(outcome.episodes.size());
  timing.control_period_ms = ControlPeriodMs(EnvConfig{}, *FindTask(tasks.front()));
  outcome.results = Finish(out_dir, outcome.episodes, identity, command_line, timing, write_plots);
  return outcome;
}

}  // namespace padbench
