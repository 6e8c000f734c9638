// The resample microkernel (runtime/include/med/runtime/ukernels.h) against the generated gather
// it stands in for. A resample alone in its kernel calls the microkernel; the same resample with
// an elementwise op after it keeps the generated gather (the op fuses into its loop). With that op
// an identity (a shift by 0), the two must agree exactly, NaN and Inf included: a schedule never
// changes results. The noise and dropout microkernels likewise against `Schedule::microkernels
// (false)`, which keeps the generated code.
#include "compiled_util.h"
#include "med/compiler/JitSession.h"
#include "med/transforms/compose.h"
#include "med/transforms/intensity.h"
#include "med/transforms/intensity_aug.h"
#include "med/transforms/intensity_random.h"
#include "med/transforms/resample.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include <unistd.h>

namespace {

// Exact equality, NaN equal to NaN; -0 equals +0 (the shift by 0 turns -0 into +0).
void expectIdentical(const at::Tensor &a, const at::Tensor &b, const std::string &what) {
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  const at::Tensor same = at::isclose(a, b, 0.0, 0.0, /*equal_nan=*/true);
  EXPECT_TRUE(same.all().item<bool>())
      << what << ": " << (~same).sum().item<int64_t>() << " of " << a.numel() << " differ";
}

// One kernel holding the resample, and with `shifted` the shift fused into it.
void expectOneKernel(const T::Compose &chain, bool shifted, const std::string &what) {
  std::vector<std::string> ir = chain.compile().ir(at::kFloat);
  ASSERT_EQ(ir.size(), 1u) << what;
  EXPECT_NE(ir[0].find("med.resample"), std::string::npos) << what;
  EXPECT_EQ(ir[0].find("med.shift_intensity") != std::string::npos, shifted) << what;
}

// A smooth image with non-finite values and negative zeros sprinkled in.
med::MetaTensor withSpecials(std::vector<int64_t> shape, uint64_t seed) {
  med::MetaTensor img = smooth(shape, seed);
  at::Tensor flat = img.data.view({-1});
  const int64_t n = flat.numel();
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(), -0.0f};
  for (int64_t k = 0; k < 4; ++k)
    flat[(n * (2 * k + 1)) / 9].fill_(specials[k]);
  return img;
}

TEST(ResampleMicrokernel, EqualsTheGeneratedGatherBitForBit) {
  // Row lengths below and above a 16-voxel block, odd ones, a one-voxel innermost axis (the
  // portable path), channels, and rotations whose rows cross many input slices.
  const std::vector<std::vector<int64_t>> shapes = {
      {1, 13, 11, 9}, {2, 17, 12, 37}, {1, 24, 40, 64}, {1, 6, 5, 1}, {2, 19, 35}, {1, 1, 70}};
  for (const auto &shape : shapes)
    for (const char *padding : {"zeros", "border"})
      for (int variant = 0; variant < 4; ++variant) {
        const size_t dims = shape.size() - 1;
        T::AffineOptions o = T::AffineOptions().padding_mode(padding);
        // Variant 3: an integer shift, every position on the grid: the upper neighbours weigh
        // 0 and must not count (an Inf there would make NaN).
        if (variant == 3) {
          o = o.translate_params(std::vector<double>(dims, 3.0));
        } else if (dims == 3) {
          const double r = variant == 2 ? 0.6 : 0.2;
          o = o.rotate_params({r, -0.5 * r, 0.7 * r});
        } else {
          o = o.rotate_params({variant == 2 ? 0.9 : 0.25});
        }
        if (variant != 3)
          o = o.scale_params(std::vector<double>(dims, variant == 1 ? 0.8 : 1.15))
                  .translate_params(std::vector<double>(dims, variant == 0 ? 0.0 : 2.5));
        const std::string what = std::to_string(dims) + "D " + std::to_string(shape.back()) + " " +
                                 padding + " variant " + std::to_string(variant);
        T::Compose alone({T::Affine(o)});
        T::Compose shifted({T::Affine(o), T::ShiftIntensity(T::ShiftIntensityOptions(0.0))});
        expectOneKernel(alone, false, what);
        expectOneKernel(shifted, true, what);
        const med::MetaTensor img = withSpecials(shape, 11 + variant);
        for (int threads : {1, 2}) {
          auto a = alone.compile(T::Schedule::cpu().threads(threads));
          auto b = shifted.compile(T::Schedule::cpu().threads(threads));
          expectIdentical(a.run(img, {0, 0, 0, 0}).data, b.run(img, {0, 0, 0, 0}).data,
                          what + " threads=" + std::to_string(threads));
        }
      }
}

// The noise microkernel against the generated noise (the same chain with
// Schedule::microkernels(false)): buffer lengths around the 4-voxel groups, the 64-voxel blocks
// and the four-block steps, two threads (chunks that start inside a group), a mean and a
// non-firing call, non-finite inputs.
TEST(GaussianNoiseMicrokernel, EqualsTheGeneratedNoiseBitForBit) {
  for (int64_t length : {1, 3, 5, 63, 64, 67, 130, 255, 257, 1000, 4099, 70001})
    for (double prob : {1.0, 0.0}) {
      T::RandGaussianNoiseOptions o = T::RandGaussianNoiseOptions().mean(0.25).std(0.7).prob(prob);
      T::Compose alone({T::RandGaussianNoise(o)});
      const std::string what = std::to_string(length) + " prob " + std::to_string(prob);
      std::vector<std::string> ir = alone.compile().ir(at::kFloat);
      ASSERT_EQ(ir.size(), 1u) << what;
      EXPECT_EQ(ir[0].find("med.microkernels"), std::string::npos) << what;
      std::vector<std::string> generated =
          alone.compile(T::Schedule::cpu().microkernels(false)).ir(at::kFloat);
      ASSERT_EQ(generated.size(), 1u) << what;
      EXPECT_NE(generated[0].find("med.microkernels = false"), std::string::npos) << what;
      const med::MetaTensor img = withSpecials({1, 1, length}, 3);
      for (int threads : {1, 2})
        for (uint64_t sample : {0, 7}) {
          auto a = alone.compile(T::Schedule::cpu().threads(threads));
          auto b = alone.compile(T::Schedule::cpu().threads(threads).microkernels(false));
          const med::rt::RandomKey key{1, 2, sample, 0};
          expectIdentical(a.run(img, key).data, b.run(img, key).data,
                          what + " threads=" + std::to_string(threads));
        }
    }
}

// The dropout microkernel (the chunk copied or filled, then the boxes' rows) against the generated
// per-voxel box tests: 2-D and 3-D, channels, boxes that reach past the image's ends, chunks on
// two threads, calls that do not fire, and the four fill kinds (a random fill outside the boxes
// stays generated code: both schedules run the same code there).
TEST(CoarseDropoutMicrokernel, EqualsTheGeneratedDropoutBitForBit) {
  const std::vector<std::vector<int64_t>> shapes = {{2, 13, 11, 9}, {1, 40, 37}, {3, 7, 30}};
  for (const auto &shape : shapes)
    for (bool holes : {true, false})
      for (bool range : {true, false}) {
        const std::string what = std::to_string(shape.size() - 1) + "-D holes " +
                                 std::to_string(holes) + " range " + std::to_string(range);
        T::RandCoarseDropoutOptions o = T::RandCoarseDropoutOptions(3, {4})
                                            .max_holes(9)
                                            .max_spatial_size(std::vector<int64_t>{9})
                                            .dropout_holes(holes);
        o.fill_value(range ? T::FillValue(-2.0, 5.0) : T::FillValue(0.25)).prob(0.7);
        T::Compose alone({T::RandCoarseDropout(o)});
        ASSERT_EQ(alone.compile().ir(at::kFloat).size(), 1u) << what;
        const med::MetaTensor img = withSpecials(shape, 11);
        for (int threads : {1, 2})
          for (uint64_t sample = 0; sample < 6; ++sample) {
            auto a = alone.compile(T::Schedule::cpu().threads(threads));
            auto b = alone.compile(T::Schedule::cpu().threads(threads).microkernels(false));
            const med::rt::RandomKey key{4, 0, sample, 0};
            expectIdentical(a.run(img, key).data, b.run(img, key).data,
                            what + " threads=" + std::to_string(threads) + " sample " +
                                std::to_string(sample));
          }
      }
}

// A kernel loaded from the disk cache calls the microkernel too: the loader JIT binds its symbol
// for loaded kernels as for compiled ones (executables do not export the runtime's symbols).
TEST(ResampleMicrokernel, KernelsFromTheDiskCacheCallIt) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("med-ukernel-cache-" + std::to_string(getpid()));
  fs::remove_all(dir);
  const char *before = std::getenv("MEDULLA_CACHE_DIR");
  const std::string saved = before ? before : "";
  setenv("MEDULLA_CACHE_DIR", dir.c_str(), 1);
  auto &jit = med::compiler::JitSession::global();
  jit.clear();
  const med::MetaTensor img = withSpecials({1, 20, 24, 33}, 5);
  T::Compose chain({T::Affine(rotScale())});
  const at::Tensor cold = chain.compile().run(img, {0, 0, 0, 0}).data;
  const int64_t hits = jit.stats().diskHits;
  jit.clear();
  const at::Tensor warm = chain.compile().run(img, {0, 0, 0, 0}).data;
  EXPECT_GT(jit.stats().diskHits, hits);
  expectIdentical(cold, warm, "disk hit");
  jit.clear();
  if (before)
    setenv("MEDULLA_CACHE_DIR", saved.c_str(), 1);
  else
    unsetenv("MEDULLA_CACHE_DIR");
  fs::remove_all(dir);
}

} // namespace
