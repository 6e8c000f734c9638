// med_uk_resample_linear_f32 (ukernels.h): the portable build and the dispatch. The AVX-512
// build (ukernel_resample_avx512.cpp) takes a window where the CPU has AVX-512 and the pair reads
// are possible (the innermost input axis at least 2 wide, rows of at least one 16-voxel block);
// otherwise every voxel goes through the general formula here.
#include "med/runtime/ukernels.h"

#include "ukernel_cpu.h"
#include "ukernel_resample.h"

extern "C" void med_uk_resample_linear_f32(intptr_t in, intptr_t out, int64_t out_row_stride,
                                           int64_t window_offset, int64_t rows, int64_t rank,
                                           int64_t padding, intptr_t args) {
  using namespace med::ukernel;
  const Geometry g = geometryOf(static_cast<int>(rank), padding == 1,
                                reinterpret_cast<const double *>(args), window_offset);
  const auto *src = reinterpret_cast<const float *>(in);
  auto *dst = reinterpret_cast<float *>(out);
  if (hasAvx512() && g.cornerOffset[1] == 1 && g.rowLength >= 16) {
    resampleLinearAvx512(g, src, dst, out_row_stride, rows);
    return;
  }
  for (int64_t i = 0; i < rows; ++i) {
    const Row r = rowOf(g, i);
    for (int64_t x = 0; x < g.rowLength; ++x)
      dst[i * out_row_stride + x] = general(g, r, src, x);
  }
}
