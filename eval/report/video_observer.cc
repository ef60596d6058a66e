#include "eval/report/video_observer.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "eval/report/video.h"

namespace padbench {
namespace {

constexpr int kMaxPredicted = 3;  // prediction slots shown beside the real frame

std::string SafeName(const std::string& s) {
  std::string out;
  for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '_';
  return out;
}

}  // namespace

std::string VideoPath(const std::string& out_dir, const std::string& policy, const std::string& task, int index) {
  return fmt::format("{}/videos/{}/{}_{:03}.mp4", out_dir, SafeName(policy), task, index);
}

VideoObserver::VideoObserver(std::string path) : path_(std::move(path)) {}
VideoObserver::~VideoObserver() = default;

void VideoObserver::OnReset(const EpisodeInfo& info, const Observation& obs) {
  if (obs.rgb.empty()) return;
  first_frame_ = obs.rgb.begin()->second;
  title_ = info.task;  // the caption strip is as wide as the frames: keep it short
}

void VideoObserver::OnAct(const Observation&, const PolicyOutput& output, double) {
  if (writer_ || first_frame_.empty()) return;
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path());
  VideoConfig config;
  config.frame_height = first_frame_.height;
  config.frame_width = first_frame_.width;
  config.max_predicted = std::min<int>(kMaxPredicted, int(output.predicted.size()));
  writer_ = std::make_unique<VideoWriter>(PartialPath(), config);
  max_predicted_ = config.max_predicted;
  writer_->Add(first_frame_, {}, title_ + "\nt=0");
}

void VideoObserver::OnStep(const Action& a, const Observation& obs, const std::vector<ScoredPrediction>& predictions) {
  Add(obs, predictions,
      fmt::format("{}\nt={} a=[{:+.1f} {:+.1f} {:+.1f} {:+.1f}]", title_, obs.step, a[0], a[1], a[2], a[3]));
}

void VideoObserver::Add(const Observation& obs, const std::vector<ScoredPrediction>& predictions,
                        const std::string& caption) {
  if (!writer_) return;
  // The most recent predictions of this frame first (they come in ascending horizon).
  std::vector<std::pair<int, Image>> shown;
  for (const ScoredPrediction& p : predictions) {
    if (int(shown.size()) == max_predicted_) break;
    shown.emplace_back(p.horizon, *p.frame);
  }
  writer_->Add(obs.rgb.begin()->second, shown, caption);
}

// Written under a temporary name ("x.partial.mp4": the extension picks the container) and
// renamed when complete, so a video at its final name is never half written.
std::string VideoObserver::PartialPath() const {
  const std::filesystem::path p(path_);
  return (p.parent_path() / (p.stem().string() + ".partial" + p.extension().string())).string();
}

void VideoObserver::Close() {
  if (!writer_) return;
  writer_->Close();
  std::filesystem::rename(PartialPath(), path_);
}

}  // namespace padbench
