#include "policies/policy.h"

#include <algorithm>

namespace padbench {

const char* PredictionKindName(PredictionKind kind) { return kind == PredictionKind::kGoal ? "goal" : "future"; }

Action WaypointAction(const Action& waypoint, const std::array<float, 3>& ee_pos, double action_scale) {
  Action a;
  for (int i = 0; i < 3; ++i) a[i] = float(std::clamp((waypoint[i] - ee_pos[i]) / action_scale, -1.0, 1.0));
  a[3] = std::clamp(waypoint[3], -1.0f, 1.0f);
  return a;
}

std::vector<PolicyOutput> Policy::ActBatch(const std::vector<Policy*>& rows, const std::vector<const Observation*>& obs) {
  std::vector<PolicyOutput> out(rows.size());
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i]) out[i] = rows[i]->Act(*obs[i]);
  return out;
}

}  // namespace padbench
