// The one list of metrics: each is a file in this folder that defines its Metric; list it here.
#include "eval/metrics/metric.h"

namespace padbench {

Metric PredictionMetric();   // prediction.cc: PSNR/SSIM of predicted frames
Metric PersistenceMetric();  // persistence.cc: the current frame copied forward, on the same frames
Metric MaskedPsnrMetric();   // masked_psnr.cc: PSNR over the robot and movable objects
Metric ActStagesMetric();    // act_stages.cc: the policies' per-stage Act timings

const std::vector<Metric>& Metrics() {
  static const std::vector<Metric> metrics = {PredictionMetric(), PersistenceMetric(), MaskedPsnrMetric(),
                                              ActStagesMetric()};
  return metrics;
}

std::vector<std::unique_ptr<EpisodeMetric>> StartMetrics() {
  std::vector<std::unique_ptr<EpisodeMetric>> out;
  for (const Metric& m : Metrics()) out.push_back(m.start());
  return out;
}

}  // namespace padbench
