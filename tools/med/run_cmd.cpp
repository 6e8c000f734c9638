// `med run`: the local launcher for data-parallel jobs (torchrun's single-machine case).
//   med run --nproc 2 [--master-port 29500] -- ./train --epochs 5
// starts the program twice with RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR=127.0.0.1 and
// MASTER_PORT set; the programs call med::distributed::init_process_group().
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "med/core/error.h"
#include "med/distributed/launcher.h"

/// Adds the `run` subcommand to `app`; the returned function runs it after parsing and gives the
/// exit status (0 when every rank succeeded, else the failing rank's status).
std::function<int()> add_run_command(CLI::App &app) {
  struct Args {
    int nproc = 1;
    int port = 29500;
    double timeout = 0;
    std::vector<std::string> command;
  };
  auto args = std::make_shared<Args>();
  CLI::App *cmd = app.add_subcommand(
      "run", "start N local processes of a data-parallel program (RANK, WORLD_SIZE, LOCAL_RANK, "
             "MASTER_ADDR, MASTER_PORT set); non-zero if any rank fails");
  cmd->add_option("--nproc", args->nproc, "number of processes (ranks)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--master-port", args->port, "rendezvous port on 127.0.0.1 (0 picks a free one)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--timeout", args->timeout,
                  "seconds before every rank is stopped (exit 124); 0 waits forever")
      ->check(CLI::NonNegativeNumber);
  // After "--" every argument, options included, belongs to the program.
  cmd->add_option("command", args->command, "the program and its arguments, after --")->required();
  cmd->footer("Example: med run --nproc 2 -- ./train --epochs 5");
  return [args]() -> int {
    try {
      return med::distributed::launch(med::distributed::LaunchOptions(args->command)
                                          .nproc(args->nproc)
                                          .master_port(args->port)
                                          .timeout_s(args->timeout));
    } catch (const med::Error &e) {
      fmt::print(stderr, "med run: error: {}\n", e.what());
      return 2;
    }
  };
}
