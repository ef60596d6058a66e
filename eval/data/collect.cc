#include "eval/data/collect.h"

#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <numeric>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "eval/cluster/job_queue.h"
#include "eval/report/progress.h"
#include "sim/dataset.h"
#include "sim/error.h"

namespace padbench {

std::string CollectEnvArgs(const CollectConfig& config) {
  nlohmann::json tasks = nlohmann::json::array();
  for (const auto& task : config.tasks) tasks.push_back(task->Name());
  const EnvConfig& env = config.env.env;
  nlohmann::json args = {
      {"env_name", "padbench"},
      {"type", "padbench"},
      {"env_kwargs",
       {{"tasks", tasks},
        {"cameras", config.env.cameras},
        {"image_size", config.env.image_size},
        {"depth", config.env.depth},
        {"frame_skip", env.frame_skip},
        {"action_scale", env.action_scale},
        {"seed", config.seed},
        {"expert_noise", config.noise},
        {"video_only", config.video_only},
        {"sample_instruction", config.env.sample_instruction}}}};
  return args.dump();
}

namespace {

// One attempt as it travels from the rank that ran it to rank 0.
struct Attempt {
  bool kept = false;  // goes into the file (a success, or any episode with keep_failures)
  EpisodeData data;   // when kept
};

// A flat byte string of an attempt: the fields of EpisodeData in order, each array behind its length.
class Packer {
 public:
  template <typename T>
  void Scalar(T v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  template <typename T>
  void Array(const std::vector<T>& v) {
    Scalar<uint64_t>(v.size());
    if (!v.empty()) out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  void String(const std::string& s) { Array(std::vector<char>(s.begin(), s.end())); }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Unpacker {
 public:
  explicit Unpacker(const std::string& in) : in_(in) {}
  template <typename T>
  T Scalar() {
    T v;
    Read(&v, sizeof(T));
    return v;
  }
  template <typename T>
  std::vector<T> Array() {
    std::vector<T> v(Scalar<uint64_t>());
    Read(v.data(), v.size() * sizeof(T));
    return v;
  }
  std::string String() {
    const std::vector<char> chars = Array<char>();
    return {chars.begin(), chars.end()};
  }

 private:
  void Read(void* dst, size_t n) {
    if (n > in_.size() - pos_) throw Error("collect: a truncated attempt arrived from another rank");
    if (n == 0) return;  // an empty array's data() may be null, which memcpy must not see
    std::memcpy(dst, in_.data() + pos_, n);
    pos_ += n;
  }
  const std::string& in_;
  size_t pos_ = 0;
};

std::string Pack(const Attempt& a) {
  Packer p;
  p.Scalar<uint8_t>(a.kept);
  if (!a.kept) return p.Take();
  const EpisodeData& d = a.data;
  p.String(d.task);
  p.String(d.instruction);
  p.Scalar(d.seed);
  p.Scalar(d.length);
  p.Scalar(d.image_height);
  p.Scalar(d.image_width);
  p.Scalar<uint64_t>(d.images.size());
  for (const auto& [camera, pixels] : d.images) p.String(camera), p.Array(pixels);
  p.Scalar<uint64_t>(d.depths.size());
  for (const auto& [camera, metres] : d.depths) p.String(camera), p.Array(metres);
  p.Array(d.ee_pos);
  p.Array(d.gripper);
  p.Array(d.actions);
  p.Array(d.rewards);
  p.Array(d.dones);
  return p.Take();
}

Attempt Unpack(const std::string& bytes) {
  Unpacker u(bytes);
  Attempt a;
  a.kept = u.Scalar<uint8_t>();
  if (!a.kept) return a;
  EpisodeData& d = a.data;
  d.task = u.String();
  d.instruction = u.String();
  d.seed = u.Scalar<uint64_t>();
  d.length = u.Scalar<int>();
  d.image_height = u.Scalar<int>();
  d.image_width = u.Scalar<int>();
  for (uint64_t n = u.Scalar<uint64_t>(); n > 0; --n) {
    std::string camera = u.String();
    d.images[camera] = u.Array<uint8_t>();
  }
  for (uint64_t n = u.Scalar<uint64_t>(); n > 0; --n) {
    std::string camera = u.String();
    d.depths[camera] = u.Array<float>();
  }
  d.ee_pos = u.Array<float>();
  d.gripper = u.Array<float>();
  d.actions = u.Array<float>();
  d.rewards = u.Array<float>();
  d.dones = u.Array<uint8_t>();
  return a;
}

// Attempt `attempt` of the task `env` runs, recorded.
Attempt RunAttempt(const CollectConfig& config, TaskEnv& env, int attempt) {
  const std::string name(env.task().Name());
  Attempt a;
  EpisodeData& ep = a.data;
  ep.task = name;
  ep.seed = EpisodeSeed(config.seed, name, uint64_t(attempt));
  ep.image_height = ep.image_width = config.env.image_size;
  const ExpertEpisode result =
      RunExpertEpisode(env, ep.seed, config.noise, [&](const Observation& obs, const Action& action) {
        for (const auto& [camera, image] : obs.rgb) {
          auto& dst = ep.images[camera];
          dst.insert(dst.end(), image.pixels.begin(), image.pixels.end());
        }
        for (const auto& [camera, depth] : obs.depth) {
          auto& dst = ep.depths[camera];
          dst.insert(dst.end(), depth.metres.begin(), depth.metres.end());
        }
        ep.ee_pos.insert(ep.ee_pos.end(), obs.ee_pos.begin(), obs.ee_pos.end());
        ep.gripper.push_back(obs.gripper);
        if (!config.video_only) ep.actions.insert(ep.actions.end(), action.begin(), action.end());
        ep.rewards.push_back(0);
        ep.dones.push_back(0);
      });
  a.kept = result.success || config.keep_failures;
  if (!a.kept) return {};
  ep.instruction = env.instruction();
  ep.length = int(ep.gripper.size());
  ep.rewards.back() = result.success ? 1.0f : 0.0f;  // sparse: 1 on the step that reaches success
  ep.dones.back() = 1;
  return a;
}

}  // namespace

CollectSummary Collect(const CollectConfig& config, bool progress) {
  if (config.tasks.empty()) throw Error("collect: no tasks");
  if (config.episodes < 1) throw Error(fmt::format("collect: --episodes must be >= 1, got {}", config.episodes));
  const bool owner = !config.cluster || config.cluster->rank() == 0;
  if (owner && std::filesystem::is_directory(config.out)) {
    throw Error(fmt::format("collect: --out {} is a folder; give the .hdf5 file to write", config.out));
  }
  if (const auto parent = std::filesystem::path(config.out).parent_path(); owner && !parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) throw Error(fmt::format("collect: cannot create the folder of --out {}: {}", config.out, ec.message()));
  }
  const auto start = std::chrono::steady_clock::now();
  auto renderer = Renderer::Create({config.gl});
  // Every task environment first: bad cameras or sizes fail before a file is touched.
  std::vector<std::unique_ptr<TaskEnv>> envs;
  for (const auto& task : config.tasks) envs.push_back(TaskEnv::Create(task, config.env, renderer.get()));

  // Job j is attempt j % budget of task j / budget.
  const size_t budget = size_t(config.episodes) * size_t(config.max_attempts_per_episode);
  QueueOptions options;
  options.rank_timeout_s = config.rank_timeout_s;
  options.fingerprint = CollectEnvArgs(config) + fmt::format(" episodes={} keep_failures={}", config.episodes,
                                                             config.keep_failures);
  CollectSummary summary;
  std::unique_ptr<DatasetWriter> writer;
  std::unique_ptr<JobSource> source;
  std::optional<ProgressBar> bar;
  // Rank 0 writes the attempts in order: `arrived` holds those that came early.
  std::map<size_t, Attempt> arrived;
  size_t task = 0;  // the task being written
  int written = 0, attempts = 0;
  const std::string partial = config.out + ".partial";
  JobServer* server = nullptr;
  auto write_in_order = [&] {
    while (task < envs.size()) {
      const auto it = arrived.find(task * budget + size_t(attempts));
      if (it == arrived.end()) return;
      const Attempt attempt = std::move(it->second);
      arrived.erase(it);
      const std::string name(envs[task]->task().Name());
      ++attempts;
      if (attempt.kept) {
        writer->Append(attempt.data);
        ++written;
        summary.frames += attempt.data.length;
        if (bar) bar->Update(summary.episodes + written, fmt::format("{} {}/{}", name, written, attempts));
      }
      if (written < config.episodes && size_t(attempts) < budget) continue;
      if (written < config.episodes) {
        throw Error(fmt::format("collect: the expert of {} succeeded in only {} of {} attempts", name, written,
                                attempts));
      }
      summary.episodes += written;
      summary.attempts += attempts;
      summary.per_task[name] = {written, attempts};
      // Attempts that ran ahead of need are dropped, those still to come too.
      const size_t done = task;
      server->Cancel([&](size_t job) { return job / budget == done; });
      arrived.erase(arrived.lower_bound(done * budget), arrived.lower_bound((done + 1) * budget));
      ++task;
      written = attempts = 0;
    }
  };
  if (owner) {
    // Written under a temporary name and renamed when complete, so an interrupted
    // run never leaves a file that looks finished.
    writer = DatasetWriter::Create(partial, CollectEnvArgs(config));
    if (progress) bar.emplace(int64_t(config.tasks.size()) * config.episodes, "collect");
    std::vector<size_t> jobs(envs.size() * size_t(budget));
    std::iota(jobs.begin(), jobs.end(), size_t(0));
    auto s = std::make_unique<JobServer>(config.cluster, jobs, [&](size_t job, const std::string& bytes) {
      arrived.emplace(job, Unpack(bytes));
      write_in_order();
    }, options);
    server = s.get();
    source = std::move(s);
  } else {
    source = std::make_unique<JobClient>(*config.cluster, options);
  }
  try {
    while (true) {
      source->Poll(1);
      size_t job = 0;
      const JobSource::Next next = source->Take(&job);
      if (next == JobSource::Next::kDone) break;
      if (next == JobSource::Next::kWait) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      source->Complete(job, Pack(RunAttempt(config, *envs[job / budget], int(job % budget))));
    }
  } catch (const std::exception& e) {
    source->Stop(e.what());
    throw;
  }
  if (!source->error().empty()) throw Error(source->error());
  if (!owner) return summary;
  writer->Close();
  std::error_code ec;
  std::filesystem::rename(partial, config.out, ec);
  if (ec) throw Error(fmt::format("collect: cannot rename {} to {}: {}", partial, config.out, ec.message()));
  if (bar) bar->Finish();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace padbench
