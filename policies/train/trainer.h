// The training loop shared by every learned policy (`padbench train`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/types.h"

namespace padbench::train {

struct TrainConfig {
  std::string policy;               // "autoencoder", "diffusion_policy", "pad"
  std::vector<std::string> data;    // robot datasets (HDF5)
  std::vector<std::string> video;   // action-free video datasets mixed into each batch (co-training)
  int video_batch = 16;             // rows of `video` per step, on top of the `batch` robot rows
  // Video pre-training (GR-1): the run opens with the steps of `batch` rows drawn from `video`
  // alone that add up to at least this many samples, then fine-tunes for `steps` (or `samples`)
  // steps as usual; each stage has its own warm-up and cosine decay. With it, video_batch 0
  // means no video rows while fine-tuning.
  int64_t pretrain_samples = 0;
  std::string out;                  // checkpoint folder
  nlohmann::json overrides = nlohmann::json::object();  // model hyper-parameters (--config)
  int steps = 20000;
  // The action-supervised sample budget: when > 0 it sets `steps` to the number of steps whose
  // robot rows (batch minus video rows) add up to at least this many samples.
  int64_t samples = 0;
  int batch = 64;
  uint64_t seed = 0;
  int threads = 2;
  bool resume = false;
  double lr = 1e-4, weight_decay = 1e-6;
  int warmup = 500;                 // linear warm-up, then cosine decay to 0
  double ema_max_decay = 0.9999;
  int log_every = 50, val_every = 500, checkpoint_every = 1000, val_batches = 8;
  // Fractions of the run (in (0, 1)) at which a loadable copy of the EMA model is kept as
  // OUT/samples_<robot samples seen>/ (config.json, model.pt): the points of a learning curve.
  std::vector<double> snapshot_fractions;
  double val_fraction = 0.05;       // held-out episodes
  bool progress = true;
};

struct TrainSummary {
  int steps = 0;           // both stages
  int pretrain_steps = 0;  // of which video pre-training
  int64_t robot_samples = 0, video_samples = 0;  // rows seen by the end of the run
  double train_loss = 0, val_loss = 0;  // last logged values
  double seconds = 0;
  int64_t parameters = 0;
};

// Trains (or resumes) and writes OUT/config.json, OUT/model.pt (EMA weights),
// OUT/train_log.csv and OUT/train_state.pt (for --resume). config.json's "training" block
// records the schedule, robot and video samples seen, wall time (summed over resumes),
// threads and trainable parameters. Deterministic for a seed and
// thread count: every step draws from generators seeded by (seed, step).
TrainSummary Train(const TrainConfig& config);

// Robot (action-supervised) and video rows of each fine-tuning batch of `config`.
struct BatchRows {
  int robot = 0, video = 0;
};
BatchRows RowsPerBatch(const TrainConfig& config);
// The video pre-training steps of `config` (0 without pre-training).
int PretrainSteps(const TrainConfig& config);

// The names `--policy` accepts: "autoencoder, diffusion_policy, pad".
std::string TrainableNames();

// Frames drawn uniformly from the held-out episodes of `data` (those Train() holds out for
// `seed`) and their reconstructions by the autoencoder checkpoint in `dir`.
struct Reconstructions {
  std::vector<Image> real, reconstructed;
};
Reconstructions ReconstructHeldOut(const std::string& dir, const std::vector<std::string>& data, uint64_t seed,
                                   double val_fraction, int frames);
// `frames` (the autoencoder's camera and size) and their reconstructions by the autoencoder
// checkpoint in `dir`, in batches of 64; `seconds` (optional) receives the encode + decode time.
Reconstructions Reconstruct(const std::string& dir, const std::vector<Image>& frames, double* seconds = nullptr);

}  // namespace padbench::train
