// The Gaussian noise kernel against rt::voxelNormal (the host's f64 definition), on buffers and
// sub-ranges whose global start is not a multiple of four: the grouped form then computes a head
// and a tail voxel by voxel, and every voxel must still get its own group's value.
#include "jit_util.h"
#include "med/runtime/kernel_abi.h"
#include "med/runtime/rng.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace {

using med::frontend::ChainSpec;
using med::frontend::OpSpec;
using med::rt::DType;

// x + mean + std * n(i) with (apply, mean, std, key0, key1) from the parameter buffer.
std::shared_ptr<const med::compiler::Kernel> noiseKernel(DType type) {
  return compile(ChainSpec{type,
                           {OpSpec{"gaussian_noise",
                                   {},
                                   {},
                                   type,
                                   "RandGaussianNoise",
                                   {0, 1, 2, 3, 4, OpSpec::kIndexBase}}},
                           /*numParams=*/5});
}

// Runs the kernel on elements [begin, end) of in/out: descriptors with that offset, as the
// launcher passes a chunk.
template <class T>
void runRange(const med::compiler::Kernel &k, std::vector<T> &in, std::vector<T> &out,
              std::vector<double> &params, int64_t begin, int64_t end) {
  med_memref1d descs[3] = {{in.data(), in.data(), begin, end - begin, 1},
                           {out.data(), out.data(), begin, end - begin, 1},
                           {params.data(), params.data(), 0, (int64_t)params.size(), 1}};
  void *ptrs[3] = {&descs[0], &descs[1], &descs[2]};
  void *args[3] = {&ptrs[0], &ptrs[1], &ptrs[2]};
  k.entry(args);
}

template <class T> void checkNoise(DType type, double atol) {
  auto k = noiseKernel(type);
  ASSERT_TRUE(k);
  const std::array<uint32_t, 2> key{0x12345678u, 0x9abcdef0u};
  std::vector<double> params{1.0, 0.5, 2.0, double(key[0]), double(key[1])};
  const int64_t n = 203;
  std::vector<T> in(n);
  for (int64_t i = 0; i < n; ++i)
    in[i] = T(0.01 * double(i));
  auto expected = [&](int64_t i) {
    return 0.01 * double(i) + 0.5 + 2.0 * med::rt::voxelNormal(key, i);
  };
  // The whole buffer (groups and a tail of three), then ranges starting 1, 2 and 3 past a
  // multiple of four (a head of 3, 2, 1), some shorter than a group.
  const std::vector<std::pair<int64_t, int64_t>> ranges = {{0, n},  {1, 150}, {6, 7},  {7, 203},
                                                           {9, 11}, {13, 17}, {21, 22}};
  for (auto [begin, end] : ranges) {
    std::vector<T> out(n, T(-999));
    runRange(*k, in, out, params, begin, end);
    for (int64_t i = 0; i < n; ++i) {
      if (i < begin || i >= end) {
        ASSERT_EQ(out[i], T(-999)) << "wrote outside [" << begin << ", " << end << ") at " << i;
        continue;
      }
      ASSERT_NEAR(double(out[i]), expected(i), atol)
          << "range [" << begin << ", " << end << ") voxel " << i;
    }
  }
  // Not applied: the input, unchanged.
  params[0] = 0.0;
  std::vector<T> out(n);
  runRange(*k, in, out, params, 0, n);
  EXPECT_EQ(out, in);
}

TEST(NoiseKernel, Float32MatchesTheHostDefinitionOnAnyRange) {
  checkNoise<float>(DType::Float32, 2e-4);
}

TEST(NoiseKernel, Float64MatchesTheHostDefinitionOnAnyRange) {
  checkNoise<double>(DType::Float64, 1e-9);
}

TEST(NoiseKernel, HostNormalsHaveUnitMomentsAndPairsAreUncorrelated) {
  // The four voxels of a group share one Philox block; their values must still look like
  // independent standard normals: mean 0, variance 1, no correlation between neighbours.
  const std::array<uint32_t, 2> key{7u, 11u};
  const int64_t n = 1 << 18;
  double sum = 0, sq = 0, cross[3] = {0, 0, 0};
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) {
    v[i] = med::rt::voxelNormal(key, i);
    sum += v[i];
    sq += v[i] * v[i];
  }
  for (int64_t i = 0; i + 3 < n; i += 4)
    for (int d = 1; d <= 3; ++d)
      cross[d - 1] += v[i] * v[i + d];
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sq / n, 1.0, 0.01);
  for (double c : cross)
    EXPECT_NEAR(c / (n / 4), 0.0, 0.02) << "voxels of one group are correlated";
}

} // namespace
