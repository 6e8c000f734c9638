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

thread_local Pool pool, results;

bool isFree(const at::Tensor &b) { return b.storage().use_count() == 1; }

int64_t bytesOf(at::IntArrayRef sizes, at::ScalarType type) {
  int64_t count = 1;
  for (int64_t s : sizes)
    count *= s;
  return count * int64_t(at::elementSize(type));
}

// A free buffer of `p` whose size `fits`, or a fresh one (advised to use huge pages) that `p`
// keeps when it has room, after dropping its oldest free buffer when it is full.
template <class Fits> at::Tensor take(Pool &p, int64_t bytes, Fits fits) {
  for (const at::Tensor &b : p.buffers)
    if (isFree(b) && fits(b.numel()))
      return b;
  if (p.buffers.size() >= p.keep)
    for (auto it = p.buffers.begin(); it != p.buffers.end(); ++it)
      if (isFree(*it)) {
        p.buffers.erase(it);
        break;
      }
  at::Tensor fresh = at::empty({bytes}, at::kByte);
  rt::preferHugePages(fresh.data_ptr(), fresh.nbytes());
  if (p.buffers.size() < p.keep)
    p.buffers.push_back(fresh);
  return fresh;
}

} // namespace

void scratch_keep(size_t count) { pool.keep = std::max(pool.keep, count); }

void result_keep(size_t count) { results.keep = std::max(results.keep, count); }

at::Tensor scratch_tensor(at::IntArrayRef sizes, at::ScalarType type) {
  const int64_t bytes = bytesOf(sizes, type);
  // The right size class: not more than twice what is asked, so a small request does not pin
  // a large block.
  at::Tensor chosen =
      take(pool, bytes, [&](int64_t n) { return n >= bytes && n <= 2 * bytes + 4096; });
  // A view of the first `bytes` bytes with the asked type and shape; it shares the storage, so
  // the buffer is busy until the view and its copies are gone.
  return chosen.narrow(0, 0, bytes).view(type).view(sizes);
}

at::Tensor result_tensor(at::IntArrayRef sizes, at::ScalarType type) {
  const int64_t bytes = bytesOf(sizes, type);
  // Exactly the size asked: the caller's tensor then owns a storage of its own size, as a
  // fresh one would (what is saved or measured through its storage is the result alone).
  at::Tensor chosen = take(results, bytes, [&](int64_t n) { return n == bytes; });
  return chosen.view(type).view(sizes);
}

} // namespace med::transforms::detail
