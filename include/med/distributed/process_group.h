// Process groups for data-parallel training on torch's c10d: one process per rank, a TCPStore for
// the rendezvous and Gloo (CPU) or NCCL (GPU) for the collectives. Mirrors
// torch.distributed.init_process_group with the "env://" init method that torchrun and
// `med run` use.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <torch/arg.h>

namespace c10d {
class ProcessGroup;
class Store;
} // namespace c10d

namespace med::distributed {

/// How to join a group. Fields left at their defaults are read from the environment that
/// `med run` (or torchrun) sets: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT.
///
///   med::distributed::init_process_group(
///       med::distributed::InitProcessGroupOptions().backend("gloo").timeout(std::chrono::seconds(60)));
struct InitProcessGroupOptions {
  /// "gloo" (CPU tensors) or "nccl" (CUDA tensors; refused when CUDA or NCCL is absent).
  TORCH_ARG(std::string, backend) = "gloo";
  /// How long the rendezvous and every collective may wait for the other ranks (torch's
  /// default: 30 minutes). Tests use a short one so a lost rank fails instead of hanging.
  TORCH_ARG(std::chrono::milliseconds, timeout) = std::chrono::minutes(30);
  /// -1: read RANK.
  TORCH_ARG(int, rank) = -1;
  /// -1: read WORLD_SIZE.
  TORCH_ARG(int, world_size) = -1;
  /// -1: read LOCAL_RANK (0 when unset).
  TORCH_ARG(int, local_rank) = -1;
  /// Empty: read MASTER_ADDR.
  TORCH_ARG(std::string, master_addr) = "";
  /// -1: read MASTER_PORT.
  TORCH_ARG(int, master_port) = -1;
};

/// A handle on a joined group: who we are, how many we are, and the c10d objects that carry the
/// collectives. Cheap to copy (shared state). Collective helpers (barrier, DDP, all_gather) take
/// one, defaulting to the group made by init_process_group().
class ProcessGroup {
public:
  ProcessGroup() = default;
  int rank() const;
  int world_size() const;
  int local_rank() const;
  const std::string &backend() const;
  /// The c10d group, for collectives this library does not wrap.
  c10d::ProcessGroup &c10d() const;
  /// The rendezvous store (rank 0 serves it), e.g. to share a small value between ranks.
  c10d::Store &store() const;
  std::chrono::milliseconds timeout() const;
  /// Blocks until every rank of the group has reached it.
  void barrier() const;
  /// False for a default-constructed handle.
  bool valid() const { return state_ != nullptr; }

  struct State;
  explicit ProcessGroup(std::shared_ptr<State> state) : state_(std::move(state)) {}

private:
  const State &state() const;
  std::shared_ptr<State> state_;
};

/// Joins the group described by `options` and the environment and makes it the default group.
/// Throws med::Error for a missing or malformed variable, an unknown backend, "nccl" without
/// CUDA, a second call without destroy_process_group(), or a rendezvous that times out.
ProcessGroup init_process_group(const InitProcessGroupOptions &options = {});

/// True between init_process_group() and destroy_process_group().
bool is_initialized();

/// The default group; throws med::Error when init_process_group() has not been called.
ProcessGroup default_group();

/// Leaves the default group (after a barrier, so rank 0 keeps the store alive until every rank
/// is done with it). Does nothing when no group is initialized.
void destroy_process_group();

/// This process's rank, or 0 when not distributed: code written for several processes also runs
/// as one.
int get_rank();
/// Number of processes, or 1 when not distributed.
int get_world_size();
/// Rank on this machine (LOCAL_RANK), or 0 when not distributed: picks the GPU to use.
int get_local_rank();
/// True on rank 0 and in a non-distributed run: only the main process writes checkpoints and
/// logs.
///
///   if (med::distributed::is_main_process()) torch::save(net, "model.pt");
bool is_main_process();
/// Blocks until every rank of the default group has reached it; does nothing when not
/// distributed.
void barrier();

} // namespace med::distributed
