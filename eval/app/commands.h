// Subcommands of the padbench CLI; each adds itself to the app and runs when chosen.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace padbench::cli {

// A seed: a whole number in 0..2^64-1, written plainly ("-1" and "1e30" are errors).
inline CLI::Validator SeedValidator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        size_t used = 0;
        try {
          if (!text.empty() && text[0] != '-') std::stoull(text, &used, 10);
        } catch (const std::exception&) {
          used = 0;
        }
        return used == text.size() && used > 0 ? "" : "a seed is a whole number from 0 to 18446744073709551615, got " + text;
      },
      "SEED");
}

// --rank-timeout of the commands that run across MPI ranks (eval, experts, collect).
inline void AddRankTimeout(CLI::App& cmd, double& seconds) {
  cmd.add_option("--rank-timeout", seconds,
                 "Under mpirun: seconds of silence after which a rank counts as dead and its episodes run on "
                 "another rank")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

// tasks, render, experts, collect, perf, sheet.
void AddSimCommands(CLI::App& app);
// eval, compare, merge, curves (argv is recorded in results.json).
void AddEvalCommands(CLI::App& app, int argc, char** argv);
// train.
void AddTrainCommands(CLI::App& app);

}  // namespace padbench::cli
