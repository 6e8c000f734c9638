#include "med/runtime/memory.h"

#include <sys/mman.h>

#include <cstdint>

namespace med::rt {

void preferHugePages(void *data, size_t bytes) {
  constexpr uintptr_t kHuge = uintptr_t(2) << 20;
  if (data == nullptr || bytes < 2 * kHuge)
    return;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes) & ~(kHuge - 1);
  if (end > begin) // a failure (no THP, an old kernel) leaves ordinary pages: nothing to report
    (void)madvise(reinterpret_cast<void *>(begin), end - begin, MADV_HUGEPAGE);
}

} // namespace med::rt
