// The shared state behind med::distributed::ProcessGroup (internal to med_distributed).
#pragma once

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include "med/distributed/process_group.h"

namespace med::distributed {

struct ProcessGroup::State {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> group;
  int rank = 0, world_size = 1, local_rank = 0;
  std::string backend;
  std::chrono::milliseconds timeout{0};
};

namespace detail {
/// Waits for `work`, turning a c10d failure or timeout into med::Error naming `what`.
void wait(const c10::intrusive_ptr<c10d::Work> &work, const std::string &what);
} // namespace detail

} // namespace med::distributed
