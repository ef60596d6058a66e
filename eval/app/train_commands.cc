// train: fit a learned policy on demonstrations.
#include <fstream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "eval/app/commands.h"
#include "eval/bench/reconstruction.h"
#include "eval/report/plots.h"
#include "policies/threads.h"
#include "policies/train/trainer.h"
#include "sim/image_io.h"
#include "sim/error.h"
#include "sim/json_file.h"
#include "tasks/registry.h"

namespace padbench::cli {
namespace {

// train_log.csv -> loss.png (training and validation loss against steps) and, when the model
// logs loss parts (PAD: image_mse, action_mse), loss_parts.png with each part's two curves.
void PlotTrainLog(const std::string& csv, const std::string& png, const std::string& parts_png) {
  std::ifstream in(csv);
  auto split = [](const std::string& line) {
    std::vector<std::string> f;
    size_t start = 0;
    for (size_t comma; (comma = line.find(',', start)) != std::string::npos; start = comma + 1) {
      f.push_back(line.substr(start, comma - start));
    }
    f.push_back(line.substr(start));
    return f;
  };
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = split(line);
  std::vector<LineSeries> series(header.size());
  for (size_t i = 1; i < header.size(); ++i) series[i].name = header[i];
  series[1].name = "train loss";
  if (series.size() > 2) series[2].name = "validation loss (EMA weights)";
  while (std::getline(in, line)) {
    const std::vector<std::string> f = split(line);
    for (size_t i = 1; i < f.size() && i < series.size(); ++i) {
      if (f[i].empty() || f[i] == "nan") continue;
      series[i].x.push_back(std::stod(f[0]));
      series[i].y.push_back(std::stod(f[i]));
    }
  }
  if (series.size() < 3) return;
  PlotLines(png, "Training loss", "step", "loss (log scale)", {series[1], series[2]}, /*log_y=*/true);
  constexpr size_t kFirstPart = 6;  // step,loss,val_loss,lr,it_per_s,elapsed_s, then the parts
  if (series.size() <= kFirstPart) return;
  std::vector<LineSeries> parts(series.begin() + kFirstPart, series.end());
  PlotLines(parts_png, "Loss parts (val_: validation, EMA weights)", "step", "MSE (log scale)", parts, /*log_y=*/true);
}

nlohmann::json ToJson(const ReconstructionQuality& q, const ReconstructionConfig& c) {
  return {{"frames", q.frames},
          {"psnr_db", q.psnr_db},
          {"masked_psnr_db", q.masked_psnr_db},
          {"masked_frames", q.masked_frames},
          {"ssim", q.ssim},
          {"ms_per_frame", q.ms_per_frame},
          {"threads", TorchThreads()},
          {"episodes_per_task", c.episodes},
          {"tasks", c.tasks.size()},
          {"seed", c.seed},
          {"every", c.every}};
}

void PrintReconstruction(const ReconstructionQuality& q, const ReconstructionConfig& c) {
  fmt::print("rendered expert episodes ({} tasks x {}, seed {}, {} frames): PSNR {:.2f} dB, object-masked PSNR "
             "{:.2f} dB ({} frames with objects), SSIM {:.4f}, encode + decode {:.2f} ms per frame "
             "(torch threads: {})\n",
             c.tasks.size(), c.episodes, c.seed, q.frames, q.psnr_db, q.masked_psnr_db, q.masked_frames, q.ssim,
             q.ms_per_frame, TorchThreads());
}

// The autoencoder's reconstruction quality on held-out frames (the ceiling for any predicted
// frame): printed, and written to OUT/reconstruction.json and OUT/reconstruction.png.
void ReportReconstruction(const train::TrainConfig& config) {
  constexpr int kFrames = 512;
  const auto r = train::ReconstructHeldOut(config.out, config.data, config.seed, config.val_fraction, kFrames);
  const ReconstructionQuality held_out = ScoreReconstructions(r);
  ReconstructionConfig rendered;
  rendered.autoencoder = config.out;
  rendered.tasks = SuiteTasks("default");
  const ReconstructionQuality q = MeasureReconstruction(rendered);
  WriteJsonFile(config.out + "/reconstruction.json",
                {{"frames", held_out.frames},
                 {"psnr_db", held_out.psnr_db},
                 {"ssim", held_out.ssim},
                 {"rendered", ToJson(q, rendered)}});
  // Eight frames: real above, reconstructed below.
  std::vector<Image> tiles(r.real.begin(), r.real.begin() + 8);
  tiles.insert(tiles.end(), r.reconstructed.begin(), r.reconstructed.begin() + 8);
  WritePng(config.out + "/reconstruction.png", Tile(tiles, 8));
  fmt::print("held-out reconstruction ({} frames): PSNR {:.2f} dB, SSIM {:.4f} -> {}/reconstruction.png\n",
             held_out.frames, held_out.psnr_db, held_out.ssim, config.out);
  PrintReconstruction(q, rendered);
}

}  // namespace

void AddTrainCommands(CLI::App& app) {
  struct Opts {
    train::TrainConfig config;
    std::string config_file;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("train", "Train a learned policy on HDF5 demonstrations");
  cmd->add_option("--policy", o->config.policy, "What to train: " + train::TrainableNames())->required();
  cmd->add_option("--data", o->config.data, "Robot dataset(s) with actions, comma-separated .hdf5 files")
      ->delimiter(',')
      ->required();
  cmd->add_option("--video", o->config.video,
                  "Action-free video dataset(s) to co-train on (collect --video-only), comma-separated")
      ->delimiter(',');
  cmd->add_option("--video-batch", o->config.video_batch,
                  "Rows of --video per step, on top of the --batch robot rows (co-training never displaces robot rows); "
                  "0 with --pretrain-samples: video only in pre-training")
      ->capture_default_str();
  cmd->add_option("--pretrain-samples", o->config.pretrain_samples,
                  "Video pre-training (GR-1): first train on this many --video rows alone (--batch rows a step, no "
                  "action loss), then fine-tune for --steps/--samples; both stages in one run and one checkpoint")
      ->capture_default_str();
  cmd->add_option("--out", o->config.out, "Checkpoint folder")->required();
  cmd->add_option("--config", o->config_file, "JSON file of model hyper-parameters (see the policy's README)");
  cmd->add_option("--steps", o->config.steps, "Optimiser steps (of fine-tuning, after any --pretrain-samples)")->capture_default_str();
  cmd->add_option("--samples", o->config.samples,
                  "Action-supervised sample budget (robot rows over the run); sets --steps when given");
  cmd->add_option("--batch", o->config.batch, "Batch size")->capture_default_str();
  cmd->add_option("--seed", o->config.seed, "Seed (initialisation, sampling, noise)")->check(SeedValidator())->capture_default_str();
  cmd->add_option("--threads", o->config.threads, "Torch threads")->capture_default_str();
  cmd->add_option("--lr", o->config.lr, "Peak learning rate (AdamW, warm-up then cosine)")->capture_default_str();
  cmd->add_option("--warmup", o->config.warmup, "Warm-up steps")->capture_default_str();
  cmd->add_option("--checkpoint-every", o->config.checkpoint_every, "Steps between checkpoints")->capture_default_str();
  cmd->add_option("--val-every", o->config.val_every, "Steps between validation losses")->capture_default_str();
  cmd->add_option("--snapshots", o->config.snapshot_fractions,
                  "Fractions of the run's fine-tuning (comma-separated, in (0, 1)) kept as OUT/samples_N/ "
                  "checkpoints for learning curves (N: action-supervised samples)")
      ->delimiter(',');
  cmd->add_flag("--resume", o->config.resume, "Continue the run in --out from its last checkpoint");
  cmd->callback([o] {
    if (!o->config_file.empty()) o->config.overrides = ReadJsonFile(o->config_file);
    const train::TrainSummary s = train::Train(o->config);
    const std::string& out = o->config.out;
    PlotTrainLog(out + "/train_log.csv", out + "/loss.png", out + "/loss_parts.png");
    fmt::print("trained {} ({} parameters) for {} steps{} ({} robot + {} video samples) in {:.0f} s: loss {:.4f}, "
               "validation {:.4f}\ncheckpoint: {}/ (config.json, model.pt, train_log.csv, loss.png)\n",
               o->config.policy, s.parameters, s.steps,
               s.pretrain_steps > 0 ? fmt::format(" (the first {} video pre-training)", s.pretrain_steps) : "",
               s.robot_samples, s.video_samples, s.seconds, s.train_loss, s.val_loss, out);
    if (o->config.policy == "autoencoder") ReportReconstruction(o->config);
  });

  auto r = std::make_shared<ReconstructionConfig>();
  auto suite = std::make_shared<std::string>("default");
  auto json_out = std::make_shared<std::string>();
  auto* rec = app.add_subcommand("reconstruct",
                                 "An autoencoder's reconstruction quality on rendered scripted-expert episodes: "
                                 "PSNR over the frame and over the movable objects (the ceiling of any frame "
                                 "predicted through its decoder)");
  rec->add_option("--autoencoder", r->autoencoder, "Autoencoder checkpoint folder")->required();
  rec->add_option("--suite", *suite, "Suite: default, all, easy, medium, hard")->capture_default_str();
  rec->add_option("--episodes", r->episodes, "Episodes per task")->check(CLI::Range(1, 1000))->capture_default_str();
  rec->add_option("--seed", r->seed, "Episode seed (keep it off the evaluation seeds)")
      ->check(SeedValidator())
      ->capture_default_str();
  rec->add_option("--every", r->every, "Score one frame of every N control steps")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  rec->add_option("--out", *json_out, "Also write the figures to this JSON file");
  auto threads = std::make_shared<int>(1);
  rec->add_option("--threads", *threads, "Torch threads (the ms per frame are measured with them)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  rec->callback([r, suite, json_out, threads] {
    SetTorchThreads(*threads);
    r->tasks = SuiteTasks(*suite);
    const ReconstructionQuality q = MeasureReconstruction(*r);
    PrintReconstruction(q, *r);
    if (!json_out->empty()) WriteJsonFile(*json_out, ToJson(q, *r));
  });
}

}  // namespace padbench::cli
