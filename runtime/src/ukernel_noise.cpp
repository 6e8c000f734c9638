// med_uk_gaussian_noise_f32 (ukernels.h): the portable build and the dispatch. Where the CPU has
// AVX-512 the whole 16-group blocks go to ukernel_noise_avx512.cpp; the voxels before the first
// group boundary, after the last whole block, and every voxel elsewhere, one at a time here.
#include "med/runtime/ukernels.h"

#include "ukernel_cpu.h"
#include "ukernel_noise.h"

#include <algorithm>

extern "C" void med_uk_gaussian_noise_f32(intptr_t in, intptr_t out, int64_t count,
                                          int64_t index_base, double apply, double mean, double std,
                                          double key0, double key1) {
  using namespace med::ukernel;
  const Noise p{apply != 0.0,
                static_cast<float>(mean),
                static_cast<float>(std),
                {static_cast<uint32_t>(key0), static_cast<uint32_t>(key1)}};
  const auto *src = reinterpret_cast<const float *>(in);
  auto *dst = reinterpret_cast<float *>(out);
  const auto base = static_cast<uint64_t>(index_base);
  auto one = [&](int64_t i) {
    dst[i] = noisy(p, src[i], voxelNormal(p, base + static_cast<uint64_t>(i)));
  };
  int64_t i = 0;
  if (hasAvx512()) {
    const int64_t head = std::min<int64_t>(static_cast<int64_t>((4 - base % 4) % 4), count);
    for (; i < head; ++i)
      one(i);
    const int64_t blocks = (count - head) / 64 * 64;
    gaussianNoiseAvx512(p, src + head, dst + head, blocks, base + static_cast<uint64_t>(head));
    i = head + blocks;
  }
  for (; i < count; ++i)
    one(i);
}
