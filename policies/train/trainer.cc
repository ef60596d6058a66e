#include "policies/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "policies/checkpoint.h"
#include "policies/family.h"
#include "policies/nn/autoencoder.h"
#include "policies/nn/layers.h"
#include "policies/train/trainable.h"
#include "sim/error.h"
#include "sim/json_file.h"
#include "sim/rng.h"

namespace padbench::train {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Linear warm-up, then cosine decay to 0, within each stage (video pre-training, then the
// `steps` of fine-tuning).
double LearningRate(const TrainConfig& c, int pretrain, int step) {
  const int length = step < pretrain ? pretrain : c.steps;
  if (step >= pretrain) step -= pretrain;
  const int warmup = std::min(c.warmup, length);
  if (step < warmup) return c.lr * (step + 1) / warmup;
  const double progress = double(step - warmup) / std::max(1, length - warmup);
  return c.lr * 0.5 * (1.0 + std::cos(M_PI * std::min(progress, 1.0)));
}

std::string Eta(double seconds) {
  const int s = int(seconds);
  return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
}

// The EMA weights as the model file, written through a fresh model of the same architecture.
void SaveEmaModel(const json& checkpoint, const nn::Ema& ema, const std::string& path) {
  auto copy = TrainableFromCheckpoint(checkpoint);
  ema.CopyTo(copy->module());
  nn::SaveParameters(copy->module(), path + ".tmp");
  fs::rename(path + ".tmp", path);
}

}  // namespace

BatchRows RowsPerBatch(const TrainConfig& c) {
  return {c.batch, c.video.empty() ? 0 : c.video_batch};
}

int PretrainSteps(const TrainConfig& c) {
  return c.pretrain_samples > 0 ? int((c.pretrain_samples + c.batch - 1) / c.batch) : 0;
}

TrainSummary Train(const TrainConfig& requested) {
  TrainConfig c = requested;
  FindFamily(c.policy, "trainable");  // an unknown name is the first thing to hear about
  if (c.data.empty()) throw Error("train: give --data");
  if (c.out.empty()) throw Error("train: give --out");
  if (c.steps < 1 || c.batch < 1 || c.threads < 1) throw Error("train: --steps, --batch and --threads must be >= 1");
  if (c.pretrain_samples < 0) {
    throw Error(fmt::format("train: --pretrain-samples must be >= 0, got {}", c.pretrain_samples));
  }
  if (c.pretrain_samples > 0 && c.video.empty()) throw Error("train: --pretrain-samples needs --video to pre-train on");
  if (!c.video.empty() && c.video_batch < (c.pretrain_samples > 0 ? 0 : 1)) {
    throw Error(fmt::format("train: --video-batch must be >= 1 with --video (>= 0 with --pretrain-samples), got {}",
                            c.video_batch));
  }
  if (c.samples < 0) throw Error(fmt::format("train: --samples must be >= 0, got {}", c.samples));
  for (double f : c.snapshot_fractions) {
    if (!(f > 0 && f < 1)) throw Error(fmt::format("train: snapshot fractions must lie in (0, 1), got {}", f));
  }
  // Rows of each batch drawn from the robot data and from the action-free video (co-training).
  const BatchRows rows = RowsPerBatch(c);
  const int video_rows = rows.video;
  if (c.samples > 0) c.steps = int((c.samples + rows.robot - 1) / rows.robot);
  // Steps [0, pretrain) pre-train on video; [pretrain, total_steps) fine-tune.
  const int pretrain = PretrainSteps(c), total_steps = pretrain + c.steps;
  auto robot_samples = [&](int step) { return int64_t(std::max(0, step - pretrain)) * rows.robot; };
  auto video_samples = [&](int step) {
    return int64_t(std::min(step, pretrain)) * c.batch + int64_t(std::max(0, step - pretrain)) * rows.video;
  };
  torch::set_num_threads(c.threads);
  const auto start = std::chrono::steady_clock::now();
  const std::string config_path = c.out + "/config.json", state_path = c.out + "/train_state.pt",
                    log_path = c.out + "/train_log.csv";

  // ---- model: new, or resumed from OUT ----
  std::unique_ptr<Trainable> model;
  json checkpoint;
  int first_step = 0;
  const bool resuming = c.resume && fs::exists(state_path);
  if (c.resume && !resuming) {
    throw Error(fmt::format("--resume: {} has no train_state.pt to continue from{}", c.out,
                            fs::exists(config_path) ? " (a finished or copied checkpoint keeps only the model)" : ""));
  }
  if (!c.resume && fs::exists(config_path)) {
    throw Error(fmt::format("{} already holds a checkpoint; pass --resume to continue it or choose another --out", c.out));
  }
  // The model first when resuming (its data spec names the cameras to load); a new model is
  // fitted on the data, which then holds every camera of the first file.
  double previous_wall_s = 0;  // wall time of the sessions before a --resume
  torch::manual_seed(c.seed);  // weight initialisation (a resumed model draws it too, then loads its weights)
  if (resuming) {
    checkpoint = ReadCheckpointConfig(c.out, c.policy);
    previous_wall_s = checkpoint.at("training").value("wall_s", 0.0);
    model = TrainableFromCheckpoint(checkpoint);
  }
  DemoData data = DemoData::Load(c.data, model ? model->spec().cameras : std::vector<std::string>{}, c.val_fraction,
                                 c.seed);
  if (!data.has_actions()) throw Error("train: --data must hold actions; pass action-free video with --video");
  // A batch is built in memory: one larger than the data is a mistake, not a request for repeats.
  if (c.batch > data.frames()) {
    throw Error(fmt::format("train: --batch {} is larger than the {} frames of --data", c.batch, data.frames()));
  }
  std::string fingerprint = data.Fingerprint();
  if (!resuming) {
    model = MakeTrainable(c.policy, c.overrides, data);
    checkpoint = model->Checkpoint();
    fs::create_directories(c.out);
  }
  const DataSpec spec = model->spec();
  DemoData video;
  if (!c.video.empty()) {
    video = DemoData::Load(c.video, spec.cameras, 0.0, c.seed);
    fingerprint += fmt::format(" + video {} ({} rows a step)", video.Fingerprint(), c.video_batch);
  }
  if (resuming && checkpoint.at("training").value("dataset", "") != fingerprint) {
    throw Error(fmt::format("--resume: {} was trained on other data ({}), not {}", c.out,
                            checkpoint.at("training").value("dataset", ""), fingerprint));
  }
  if (resuming && checkpoint.at("training").value("pretrain_steps", 0) != pretrain) {
    throw Error(fmt::format("--resume: {} began with {} video pre-training steps, not {} (give the same "
                            "--pretrain-samples and --batch)",
                            c.out, checkpoint.at("training").value("pretrain_steps", 0), pretrain));
  }
  model->PrepareData(data);
  if (!c.video.empty()) model->PrepareData(video);
  torch::nn::Module& module = model->module();
  module.train();
  torch::optim::AdamW optimizer(module.parameters(),
                                torch::optim::AdamWOptions(c.lr).weight_decay(c.weight_decay).betas({0.95, 0.999}));
  nn::Ema ema(module, c.ema_max_decay);
  if (resuming) {
    try {
      torch::serialize::InputArchive archive;
      archive.load_from(state_path);
      torch::serialize::InputArchive weights, opt, shadow;
      archive.read("model", weights);
      archive.read("optimizer", opt);
      archive.read("ema", shadow);
      module.load(weights);
      optimizer.load(opt);
      for (size_t i = 0; i < ema.shadow().size(); ++i) shadow.read(std::to_string(i), ema.shadow()[i]);
      torch::Tensor step;
      archive.read("step", step);
      first_step = int(step.item<int64_t>());
    } catch (const c10::Error& e) {
      const std::string what = e.what();
      throw Error(fmt::format("--resume: {} is corrupt or does not match the model ({})", state_path,
                              what.substr(0, what.find('\n'))));
    }
    ema.set_steps(first_step);
    if (first_step >= total_steps) {
      throw Error(fmt::format("--resume: {} has already trained {} steps; ask for more than that (--steps or --samples)",
                              c.out, first_step));
    }
  }
  int64_t parameters = 0;
  for (const auto& p : module.parameters())
    if (p.requires_grad()) parameters += p.numel();  // trained ones (PAD's autoencoder is frozen)

  // ---- log: step,loss,val_loss,lr,it_per_s,elapsed_s then each loss part and its validation ----
  {
    // Keep the rows up to the resumed step (a crash may have logged past the last state).
    std::vector<std::string> lines;
    if (resuming) {
      std::ifstream in(log_path);
      for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == 's' || std::stoi(line) <= first_step) lines.push_back(line);
      }
    }
    std::ofstream out(log_path);
    for (const auto& r : lines) out << r << "\n";
  }
  std::ofstream log(log_path, std::ios::app);
  bool header_written = resuming && fs::file_size(log_path) > 0;

  // The validation loss and its parts (EMA weights): the same batches every time, so the
  // curve compares like with like.
  auto validate = [&]() -> std::vector<double> {
    if (data.val_episodes() == 0) return {};
    torch::NoGradGuard no_grad;
    auto eval_model = TrainableFromCheckpoint(checkpoint);
    ema.CopyTo(eval_model->module());
    eval_model->module().eval();
    std::vector<double> total;
    for (int i = 0; i < c.val_batches; ++i) {
      Rng rng(Mix64(c.seed ^ 0xA11DA7E) + i);
      torch::Generator gen = at::detail::createCPUGenerator(Mix64(c.seed + 7919 * (i + 1)));
      const LossTerms terms = eval_model->Loss(data.Sample(c.batch, spec, true, rng), gen);
      total.resize(1 + terms.parts.size());
      total[0] += terms.total.item<double>() / c.val_batches;
      for (size_t p = 0; p < terms.parts.size(); ++p) total[p + 1] += terms.parts[p].second.item<double>() / c.val_batches;
    }
    return total;
  };

  // The EMA model of `step` as a loadable checkpoint folder (config.json, model.pt) in `dir`.
  auto write_model = [&](const std::string& dir, int step) {
    const double wall_s =
        previous_wall_s + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    checkpoint["training"] = {{"steps", step},
                              {"total_steps", total_steps},
                              {"pretrain_steps", pretrain},
                              {"pretrain_samples", int64_t(pretrain) * c.batch},
                              {"seed", c.seed},
                              {"batch", c.batch},
                              {"lr", c.lr},
                              {"warmup", c.warmup},
                              {"threads", c.threads},
                              {"dataset", fingerprint},
                              {"data", c.data},
                              {"video", c.video},
                              {"video_batch", rows.video},
                              {"robot_samples", robot_samples(step)},
                              {"video_samples", video_samples(step)},
                              {"wall_s", wall_s},
                              {"parameters", parameters}};
    fs::create_directories(dir);
    SaveEmaModel(checkpoint, ema, dir + "/model.pt");
    WriteJsonFile(dir + "/config.json", checkpoint);
  };
  std::set<int> snapshot_steps;
  for (double f : c.snapshot_fractions) snapshot_steps.insert(pretrain + std::max(1, int(std::lround(f * c.steps))));

  auto save = [&](int step) {
    write_model(c.out, step);
    torch::serialize::OutputArchive archive, weights, opt, shadow;
    module.save(weights);
    optimizer.save(opt);
    for (size_t i = 0; i < ema.shadow().size(); ++i) shadow.write(std::to_string(i), ema.shadow()[i]);
    archive.write("model", weights);
    archive.write("optimizer", opt);
    archive.write("ema", shadow);
    archive.write("step", torch::tensor(int64_t(step)));
    archive.save_to(state_path + ".tmp");
    fs::rename(state_path + ".tmp", state_path);
  };

  if (c.progress) {
    fmt::print(stderr,
               "train {}: {} parameters, {} train / {} val episodes ({} frames){}{}, steps {}..{} "
               "({} action-supervised samples), {} threads\n",
               c.policy, parameters, data.train_episodes(), data.val_episodes(), data.frames(),
               c.video.empty() ? "" : fmt::format(", + {} video episodes ({} frames, {} of {} rows per batch)",
                                                  video.train_episodes(), video.frames(), video_rows, c.batch + video_rows),
               pretrain == 0 ? "" : fmt::format(", the first {} steps video pre-training ({} rows each)", pretrain, c.batch),
               first_step, total_steps, robot_samples(total_steps), c.threads);
  }
  TrainSummary summary;
  summary.parameters = parameters;
  std::vector<std::string> part_names;
  std::vector<double> running;  // loss, then its parts, summed since the last log line
  int running_n = 0;
  auto window_start = std::chrono::steady_clock::now();
  for (int step = first_step; step < total_steps; ++step) {
    for (auto& group : optimizer.param_groups()) {
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(LearningRate(c, pretrain, step));
    }
    Rng rng(Mix64(c.seed) + uint64_t(step));
    torch::Generator gen = at::detail::createCPUGenerator(Mix64(c.seed ^ 0xD1FF) + uint64_t(step));
    Batch batch;
    if (step < pretrain) {
      batch = video.Sample(c.batch, spec, false, rng);
    } else {
      batch = data.Sample(rows.robot, spec, false, rng);
      if (video_rows > 0) batch = Concat(batch, video.Sample(video_rows, spec, false, rng));
    }
    model->BeginStep(step);
    const LossTerms terms = model->Loss(batch, gen);
    const double value = terms.total.item<double>();
    if (!std::isfinite(value)) {
      throw Error(fmt::format("train: the loss became {} at step {}; stopped, {} keeps the checkpoint of step {}", value,
                              step + 1, c.out, step / c.checkpoint_every * c.checkpoint_every));
    }
    optimizer.zero_grad();
    terms.total.backward();
    torch::nn::utils::clip_grad_norm_(module.parameters(), 1.0);
    optimizer.step();
    ema.Update(module);
    if (part_names.empty()) {
      for (const auto& [name, part] : terms.parts) part_names.push_back(name);
    }
    running.resize(1 + terms.parts.size());
    running[0] += value;
    for (size_t p = 0; p < terms.parts.size(); ++p) running[p + 1] += terms.parts[p].second.item<double>();
    ++running_n;

    const int done = step + 1;
    const bool log_now = done % c.log_every == 0 || done == total_steps;
    if (log_now) {
      if (!header_written) {
        log << "step,loss,val_loss,lr,it_per_s,elapsed_s";
        for (const std::string& name : part_names) log << "," << name << ",val_" << name;
        log << "\n";
        header_written = true;
      }
      const double now_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double it_s = running_n / std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count();
      summary.train_loss = running[0] / running_n;
      const bool val_now = done % c.val_every == 0 || done == total_steps;
      const std::vector<double> val = val_now ? validate() : std::vector<double>{};
      auto val_cell = [&](size_t i) { return i < val.size() ? fmt::format("{:.6f}", val[i]) : std::string(); };
      if (val_now) summary.val_loss = val.empty() ? std::nan("") : val[0];
      log << fmt::format("{},{:.6f},{},{:.3g},{:.3f},{:.1f}", done, summary.train_loss, val_now ? val_cell(0) : "",
                         LearningRate(c, pretrain, step), it_s, now_s);
      std::string parts_text;
      for (size_t p = 0; p < part_names.size(); ++p) {
        log << fmt::format(",{:.6f},{}", running[p + 1] / running_n, val_cell(p + 1));
        parts_text += fmt::format("  {} {:.4f}{}", part_names[p], running[p + 1] / running_n,
                                  p + 1 < val.size() ? fmt::format(" (val {:.4f})", val[p + 1]) : "");
      }
      log << "\n";
      log.flush();
      if (c.progress) {
        fmt::print(stderr, "step {}/{}{}  loss {:.4f}{}{}  lr {:.2e}  {:.2f} it/s  eta {}\n", done, total_steps,
                   step < pretrain ? " (video pre-training)" : "", summary.train_loss,
                   val_now ? fmt::format("  val {:.4f}", summary.val_loss) : "", parts_text,
                   LearningRate(c, pretrain, step), it_s, Eta((total_steps - done) / std::max(it_s, 1e-9)));
      }
      std::fill(running.begin(), running.end(), 0.0);
      running_n = 0;
      window_start = std::chrono::steady_clock::now();
    }
    if (snapshot_steps.count(done) && done < total_steps) {
      write_model(fmt::format("{}/samples_{}", c.out, robot_samples(done)), done);
    }
    if (done % c.checkpoint_every == 0 || done == total_steps) save(done);
  }
  summary.steps = total_steps;
  summary.pretrain_steps = pretrain;
  summary.robot_samples = robot_samples(total_steps);
  summary.video_samples = video_samples(total_steps);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

namespace {

// uint8 [N,H,W,3] -> N images.
void AppendImages(const torch::Tensor& hwc, std::vector<Image>& out) {
  for (int64_t i = 0; i < hwc.size(0); ++i) {
    Image img(int(hwc.size(1)), int(hwc.size(2)));
    std::memcpy(img.data(), hwc[i].contiguous().data_ptr<uint8_t>(), img.pixels.size());
    out.push_back(std::move(img));
  }
}

// Encodes and decodes uint8 [N,3,H,W] frames.
Reconstructions ReconstructTensor(nn::Autoencoder& model, const torch::Tensor& real) {
  torch::NoGradGuard no_grad;
  Reconstructions out;
  AppendImages(real.permute({0, 2, 3, 1}), out.real);
  AppendImages(nn::ToUint8Hwc(model->Decode(model->Encode(real))), out.reconstructed);
  return out;
}

}  // namespace

Reconstructions ReconstructHeldOut(const std::string& dir, const std::vector<std::string>& data, uint64_t seed,
                                   double val_fraction, int frames) {
  nn::Autoencoder model = nn::LoadAutoencoder(dir);
  const DataSpec spec = DataSpec::CurrentFrame(model->config().camera);
  const DemoData held_out = DemoData::Load(data, spec.cameras, val_fraction, seed);
  if (held_out.val_episodes() == 0) throw Error("reconstruction: the data has no held-out episodes");
  Rng rng(Mix64(seed ^ 0x2EC0));
  return ReconstructTensor(model, held_out.Sample(frames, spec, true, rng).images.select(1, -1));
}

Reconstructions Reconstruct(const std::string& dir, const std::vector<Image>& frames, double* seconds) {
  nn::Autoencoder model = nn::LoadAutoencoder(dir);
  const int size = int(model->config().image_size);
  Reconstructions out;
  double total = 0;
  constexpr size_t kBatch = 64;
  for (size_t first = 0; first < frames.size(); first += kBatch) {
    std::vector<torch::Tensor> batch;
    for (size_t i = first; i < std::min(frames.size(), first + kBatch); ++i) {
      const Image& f = frames[i];
      if (f.height != size || f.width != size || f.channels != 3) {
        throw Error(fmt::format("reconstruction: the autoencoder takes {}x{} RGB frames, got {}x{}x{}", size, size,
                                f.height, f.width, f.channels));
      }
      batch.push_back(torch::from_blob(const_cast<uint8_t*>(f.data()), {size, size, 3}, torch::kUInt8).permute({2, 0, 1}));
    }
    const auto start = std::chrono::steady_clock::now();
    Reconstructions part = ReconstructTensor(model, torch::stack(batch));
    total += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (auto [from, to] : {std::pair{&part.real, &out.real}, std::pair{&part.reconstructed, &out.reconstructed}}) {
      to->insert(to->end(), std::make_move_iterator(from->begin()), std::make_move_iterator(from->end()));
    }
  }
  if (seconds) *seconds = total;
  return out;
}

}  // namespace padbench::train
