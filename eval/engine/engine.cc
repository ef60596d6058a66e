#include "eval/engine/engine.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

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

// ---- The run's identity (run.json): what must match for --resume and merge ----

json Identity(const EvalConfig& c) {
  json tasks = json::array();
  for (const auto& t : c.tasks) tasks.push_back(t->Name());
  return {{"policies", c.policies}, {"tasks", tasks},          {"episodes", c.episodes},
          {"seed", c.seed},         {"shard_index", c.shard_index}, {"shard_count", c.shard_count}};
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

// Drops a torn last line (a kill mid-write) so appends start on a clean line.
void TrimTornTail(const std::string& path) {
  if (!fs::exists(path)) return;
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t keep = text.empty() || text.back() == '\n' ? text.size() : text.rfind('\n') + 1;
  if (keep != text.size()) fs::resize_file(path, text.rfind('\n') == std::string::npos ? 0 : keep);
}

struct Job {
  size_t policy, task;
  int index;
};

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
json Finish(const std::string& out_dir, std::vector<EpisodeRecord>& records, const json& identity,
            const std::string& command_line, const RunTiming& timing, bool plots) {
  const std::vector<std::string> policies = identity.at("policies");
  const std::vector<std::string> tasks = identity.at("tasks");
  SortCanonical(records, policies, tasks);
  json per_episode = json::array();
  for (const EpisodeRecord& r : records) per_episode.push_back(EpisodeToJson(r));
  json results = {{"metadata", RunMetadata(command_line)},
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

// Runs jobs[next++] until none are left or a stop is requested, handing each
// finished episode to `emit`. Owns its renderer (GL context), task envs and
// policy instances, so nothing is shared with other workers.
void RunWorker(const EvalConfig& config, const PolicyFactory& make, const std::vector<Job>& jobs,
               std::atomic<size_t>& next, const std::function<void(EpisodeRecord)>& emit) {
  EpisodeRunner runner(config.gl, config.torch_threads, make);
  StopObserver stop;
  for (size_t j; !stop_requested && (j = next++) < jobs.size();) {
    const Job& job = jobs[j];
    const std::string& spec = config.policies[job.policy];
    const std::shared_ptr<const Task>& task = config.tasks[job.task];
    const std::string name(task->Name());
    std::optional<VideoObserver> video;
    std::vector<RolloutObserver*> observers{&stop};
    if (job.index < config.videos) {
      video.emplace(VideoPath(config.out_dir, spec, name, job.index));
      observers.push_back(&*video);
    }
    EpisodeRecord rec = runner.Run(spec, task, job.index, EpisodeSeed(config.seed, name, uint64_t(job.index)), observers);
    if (rec.failure == "interrupted") return;
    if (video) video->Close();
    emit(std::move(rec));
  }
}

// Why processes, not threads: Mesa's llvmpipe serialises rendering across the
// GL contexts of one process (one rasteriser per screen), so two render
// threads ran no faster than one; two processes render at full speed each.
// Children pull jobs from a shared counter and send each episode's JSON line
// through their own pipe; the parent appends them and keeps the progress bar.
void RunWorkerProcesses(const EvalConfig& config, const PolicyFactory& make, const std::vector<Job>& jobs,
                        const std::function<void(const std::string& line)>& on_line) {
  if (GlContextCreated()) {
    throw Error("eval: parallel workers are forked processes, and this process has already created a GL context "
                "(a fork would inherit the renderer without its threads); run with one worker here");
  }
  void* shared = mmap(nullptr, sizeof(std::atomic<size_t>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) throw Error("eval: cannot map shared memory for the workers");
  auto* next = new (shared) std::atomic<size_t>(0);
  static_assert(std::atomic<size_t>::is_always_lock_free, "the job counter must work across processes");
  const pid_t parent = getpid();
  struct Child {
    pid_t pid;
    int fd;
    std::string buffer;
  };
  std::vector<Child> children;
  std::fflush(nullptr);
  for (int w = 0; w < config.workers; ++w) {
    int fds[2];
    if (pipe(fds) != 0) throw Error("eval: cannot create a pipe for a worker");
    const pid_t pid = fork();
    if (pid < 0) throw Error("eval: cannot fork a worker process");
    if (pid == 0) {
      // The child: die with the parent (a killed run leaves no orphans), report through the pipe.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(1);
      for (const Child& c : children) close(c.fd);
      close(fds[0]);
      int status = 0;
      auto send = [&](const std::string& line) {
        for (size_t off = 0; off < line.size();) {
          const ssize_t n = write(fds[1], line.data() + off, line.size() - off);
          if (n <= 0) _exit(1);
          off += size_t(n);
        }
      };
      try {
        RunWorker(config, make, jobs, *next, [&](EpisodeRecord rec) { send(EpisodeToJson(rec).dump() + "\n"); });
      } catch (const std::exception& e) {
        std::string message = e.what();
        std::replace(message.begin(), message.end(), '\n', ' ');
        send("E " + message + "\n");
        status = 1;
      }
      close(fds[1]);
      _exit(status);
    }
    close(fds[1]);
    children.push_back({pid, fds[0], {}});
  }

  // The parent: read lines until every child has closed its pipe.
  std::string error;
  for (size_t open = children.size(); open > 0;) {
    std::vector<pollfd> polls;
    for (const Child& c : children)
      if (c.fd >= 0) polls.push_back({c.fd, POLLIN, 0});
    if (poll(polls.data(), polls.size(), -1) < 0) {
      if (errno == EINTR) continue;  // a signal: the children see it too and stop
      break;
    }
    for (Child& c : children) {
      if (c.fd < 0) continue;
      const auto it = std::find_if(polls.begin(), polls.end(), [&](const pollfd& p) { return p.fd == c.fd; });
      if (!(it->revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char chunk[65536];
      const ssize_t n = read(c.fd, chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        close(c.fd);
        c.fd = -1;
        --open;
        continue;
      }
      c.buffer.append(chunk, size_t(n));
      for (size_t eol; (eol = c.buffer.find('\n')) != std::string::npos;) {
        const std::string line = c.buffer.substr(0, eol);
        c.buffer.erase(0, eol + 1);
        if (line.rfind("E ", 0) == 0) {
          if (error.empty()) error = line.substr(2);
          stop_requested = true;
          for (const Child& other : children) kill(other.pid, SIGTERM);
        } else if (error.empty()) {
          on_line(line);
        }
      }
    }
  }
  for (const Child& c : children) {
    int status = 0;
    while (waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (error.empty() && !stop_requested && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
      error = fmt::format("worker process {} ended abnormally (status {})", c.pid, status);
    }
  }
  munmap(shared, sizeof(std::atomic<size_t>));
  if (!error.empty()) throw Error(error);
}

}  // namespace

void RequestEvalStop() { stop_requested = true; }

std::vector<EpisodeRecord> ReadEpisodesJsonl(const std::string& path) {
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
  }
  return records;
}

EvalOutcome RunEval(const EvalConfig& config) {
  // ---- check the request ----
  if (config.policies.empty()) throw Error("eval: give at least one --policy");
  if (config.tasks.empty()) throw Error("eval: no tasks");
  if (config.episodes < 1) throw Error(fmt::format("eval: --episodes must be >= 1, got {}", config.episodes));
  if (config.workers < 1) throw Error(fmt::format("eval: --workers must be >= 1, got {}", config.workers));
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
  for (const std::string& spec : config.policies) {
    if (config.workers == 1) {
      make(spec);
    } else if (!config.make_policy) {
      ParsePolicySpec(spec);
    }
  }

  // ---- the output folder: new, or resumed ----
  const json identity = Identity(config);
  const std::string run_path = config.out_dir + "/run.json", jsonl_path = config.out_dir + "/episodes.jsonl";
  std::vector<EpisodeRecord> done;
  if (fs::exists(run_path)) {
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
    done = ReadEpisodesJsonl(jsonl_path);
  } else {
    fs::create_directories(config.out_dir);
    WriteJsonFile(run_path, identity);
  }
  std::set<std::string> done_keys;
  for (const EpisodeRecord& r : done) done_keys.insert(r.Key());

  // ---- the jobs of this shard not yet done ----
  std::vector<Job> jobs;
  size_t global = 0;
  for (size_t p = 0; p < config.policies.size(); ++p)
    for (size_t t = 0; t < config.tasks.size(); ++t)
      for (int i = 0; i < config.episodes; ++i, ++global) {
        if (int(global % config.shard_count) != config.shard_index) continue;
        const std::string key = fmt::format("{}|{}|{}", config.policies[p], config.tasks[t]->Name(), i);
        if (!done_keys.count(key)) jobs.push_back({p, t, i});
      }

  EvalOutcome outcome;
  outcome.episodes_resumed = int(done.size());
  outcome.episodes = std::move(done);
  JsonlAppender appender(jsonl_path);
  std::optional<ProgressBar> bar;
  if (config.progress) bar.emplace(int64_t(jobs.size()), "eval");
  int successes = 0;
  int64_t steps_run = 0;
  auto record = [&](EpisodeRecord rec, const json& line) {
    appender.Append(line);
    successes += rec.success;
    steps_run += rec.length;
    outcome.episodes.push_back(std::move(rec));
    ++outcome.episodes_run;
    if (bar) bar->Update(outcome.episodes_run, fmt::format("success {}/{}", successes, outcome.episodes_run));
  };
  stop_requested = false;
  const auto start = std::chrono::steady_clock::now();

  if (config.workers == 1) {
    std::atomic<size_t> next{0};
    RunWorker(config, make, jobs, next, [&](EpisodeRecord rec) {
      const json line = EpisodeToJson(rec);
      record(std::move(rec), line);
    });
  } else {
    RunWorkerProcesses(config, make, jobs, [&](const std::string& line) {
      const json j = json::parse(line);
      record(EpisodeFromJson(j), j);
    });
  }
  if (bar) bar->Finish();

  if (outcome.episodes_run < int(jobs.size())) {  // stopped by a signal
    outcome.interrupted = true;
    return outcome;
  }
  RunTiming timing;
  timing.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  timing.episodes_run = outcome.episodes_run;
  timing.env_steps_run = steps_run;
  timing.control_period_ms = ControlPeriodMs(EnvConfig{}, *config.tasks.front());
  outcome.results = Finish(config.out_dir, outcome.episodes, identity, config.command_line, timing, config.write_plots);
  return outcome;
}

EvalOutcome MergeShards(const std::vector<std::string>& shard_dirs, const std::string& out_dir,
                        const std::string& command_line, bool write_plots) {
  if (shard_dirs.empty()) throw Error("merge: no shard folders given");
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
    for (EpisodeRecord& r : ReadEpisodesJsonl(dir + "/episodes.jsonl")) {
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
  WriteJsonFile(out_dir + "/run.json", identity);
  const std::vector<std::string> policies = identity.at("policies");
  const std::vector<std::string> tasks = identity.at("tasks");
  SortCanonical(outcome.episodes, policies, tasks);
  {
    fs::remove(out_dir + "/episodes.jsonl");
    JsonlAppender appender(out_dir + "/episodes.jsonl");
    for (const EpisodeRecord& r : outcome.episodes) appender.Append(EpisodeToJson(r));
  }
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
