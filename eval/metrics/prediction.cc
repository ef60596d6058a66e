// Prediction quality: PSNR and SSIM of every predicted frame against the frame that arrived at
// its horizon, per kind (future frame, goal image), camera and horizon.
#include <fmt/format.h>

#include "eval/metrics/metric.h"
#include "eval/metrics/prediction_table.h"

namespace padbench {
namespace {

const std::vector<std::string> kFields = {"psnr", "ssim"};

class Prediction final : public EpisodeMetric {
 public:
  void OnStep(const Action&, const Observation&, const std::vector<ScoredPrediction>& predictions) override {
    for (const ScoredPrediction& p : predictions) table_.Add(p, {p.psnr, p.ssim});
  }
  nlohmann::json Value() const override { return table_.ToRecord(); }

 private:
  PredictionTable table_{kFields};
};

std::string SummarySection(const PolicyAggregates& policies, const nlohmann::json&) {
  const std::string rows = PredictionTable::SummaryRows(policies, [](const std::string&, const nlohmann::json& r) {
    return fmt::format("{:.2f} | {:.3f} | {}", r.at("psnr").get<double>(), r.at("ssim").get<double>(),
                       r.at("count").get<int>());
  });
  if (rows.empty()) return "";
  return "## Prediction quality (predicted vs. observed frames)\n\n"
         "Future frames are scored against the frame that arrived `horizon` steps later; goal images against the "
         "frame at the horizon they aim at.\n\n"
         "| policy | kind | camera | horizon | PSNR (dB) | SSIM | frames |\n|---|---|---|---|---|---|---|\n" +
         rows;
}

}  // namespace

Metric PredictionMetric() {
  Metric m;
  m.name = "prediction";
  m.help = "PSNR/SSIM of predicted frames against the frames that arrived, per kind, camera and horizon";
  m.start = [] { return std::make_unique<Prediction>(); };
  m.aggregate = [](const std::vector<const nlohmann::json*>& v) { return PredictionTable::Aggregate(v, kFields); };
  m.summarize = SummarySection;
  m.csv_cells = [](const nlohmann::json& a) { return PredictionTable::CsvCells(a, "pred", kFields); };
  return m;
}

}  // namespace padbench
