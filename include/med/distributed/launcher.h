// Starting the processes of a single-machine data-parallel job (what `med run --nproc N` and
// torchrun do): N copies of a program, each told its rank through the environment.
#pragma once

#include <string>
#include <vector>

#include <torch/arg.h>

namespace med::distributed {

/// What to start and how.
///
///   int rc = med::distributed::launch(
///       med::distributed::LaunchOptions({"./train", "--epochs",
///       "5"}).nproc(2).master_port(29500));
struct LaunchOptions {
  explicit LaunchOptions(std::vector<std::string> command) : command_(std::move(command)) {}
  /// The program (looked up in PATH when it has no '/') and its arguments.
  TORCH_ARG(std::vector<std::string>, command);
  /// Number of processes (ranks 0..nproc-1).
  TORCH_ARG(int, nproc) = 1;
  /// Rendezvous address handed to every rank as MASTER_ADDR.
  TORCH_ARG(std::string, master_addr) = "127.0.0.1";
  /// MASTER_PORT; 0 picks a free port.
  TORCH_ARG(int, master_port) = 29500;
  /// Seconds before every rank is stopped and launch() fails (124); 0 waits forever.
  TORCH_ARG(double, timeout_s) = 0;
  /// Seconds between SIGTERM and SIGKILL when stopping ranks.
  TORCH_ARG(double, kill_grace_s) = 5;
};

/// Starts `nproc` copies of the command with RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
/// MASTER_ADDR and MASTER_PORT set (their output is not prefixed), and waits. Returns 0 when
/// every rank exits with 0. When a rank fails, the others are stopped and its status is returned:
/// its exit code, or 128 + signal number when it was killed; 124 on timeout. SIGINT and SIGTERM
/// sent to the launcher are passed on to the ranks. Throws med::Error for bad options or when a
/// process cannot be started.
int launch(const LaunchOptions &options);

/// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
int find_free_port();

} // namespace med::distributed
