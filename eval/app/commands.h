// Subcommands of the padbench CLI; each adds itself to the app and runs when chosen.
#pragma once

#include <CLI/CLI.hpp>

namespace padbench::cli {

// tasks, render, experts, collect, perf, sheet.
void AddSimCommands(CLI::App& app);
// eval, compare, merge, curves (argv is recorded in results.json).
void AddEvalCommands(CLI::App& app, int argc, char** argv);
// train.
void AddTrainCommands(CLI::App& app);

}  // namespace padbench::cli
