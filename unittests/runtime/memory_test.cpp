// preferHugePages is a hint: it must never change a buffer's contents, whatever its size or
// alignment, and must accept buffers it cannot advise.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "med/runtime/memory.h"

TEST(PreferHugePages, KeepsContentsOfAdvisedAndSkippedBuffers) {
  // 9 MiB + 13 bytes starting 3 bytes into an allocation: unaligned at both ends.
  const size_t bytes = (size_t(9) << 20) + 13;
  std::vector<uint8_t> block(bytes + 3);
  for (size_t i = 0; i < block.size(); ++i)
    block[i] = static_cast<uint8_t>(i * 131 + 7);
  med::rt::preferHugePages(block.data() + 3, bytes);
  for (size_t i = 0; i < block.size(); ++i)
    ASSERT_EQ(block[i], static_cast<uint8_t>(i * 131 + 7)) << "byte " << i;
  // Too small to hold a 2 MiB-aligned huge page, and no buffer at all: nothing happens.
  std::vector<uint8_t> small(4096, 5);
  med::rt::preferHugePages(small.data(), small.size());
  EXPECT_EQ(small[100], 5);
  med::rt::preferHugePages(nullptr, bytes);
  // Advised memory that has not been written yet still reads as zeros once touched.
  void *fresh = std::calloc(bytes, 1);
  ASSERT_NE(fresh, nullptr);
  med::rt::preferHugePages(fresh, bytes);
  const auto *p = static_cast<const uint8_t *>(fresh);
  for (size_t i = 0; i < bytes; i += 4093)
    ASSERT_EQ(p[i], 0) << "byte " << i;
  std::free(fresh);
}
