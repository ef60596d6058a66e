// Records an episode as mp4 (the real frame beside the predicted frames that target it).
#pragma once

#include <memory>
#include <string>

#include "eval/metrics/observer.h"

namespace padbench {

class VideoWriter;

// DIR/videos/<policy>/<task>_<index>.mp4, with the policy spec made file-name safe.
std::string VideoPath(const std::string& out_dir, const std::string& policy, const std::string& task, int index);

class VideoObserver final : public RolloutObserver {
 public:
  explicit VideoObserver(std::string path);
  ~VideoObserver() override;
  void OnReset(const EpisodeInfo& info, const Observation& obs) override;
  // The first Act decides the layout: as many prediction slots as the policy predicts (up to 3).
  void OnAct(const Observation& obs, const PolicyOutput& output, double ms) override;
  void OnStep(const Action& action, const Observation& obs, const std::vector<ScoredPrediction>& predictions) override;
  // Finishes the file and gives it its final name.
  void Close();

 private:
  void Add(const Observation& obs, const std::vector<ScoredPrediction>& predictions,
           const std::string& caption);
  std::string PartialPath() const;
  std::string path_;
  std::string title_;
  Image first_frame_;  // held until the first Act fixes the layout
  int max_predicted_ = 0;
  std::unique_ptr<VideoWriter> writer_;
};

}  // namespace padbench
