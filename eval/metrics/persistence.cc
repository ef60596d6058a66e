// The persistence baseline: the frame the policy saw when it predicted, copied forward, scored on
// exactly the frames its predictions are scored on. A model that does not beat it has not
// learned to predict.
#include <fmt/format.h>

#include "eval/metrics/image_quality.h"
#include "eval/metrics/metric.h"
#include "eval/metrics/prediction_table.h"

namespace padbench {
namespace {

const std::vector<std::string> kFields = {"psnr", "ssim"};

class Persistence final : public EpisodeMetric {
 public:
  void OnStep(const Action&, const Observation&, const std::vector<ScoredPrediction>& predictions) override {
    for (const ScoredPrediction& p : predictions) table_.Add(p, {Psnr(*p.origin, *p.real), Ssim(*p.origin, *p.real)});
  }
  nlohmann::json Value() const override { return table_.ToRecord(); }

 private:
  PredictionTable table_{kFields};
};

std::string SummarySection(const PolicyAggregates& policies, const nlohmann::json& all) {
  const std::string rows = PredictionTable::SummaryRows(policies, [&](const std::string& policy, const nlohmann::json& r) {
    const nlohmann::json& mine = all.at(policy);
    const nlohmann::json* model = mine.contains("prediction") ? PredictionTable::Row(mine.at("prediction"), r) : nullptr;
    const double psnr = r.at("psnr"), ssim = r.at("ssim");
    return fmt::format("{:.2f} | {:.3f} | {} | {}", psnr, ssim,
                       model ? fmt::format("{:+.2f} dB", model->at("psnr").get<double>() - psnr) : "–",
                       model ? fmt::format("{:+.3f}", model->at("ssim").get<double>() - ssim) : "–");
  });
  if (rows.empty()) return "";
  return "## Persistence baseline (the current frame copied forward, on the same frames)\n\n"
         "| policy | kind | camera | horizon | PSNR (dB) | SSIM | model − baseline PSNR | model − baseline SSIM |\n"
         "|---|---|---|---|---|---|---|---|\n" +
         rows;
}

}  // namespace

Metric PersistenceMetric() {
  Metric m;
  m.name = "persistence";
  m.help = "PSNR/SSIM of the frame seen at prediction time, copied forward, on the frames predictions are scored on";
  m.start = [] { return std::make_unique<Persistence>(); };
  m.aggregate = [](const std::vector<const nlohmann::json*>& v) { return PredictionTable::Aggregate(v, kFields); };
  m.summarize = SummarySection;
  m.csv_cells = [](const nlohmann::json& a) { return PredictionTable::CsvCells(a, "persist", kFields); };
  return m;
}

}  // namespace padbench
