#include "policies/policy.h"

namespace padbench {

const char* PredictionKindName(PredictionKind kind) { return kind == PredictionKind::kGoal ? "goal" : "future"; }

}  // namespace padbench
