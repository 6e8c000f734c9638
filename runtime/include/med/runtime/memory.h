// Hints about how fresh output buffers are backed by pages.
#pragma once

#include <cstddef>

namespace med::rt {

/// Asks the kernel to back the 2 MiB-aligned interior of [data, data + bytes) with transparent
/// huge pages before anything is written there. A kernel writing a fresh multi-megabyte output
/// otherwise pays one page fault (and one page clearing) per 4 KiB on first touch, which costs
/// as much as the kernel itself for a simple map; with huge pages it is one fault per 2 MiB.
/// Only a hint: does nothing for buffers under 4 MiB, where THP is off ("never"), or where the
/// call fails. Never changes the contents.
///
///   at::Tensor out = at::empty_like(x);
///   med::rt::preferHugePages(out.data_ptr(), out.nbytes());
void preferHugePages(void *data, size_t bytes);

} // namespace med::rt
