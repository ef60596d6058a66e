// How well an image autoencoder reconstructs what the tasks look like: the ceiling on any frame
// a policy predicts through its decoder, over the whole frame and over the movable objects only
// (the object-masked PSNR the evaluation reports).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "policies/train/trainer.h"
#include "sim/gl_context.h"
#include "tasks/task.h"

namespace padbench {

struct ReconstructionConfig {
  std::string autoencoder;                        // checkpoint folder
  std::vector<std::shared_ptr<const Task>> tasks;
  int episodes = 2;                               // scripted-expert episodes per task
  uint64_t seed = 7;                              // episode seeds: EpisodeSeed(seed, task, index)
  int every = 5;                                  // one frame of every `every` control steps
  GlBackend gl = GlBackend::kAuto;
};

struct ReconstructionQuality {
  int frames = 0;
  double psnr_db = 0;         // mean over frames
  double masked_psnr_db = 0;  // mean over frames that show a movable object
  int masked_frames = 0;
  double ssim = 0;
  double ms_per_frame = 0;    // encode + decode, batches of 64, this process's torch threads
};

// Mean PSNR and SSIM of reconstructions against their frames, and the object-masked PSNR where
// `masks` (one per frame) are given; no timing.
ReconstructionQuality ScoreReconstructions(const train::Reconstructions& r, const std::vector<Image>& masks = {});

// Renders the episodes of the autoencoder's camera at its image size, with their object masks,
// and scores the reconstructions. Throws padbench::Error on a bad checkpoint or an empty config.
ReconstructionQuality MeasureReconstruction(const ReconstructionConfig& config);

}  // namespace padbench
