// med_uk_coarse_dropout_f32 (ukernels.h). The generated code tests every voxel against every
// box (about 4 ns a voxel at 16 boxes, where ATen's eager clone and slice fills take 1); here the
// chunk is copied (or, keeping the boxes, filled) and only the boxes' rows are written, each row
// clipped to the chunk. The fill is the generated code's: `low` as float, or low + (high - low) u
// in f64 with u the voxel's Philox uniform (rt::voxelUniform), rounded to float; one Philox
// block per four voxels.
#include "med/runtime/rng.h"
#include "med/runtime/ukernels.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

namespace {

struct Dropout {
  const float *src;
  float *dst;
  uint64_t first, end; // the chunk's global indices [first, end)
  bool range;
  double low, span;
  std::array<uint32_t, 2> key;
};

// Copies the chunk's part of the global run [a, b) from the input.
void copyRun(const Dropout &d, uint64_t a, uint64_t b) {
  a = std::max(a, d.first);
  b = std::min(b, d.end);
  if (a < b)
    std::memcpy(d.dst + (a - d.first), d.src + (a - d.first), (b - a) * sizeof(float));
}

// Fills the chunk's part of the global run [a, b).
void fillRun(const Dropout &d, uint64_t a, uint64_t b) {
  a = std::max(a, d.first);
  b = std::min(b, d.end);
  if (a >= b)
    return;
  float *out = d.dst + (a - d.first);
  if (!d.range) {
    std::fill(out, out + (b - a), static_cast<float>(d.low));
    return;
  }
  for (uint64_t i = a; i < b;) {
    const uint64_t group = i >> 2;
    const auto w = med::rt::voxelBlock(d.key, group);
    for (; i < b && (i >> 2) == group; ++i)
      *out++ = static_cast<float>(d.low + d.span * med::rt::uniformFromBits(w[i & 3]));
  }
}

} // namespace

extern "C" void med_uk_coarse_dropout_f32(intptr_t in, intptr_t out, int64_t count,
                                          int64_t index_base, double apply, double low, double high,
                                          double key0, double key1, double boxes, int64_t rank,
                                          int64_t nargs, intptr_t args, int64_t flags) {
  const Dropout d{reinterpret_cast<const float *>(in),
                  reinterpret_cast<float *>(out),
                  static_cast<uint64_t>(index_base),
                  static_cast<uint64_t>(index_base) + static_cast<uint64_t>(count),
                  (flags & 2) != 0,
                  low,
                  high - low,
                  {static_cast<uint32_t>(key0), static_cast<uint32_t>(key1)}};
  const bool holes = (flags & 1) != 0;
  if (apply == 0.0 || count == 0 || holes)
    std::memcpy(d.dst, d.src, static_cast<size_t>(count) * sizeof(float));
  else
    fillRun(d, d.first, d.end);
  if (apply == 0.0 || count == 0)
    return;
  const int n = static_cast<int>(rank);
  const auto *a = reinterpret_cast<const double *>(args);
  // The image's spatial extents; a voxel's flat index is ((c S0 + o0) S1 + o1) S2 + o2 in 3-D.
  int64_t size[3] = {1, 1, 1};
  for (int k = 0; k < n; ++k)
    size[3 - n + k] = static_cast<int64_t>(a[k]);
  const int64_t plane = size[0] * size[1] * size[2];
  const auto firstChannel = static_cast<int64_t>(d.first / static_cast<uint64_t>(plane));
  const auto lastChannel = static_cast<int64_t>((d.end - 1) / static_cast<uint64_t>(plane));
  const int64_t held = (nargs - n) / (2 * n); // the op's box slots; the first `boxes` apply
  for (int64_t h = 0; h < held && static_cast<double>(h) < boxes; ++h) {
    // The integers o with start <= o < start + size on each axis, within the image (the
    // generated code's f64 test; NaN bounds hold nothing).
    int64_t lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1};
    bool empty = false;
    for (int k = 0; k < n; ++k) {
      const double start = a[n + (h * n + k) * 2], extent = a[n + (h * n + k) * 2 + 1];
      double from = std::ceil(start), to = std::ceil(start + extent);
      if (from < to) { // else empty, NaN included (std::max and std::min would keep a bound)
        from = std::max(0.0, from);
        to = std::min(static_cast<double>(size[3 - n + k]), to);
      }
      if (!(from < to)) {
        empty = true;
        break;
      }
      lo[3 - n + k] = static_cast<int64_t>(from);
      hi[3 - n + k] = static_cast<int64_t>(to);
    }
    if (empty)
      continue;
    for (int64_t c = firstChannel; c <= lastChannel; ++c)
      for (int64_t z = lo[0]; z < hi[0]; ++z)
        for (int64_t y = lo[1]; y < hi[1]; ++y) {
          const auto row = static_cast<uint64_t>(((c * size[0] + z) * size[1] + y) * size[2]);
          const uint64_t from = row + static_cast<uint64_t>(lo[2]);
          const uint64_t to = row + static_cast<uint64_t>(hi[2]);
          holes ? fillRun(d, from, to) : copyRun(d, from, to);
        }
  }
}
