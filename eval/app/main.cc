// padbench: the command-line entry point. Flags live here; work lives in the libraries.
#include <cstdlib>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "eval/app/commands.h"
#include "eval/cluster/transport.h"
#include "sim/error.h"

int main(int argc, char** argv) {
  // llvmpipe starts a thread per core by default; at 64x64 one thread per
  // renderer is faster and leaves the other cores to other workers.
  setenv("LP_NUM_THREADS", "1", /*overwrite=*/0);

  CLI::App app{"padbench: a benchmark suite for visual robot policies in MuJoCo"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  padbench::cli::AddSimCommands(app);
  padbench::cli::AddEvalCommands(app, argc, argv);
  padbench::cli::AddTrainCommands(app);
  // Every failure is one line "padbench: error: ..." and exit code 2; --help exits 0.
  try {
    // Under mpirun every rank runs the same command: only these share the work out.
    const std::string command = argc > 1 ? argv[1] : "";
    if (padbench::LaunchedRanks() > 1 && !command.empty() && command[0] != '-' && command != "eval" &&
        command != "experts" && command != "collect") {
      throw padbench::Error(fmt::format("`padbench {}` does not run across MPI ranks (eval, experts and collect "
                                        "do); run it without mpirun",
                                        command));
    }
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "padbench: error: {} (see --help)\n", e.what());
    return 2;
  } catch (const std::exception& e) {  // padbench::Error, and what the libraries throw (filesystem, ...)
    fmt::print(stderr, "padbench: error: {}\n", e.what());
    return 2;
  }
  return 0;
}
