// The evaluation engine: deterministic parallel rollouts of policies on tasks,
// streamed to episodes.jsonl, resumable, shardable, and summarised in reports.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/cluster/transport.h"
#include "eval/engine/episode_record.h"
#include "eval/engine/runner.h"
#include "policies/policy.h"
#include "sim/gl_context.h"
#include "tasks/task.h"

namespace padbench {

struct EvalConfig {
  std::vector<std::string> policies;                // specs, e.g. "expert", "torchscript=p.pt"
  std::vector<std::shared_ptr<const Task>> tasks;
  int episodes = 10;                                // per (policy, task)
  uint64_t seed = 0;                                // episode seeds: EpisodeSeed(seed, task, index)
  int workers = 1;                                  // threads, each with its own renderer, envs and policies
  std::string out_dir;
  bool resume = false;                              // finish a run in out_dir without redoing episodes
  bool force = false;                               // write into an out_dir holding files of another kind
  int videos = 0;                                   // mp4 of the first K episodes per (policy, task)
  int shard_index = 0, shard_count = 1;             // evaluate episodes with global index % count == index
  GlBackend gl = GlBackend::kAuto;
  std::string command_line;                         // recorded in results.json
  bool progress = true;
  bool write_plots = true;
  int torch_threads = 1;                            // LibTorch threads per worker
  double act_timeout_s = 60;                        // an Act call running longer kills its worker: policy_timeout
  ActTiming timing;                                 // synchronous, or real time (eval/engine/rollout.h)
  // Episodes a worker runs side by side, their Act calls batched (RunEpisodes). Episodes are
  // grouped by index alone (index / B), so outcomes do not depend on workers, ranks or resumes.
  int batch_envs = 1;
  PolicyFactory make_policy;                        // default: MakePolicy from policies/registry.h
  // Set: this process is one rank of a distributed run (MpiWorld()). Rank 0 owns out_dir and
  // hands out the episodes; every rank runs `workers` worker processes of its own.
  Transport* cluster = nullptr;
  double rank_timeout_s = 30;                       // a rank silent this long is dead: its episodes run elsewhere
};

struct EvalOutcome {
  std::vector<EpisodeRecord> episodes;  // every finished episode of the run (resumed ones too), canonical order
  nlohmann::json results;               // what results.json holds (empty when interrupted)
  int episodes_run = 0;                 // in this call
  int episodes_resumed = 0;             // loaded from an earlier call
  bool interrupted = false;
  int rank = 0;                         // of a distributed run; only rank 0's outcome holds the run's episodes
};

// Runs the evaluation. Throws padbench::Error on bad configuration, an out_dir
// that already holds a different or finished run, or a policy that cannot be
// created. A policy failing inside an episode is recorded, and the run goes on.
//
// Episodes run in forked worker processes (in this process only when it has already created a
// GL context, and then with one worker: forking a live GL context is unsafe, and in-process no
// fault is isolated and act_timeout_s does not apply; the CLI never has one). A worker that dies mid-episode (any signal or exit) is
// replaced and the episode retried once on a fresh worker; a second death records it as
// "worker_crash". An Act call running past act_timeout_s kills its worker and records
// "policy_timeout". A stop request (RequestEvalStop) ends the workers within about 2 s, also
// while a policy is stuck.
//
// Distributed (config.cluster): rank 0 checks out_dir, resumes it, and hands episodes out one
// at a time from a queue (eval/cluster/job_queue.h) to its own workers and to the other ranks,
// which stream each finished record back; rank 0 alone writes episodes.jsonl and the reports.
// Episodes that write a video run on rank 0. Per-episode outcomes equal a local run's: an
// episode depends on its seed alone. A rank that dies costs only its running episodes, which
// another rank runs again.
EvalOutcome RunEval(const EvalConfig& config);

// Asks running evaluations to stop after abandoning their current episodes
// (async-signal-safe: the CLI calls it from its SIGINT/SIGTERM handler).
void RequestEvalStop();

// Episodes recorded in a jsonl file; a torn last line (a kill mid-write) is ignored. With
// `line_numbers`, each record's line in the file.
std::vector<EpisodeRecord> ReadEpisodesJsonl(const std::string& path, std::vector<int>* line_numbers = nullptr);

// Combines the outputs of shards (each a directory with run.json and episodes.jsonl)
// into `out_dir`, writing the same results.json the unsharded run writes. Checks
// that the shards belong to one run and that no episode is missing or repeated; locks
// the shards (a shard still running is refused) and `out_dir`, which must be new or
// empty (`force`: any folder but a shard's), and never one of the shards.
EvalOutcome MergeShards(const std::vector<std::string>& shard_dirs, const std::string& out_dir,
                        const std::string& command_line, bool write_plots = true, bool force = false);

}  // namespace padbench
