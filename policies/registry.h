// Policy specs over the family table (policies/family.h). A spec is `name` or `name=checkpoint-or-file`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "policies/policy.h"

namespace padbench {

struct PolicySpec {
  std::string name;  // "expert", "random", "torchscript", ...
  std::string path;  // after '=', may be empty
};

// Splits and checks a spec; throws padbench::Error listing the known names.
PolicySpec ParsePolicySpec(const std::string& spec);
// Creates a fresh instance (one per worker thread). Throws padbench::Error
// on an unknown name or a missing, corrupt or mismatched file.
std::unique_ptr<Policy> MakePolicy(const std::string& spec);
// Names with a one-line description, for --help and errors.
std::vector<std::pair<std::string, std::string>> PolicyNames();
// Specs ("family=DIR") of the checkpoint folders in `dir` (default: assets/checkpoints) whose
// config.json names a policy family, in the family table's order: what perf and the viewer offer.
std::vector<std::string> ShippedPolicySpecs(const std::string& dir = "");

}  // namespace padbench
