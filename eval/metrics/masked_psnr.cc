// Object-masked PSNR: over the pixels that show the robot or a movable object in the real
// frame (MuJoCo segmentation), for the prediction and for the persistence baseline. At 64x64
// the static table and background dominate full-frame PSNR; this is the part that moves.
#include <cmath>

#include <fmt/format.h>

#include "eval/metrics/image_quality.h"
#include "eval/metrics/metric.h"
#include "eval/metrics/prediction_table.h"

namespace padbench {
namespace {

const std::vector<std::string> kFields = {"psnr", "persistence_psnr", "object_fraction"};

class ObjectMaskedPsnr final : public EpisodeMetric {
 public:
  void OnStep(const Action&, const Observation&, const std::vector<ScoredPrediction>& predictions) override {
    for (const ScoredPrediction& p : predictions) {
      const Image& mask = p.object_mask();
      const double model = MaskedPsnr(*p.frame, *p.real, mask);
      if (std::isnan(model)) continue;  // nothing movable in view: no score
      size_t on = 0;
      for (uint8_t v : mask.pixels) on += v != 0;
      table_.Add(p, {model, MaskedPsnr(*p.origin, *p.real, mask), double(on) / mask.pixels.size()});
    }
  }
  nlohmann::json Value() const override { return table_.ToRecord(); }

 private:
  PredictionTable table_{kFields};
};

std::string SummarySection(const PolicyAggregates& policies, const nlohmann::json&) {
  const std::string rows = PredictionTable::SummaryRows(policies, [](const std::string&, const nlohmann::json& r) {
    return fmt::format("{:.2f} | {:.2f} | {:.1f}% | {}", r.at("psnr").get<double>(),
                       r.at("persistence_psnr").get<double>(), 100 * r.at("object_fraction").get<double>(),
                       r.at("count").get<int>());
  });
  if (rows.empty()) return "";
  return "## Object-masked PSNR (robot and movable objects in the real frame)\n\n"
         "| policy | kind | camera | horizon | model PSNR (dB) | persistence PSNR (dB) | object pixels | frames |\n"
         "|---|---|---|---|---|---|---|---|\n" +
         rows;
}

}  // namespace

Metric MaskedPsnrMetric() {
  Metric m;
  m.name = "masked_psnr";
  m.help = "PSNR over the robot and movable objects (segmentation of the real frame), model and persistence";
  m.start = [] { return std::make_unique<ObjectMaskedPsnr>(); };
  m.aggregate = [](const std::vector<const nlohmann::json*>& v) { return PredictionTable::Aggregate(v, kFields); };
  m.summarize = SummarySection;
  m.csv_cells = [](const nlohmann::json& a) { return PredictionTable::CsvCells(a, "masked", {"psnr", "persistence_psnr"}); };
  return m;
}

}  // namespace padbench
