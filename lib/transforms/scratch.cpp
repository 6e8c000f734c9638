#include "scratch.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <vector>

#include "med/runtime/memory.h"

namespace med::transforms::detail {

namespace {

/// Byte buffers kept by one thread. A buffer is free when the pool's tensor is the only one
/// holding its storage. A chain needs two at a time (a stage's input and output), a batch of n
/// samples 2n; the pool keeps as many as the largest call on this thread asked for
/// (scratch_keep), so what stays pinned is that call's own peak of intermediates.
struct Pool {
  std::vector<at::Tensor> buffers; // 1-D kByte, oldest first
  size_t keep = 2;
};

thread_local Pool pool;

bool isFree(const at::Tensor &b) { return b.storage().use_count() == 1; }

} // namespace

void scratch_keep(size_t count) { pool.keep = std::max(pool.keep, count); }

at::Tensor scratch_tensor(at::IntArrayRef sizes, at::ScalarType type) {
  int64_t count = 1;
  for (int64_t s : sizes)
    count *= s;
  const int64_t bytes = count * int64_t(at::elementSize(type));
  at::Tensor chosen;
  // A free buffer of the right size class (not more than twice what is asked, so a small
  // request does not pin a large block).
  for (const at::Tensor &b : pool.buffers)
    if (isFree(b) && b.numel() >= bytes && b.numel() <= 2 * bytes + 4096) {
      chosen = b;
      break;
    }
  if (!chosen.defined()) {
    if (pool.buffers.size() >= pool.keep)
      for (auto it = pool.buffers.begin(); it != pool.buffers.end(); ++it)
        if (isFree(*it)) {
          pool.buffers.erase(it);
          break;
        }
    chosen = at::empty({bytes}, at::kByte);
    rt::preferHugePages(chosen.data_ptr(), chosen.nbytes());
    if (pool.buffers.size() < pool.keep)
      pool.buffers.push_back(chosen);
  }
  // A view of the first `bytes` bytes with the asked type and shape; it shares the storage, so
  // the buffer is busy until the view and its copies are gone.
  return chosen.narrow(0, 0, bytes).view(type).view(sizes);
}

} // namespace med::transforms::detail
