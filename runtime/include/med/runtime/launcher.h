// Splits work across a process-wide pool of threads. Threading rule for the whole project: a
// kernel never starts threads itself; the launcher owns them, and results never depend on how
// many threads ran (chunks are disjoint and each element is computed the same way).
#pragma once

#include <cstdint>
#include <functional>

#include "med/runtime/kernel_abi.h"

namespace med::rt {

/// Calls fn(begin, end) on disjoint chunks covering [0, n) using up to `threads` threads (the
/// caller's thread included). Chunk boundaries are multiples of `align` elements so vector loops
/// stay aligned. Returns when every chunk is done; the first exception thrown by fn is rethrown.
///
///   med::rt::parallelFor(n, 2, 64, [&](int64_t b, int64_t e) { for (...) out[i] = f(in[i]); });
void parallelFor(int64_t n, int threads, int64_t align,
                 const std::function<void(int64_t, int64_t)> &fn);

/// A contiguous buffer handed to a kernel: base pointer, element count, element size in bytes.
/// `split` buffers are divided between chunks; the others (kernel parameters) are passed whole.
/// `rowLength` > 0 passes a split buffer as rows of that length (a 2-D descriptor), and chunks
/// then hold whole rows: a gathering kernel's output. `sliceRows` > 0 (rows per slice of a 3-D
/// output, set with rowLength) has each chunk computed as small windows in slice-blocked order
/// (see launchElementwise) instead of one call in row order.
struct BufferRef {
  void *data;
  int64_t size;
  int elementSize;
  bool split = true;
  int64_t rowLength = 0;
  int64_t sliceRows = 0;
};

/// Runs an elementwise kernel over the split buffers (of equal length) across `threads` threads.
/// Each chunk's descriptors keep the base pointer and carry the chunk's start as `offset`, so a
/// kernel knows the global index of every element (per-voxel random numbers depend on it).
///
/// A split buffer with `sliceRows` walks each chunk window by window: blocks of 64 slices, and
/// within a block 16 rows of each slice in turn, so the input one window reads is still in
/// cache when the same rows of the next slice read it (a rotation's rows cross the input's
/// slices; in row order that reuse is a whole slice of output away). Each row is computed the
/// same way whatever the window, so the order never changes the result.
void launchElementwise(med_packed_kernel kernel, const BufferRef *buffers, int count, int threads);

/// Runs one kernel over a batch in a single parallel dispatch. `buffers` holds `count` buffers
/// per sample, sample after sample. Elementwise kernels split each sample into chunks; others
/// run once per sample, whole, with samples spread over the threads. Each sample's values are
/// exactly those of launching it alone.
void launchBatch(med_packed_kernel kernel, const BufferRef *buffers, int count, int samples,
                 int threads, bool elementwise);

/// Runs a kernel once over whole buffers on the calling thread (kernels with reductions).
void launchWhole(med_packed_kernel kernel, const BufferRef *buffers, int count);

} // namespace med::rt
