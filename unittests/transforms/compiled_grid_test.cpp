// Spacing, SpatialResample and Resize compiled to med.resample (a map from the image's grid onto
// a new one, planned on the host at each call) against their eager references: grid_sample in
// float64 for the first two, interpolate in float32 for Resize.
#include "compiled_util.h"
#include "med/transforms/compose.h"
#include "med/transforms/intensity.h"
#include "med/transforms/inverse.h"
#include "med/transforms/resample.h"
#include "med/transforms/resample_random.h"

#include <cmath>
#include <limits>
#include <optional>
#include <set>

namespace {

// The eager path stays on the host whatever the mode; the compiled one must not: a Compose of
// the transform alone traces one med.resample kernel.
void expectOneResampleKernel(const T::Compose &chain, at::ScalarType dtype,
                             const std::string &what) {
  std::vector<std::string> ir = chain.compile().ir(dtype);
  ASSERT_EQ(ir.size(), 1u) << what;
  EXPECT_NE(ir[0].find("med.resample"), std::string::npos) << what;
}

// The compiled result's records alone bring it back to the input's shape with the affine that
// eager's records give; returns the inverted compiled result.
med::MetaTensor expectInvertsAsEager(const T::Compose &chain, const med::MetaTensor &img,
                                     const std::string &what) {
  med::MetaTensor back = T::inverse(chain.compile().run(img, {0, 0, 0, 0}));
  med::MetaTensor backRef = T::inverse(chain.eager(img, {0, 0, 0, 0}));
  EXPECT_EQ(back.data.sizes(), img.data.sizes()) << what;
  EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, backRef.meta.affine), 1e-9) << what;
  return back;
}

TEST(CompiledGrid, SpacingMatchesEagerFloat64Resampling) {
  // Oblique affines (volume()), anisotropic and isotropic spacings, the three paddings (with
  // align_corners too: reflection then mirrors at the outer voxel centres), channels.
  for (auto shape : {std::vector<int64_t>{1, 13, 11, 9}, std::vector<int64_t>{2, 10, 12, 7},
                     std::vector<int64_t>{2, 17, 12}})
    for (const char *padding : {"border", "zeros", "reflection"})
      for (std::vector<double> pix :
           {std::vector<double>{1.5}, std::vector<double>{0.8, 1.1, 1.7}}) {
        const std::string what =
            std::to_string(shape.size() - 1) + "D " + padding + " pixdim " + std::to_string(pix[0]);
        T::Compose chain({T::Spacing(T::SpacingOptions(pix).padding_mode(padding))});
        expectOneResampleKernel(chain, at::kFloat, what);
        // The kernel interpolates float32 images in float32 (eager: float64, rounded once).
        expectCompiledEqualsEager(chain, smooth(shape, 11), {0, 0, 0, 0}, 1e-5, what);
        for (bool align : {false, true}) {
          T::Compose aligned({T::Spacing(
              T::SpacingOptions(pix).padding_mode(padding).align_corners(align).diagonal(true))});
          expectOneResampleKernel(aligned, at::kFloat, what + " diagonal");
          expectCompiledEqualsEager(aligned, smooth(shape, 12), {0, 0, 0, 0}, 1e-5,
                                    what + " diagonal" + (align ? " align_corners" : ""));
        }
      }
}

// One-voxel axes, in and out: the plan samples them where grid_sample through to_norm_affine
// does (rs::sampleSingletonAxesAsEager, rs::centreSingletonOutputs). pixdim 9 makes axis 0 of
// the second shape one voxel wide; the oblique affine (volume()) moves the positions along a
// one-voxel input axis off 0.
TEST(CompiledGrid, SpacingOnOneVoxelAxes) {
  for (auto shape : {std::vector<int64_t>{1, 1, 6, 5}, std::vector<int64_t>{2, 4, 1, 3}})
    for (const char *padding : {"border", "zeros"})
      for (bool align : {false, true})
        for (bool oblique : {false, true})
          for (std::vector<double> pix :
               {std::vector<double>{0.7, 1.3, 0.9}, std::vector<double>{9.0, 0.8, 1.1}}) {
            const std::string what = std::to_string(shape[1]) + "x" + std::to_string(shape[2]) +
                                     "x" + std::to_string(shape[3]) + " " + padding +
                                     (align ? " align_corners" : "") + (oblique ? " oblique" : "") +
                                     " pixdim " + std::to_string(pix[0]);
            T::Compose chain(
                {T::Spacing(T::SpacingOptions(pix).padding_mode(padding).align_corners(align))});
            med::MetaTensor img = smooth(shape, 22);
            if (!oblique)
              img.meta.affine = {1.2, 0, 0, -3, 0, 0.9, 0, 2, 0, 0, 1.5, 1, 0, 0, 0, 1};
            expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 1e-5, what);
          }
}

TEST(CompiledGrid, SpacingKeepsFloat64AndCastsOtherTypesToFloat32) {
  med::MetaTensor img = smooth({1, 9, 8, 7}, 13);
  img.data = img.data.to(at::kDouble);
  T::Compose chain({T::Spacing(T::SpacingOptions({1.3, 0.7, 1.9}))});
  expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 1e-12, "float64");
  EXPECT_EQ(chain.compile().run(img, {0, 0, 0, 0}).data.scalar_type(), at::kDouble);
  // Integer images: float32 out.
  med::MetaTensor labels = volume({1, 9, 8, 7});
  labels.data = at::randint(0, 4, {1, 9, 8, 7}, at::kShort);
  T::Compose linear({T::Spacing(T::SpacingOptions({1.37, 0.61, 1.93}))});
  expectOneResampleKernel(linear, at::kShort, "int16");
  expectCompiledEqualsEager(linear, labels, {0, 0, 0, 0}, 1e-5, "int16");
  EXPECT_EQ(linear.compile().run(labels, {0, 0, 0, 0}).data.scalar_type(), at::kFloat);
  // Nearest runs eagerly inside compiled pipelines (MONAI's tie-breaking): exactly eager.
  T::Compose nearest({T::Spacing(T::SpacingOptions({1.37, 0.61, 1.93}).mode("nearest"))});
  EXPECT_TRUE(nearest.compile().ir(at::kShort).empty());
  expectCompiledEqualsEager(nearest, labels, {0, 0, 0, 0}, 0.0, "int16 nearest");
}

TEST(CompiledGrid, SpacingThatChangesNothingReturnsTheImageExactly) {
  // The image's own spacing: MONAI returns it as it is, NaN and Inf included, with an identity
  // record; the kernel's identity map reads each voxel once.
  med::MetaTensor img = volume({1, 6, 5, 4});
  img.meta.affine = {1.5, 0, 0, 3, 0, 1.5, 0, -2, 0, 0, 1.5, 1, 0, 0, 0, 1};
  img.data = img.data.to(at::kDouble) / 7.0;
  img.data.data_ptr<double>()[2 * 5 * 4 + 3 * 4 + 1] = std::numeric_limits<double>::quiet_NaN();
  img.data.data_ptr<double>()[4 * 5 * 4 + 1 * 4 + 2] = std::numeric_limits<double>::infinity();
  T::Compose chain({T::Spacing(T::SpacingOptions({1.5}))});
  const med::MetaTensor ref = chain.eager(img, {0, 0, 0, 0});
  for (int threads : {1, 2}) {
    med::MetaTensor out = chain.compile(T::Schedule::cpu().threads(threads)).run(img, {0, 0, 0, 0});
    ASSERT_EQ(out.data.scalar_type(), at::kDouble);
    EXPECT_TRUE(at::equal(at::nan_to_num(out.data, 0.5), at::nan_to_num(img.data, 0.5)));
    EXPECT_TRUE(at::equal(at::isnan(out.data), at::isnan(img.data)));
    // Metadata and record as eager writes them (data compared above, NaN aside).
    med::MetaTensor a = out, b = ref;
    a.data = at::nan_to_num(out.data, 0.5), b.data = at::nan_to_num(ref.data, 0.5);
    expectClose(a, b, 0.0, "unchanged threads=" + std::to_string(threads));
  }
}

TEST(CompiledGrid, SpacingFusesWithIntensityOpsAndInverts) {
  med::MetaTensor img = smooth({1, 12, 10, 8}, 14);
  img.data = img.data * 2000.0 - 1000.0;
  T::Compose chain(
      {T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(-1000, 1000, 0, 1).clip(true)),
       T::Spacing(T::SpacingOptions({1.4, 0.9, 2.0})),
       T::ShiftIntensity(T::ShiftIntensityOptions(0.25))});
  // ScaleIntensityRange alone (a trilinear gather would evaluate it at 8 corners), then the
  // resample with the shift as its epilogue.
  std::vector<std::string> ir = chain.compile().ir(at::kFloat);
  ASSERT_EQ(ir.size(), 2u);
  EXPECT_NE(ir[1].find("med.shift_intensity"), std::string::npos) << ir[1];
  expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 1e-5, "fused chain");
  // The compiled output carries the record that undoes it: back on the input's grid.
  med::MetaTensor out = chain.compile().run(img, {0, 0, 0, 0});
  T::Compose spacing({T::Spacing(T::SpacingOptions({1.4, 0.9, 2.0}))});
  med::MetaTensor back = T::inverse(spacing.compile().run(img, {0, 0, 0, 0}));
  EXPECT_EQ(back.data.sizes(), img.data.sizes());
  EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, img.meta.affine), 1e-9);
  EXPECT_EQ(out.meta.applied_operations.size(), 1u);
}

TEST(CompiledGrid, SpatialResampleMatchesEager) {
  med::MetaTensor img = smooth({2, 11, 9, 8}, 15);
  const std::vector<double> dst = {1.1, 0.2,  0.0, -19, -0.2, 1.0, 0.1, 14,
                                   0.0, -0.1, 2.2, 6,   0,    0,   0,   1};
  // The target grid reaches past the input on several sides, so reflection mirrors positions.
  for (const char *padding : {"zeros", "border", "reflection"}) {
    const std::string what = padding;
    T::SpatialResampleOptions o = T::SpatialResampleOptions().dst_affine(dst).padding_mode(padding);
    T::Compose covering({T::SpatialResample(o)});
    expectOneResampleKernel(covering, at::kFloat, what);
    expectCompiledEqualsEager(covering, img, {0, 0, 0, 0}, 1e-5, what + " covering size");
    T::Compose sized({T::SpatialResample(o.spatial_size(std::vector<int64_t>{7, 13, 5}))});
    expectCompiledEqualsEager(sized, img, {0, 0, 0, 0}, 1e-5, what + " 7x13x5");
  }
  // No target affine and the input's size: unchanged, exactly.
  T::Compose same({T::SpatialResample()});
  expectCompiledEqualsEager(same, img, {0, 0, 0, 0}, 0.0, "unchanged");
}

// Rows that cross many input slices run in slice-blocked windows (planCall's sliceRows): here
// each output row of 72 voxels steps 0.39 input slices per voxel (rotation about axis 1),
// about 28 slices in all, well over the threshold of 16. The order of the windows must not
// change a value, alone, batched, or on two threads with chunks that cut through slices.
TEST(CompiledGrid, RowsCrossingManySlicesMatchEager) {
  med::MetaTensor img = smooth({2, 37, 11, 72}, 21);
  for (const char *mode : {"bilinear", "nearest"}) {
    T::Compose chain({T::Affine(T::AffineOptions()
                                    .rotate_params({0.05, 0.4, -0.1})
                                    .scale_params({1.02, 0.97, 1.0})
                                    .mode(mode)
                                    .padding_mode("zeros"))});
    expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 1e-5, mode);
    auto pipeline = chain.compile(T::Schedule::cpu().threads(2));
    med::MetaTensor other = smooth({2, 37, 11, 72}, 22);
    std::vector<med::MetaTensor> batch =
        pipeline.runBatch({img, other}, {{0, 0, 0, 0}, {0, 0, 1, 0}});
    expectClose(batch[0], chain.eager(img, {0, 0, 0, 0}), 1e-5, std::string(mode) + " batch 0");
    expectClose(batch[1], chain.eager(other, {0, 0, 1, 0}), 1e-5, std::string(mode) + " batch 1");
  }
}

TEST(CompiledGrid, ResizeLinearMatchesInterpolate) {
  // Down and up per axis, a kept axis (-1), size_mode longest, align_corners unset/false/true.
  for (auto size : {std::vector<int64_t>{7, 16, 5}, std::vector<int64_t>{20, -1, 3},
                    std::vector<int64_t>{1, 9, 13}})
    for (std::optional<bool> align :
         {std::optional<bool>{}, std::optional<bool>{false}, std::optional<bool>{true}}) {
      const std::string what = "3D " + std::to_string(size[0]) + "x" + std::to_string(size[1]) +
                               "x" + std::to_string(size[2]) +
                               (align ? (*align ? " align" : " no align") : "");
      T::Compose chain({T::Resize(T::ResizeOptions(size).mode("trilinear").align_corners(align))});
      expectOneResampleKernel(chain, at::kFloat, what);
      expectCompiledEqualsEager(chain, smooth({2, 11, 9, 8}, 16), {0, 0, 0, 0}, 1e-5, what);
    }
  T::Compose longest({T::Resize(T::ResizeOptions({17}).size_mode("longest").mode("trilinear"))});
  expectCompiledEqualsEager(longest, smooth({1, 11, 9, 8}, 17), {0, 0, 0, 0}, 1e-5, "longest");
  T::Compose plane({T::Resize(T::ResizeOptions({6, 23}).mode("bilinear"))});
  expectCompiledEqualsEager(plane, smooth({2, 13, 10}, 18), {0, 0, 0, 0}, 1e-5, "2D");
}

TEST(CompiledGrid, ResizeKeepsTheTypeAndLeavesOtherModesEager) {
  // int16: interpolated in float32, cast back by truncation as torch does (a value within
  // rounding of an integer may land on either side).
  med::MetaTensor labels = volume({1, 9, 8, 7});
  labels.data = at::randint(-50, 50, {1, 9, 8, 7}, at::kShort);
  T::Compose linear({T::Resize(T::ResizeOptions({5, 11, 7}).mode("trilinear"))});
  expectCompiledEqualsEager(linear, labels, {0, 0, 0, 0}, 1.0, "int16");
  EXPECT_EQ(linear.compile().run(labels, {0, 0, 0, 0}).data.scalar_type(), at::kShort);
  std::vector<std::string> ir = linear.compile().ir(at::kShort);
  ASSERT_EQ(ir.size(), 1u);
  EXPECT_NE(ir[0].find("med.cast"), std::string::npos) << ir[0];
  // float64: interpolated in float64 (eager: in float32, then back to float64).
  med::MetaTensor wide = smooth({1, 9, 8, 7}, 21);
  wide.data = wide.data.to(at::kDouble);
  expectCompiledEqualsEager(linear, wide, {0, 0, 0, 0}, 1e-6, "float64");
  EXPECT_EQ(linear.compile().run(wide, {0, 0, 0, 0}).data.scalar_type(), at::kDouble);
  // The same size: the image as it is.
  T::Compose same({T::Resize(T::ResizeOptions({9, 8, 7}).mode("trilinear"))});
  expectCompiledEqualsEager(same, labels, {0, 0, 0, 0}, 0.0, "same size");
  // Anti-aliasing stays eager; a linear mode of the wrong rank fails as eager does.
  for (T::ResizeOptions o : {T::ResizeOptions({5, 11, 7}).mode("nearest").anti_aliasing(true),
                             T::ResizeOptions({5, 11, 7}).mode("trilinear").anti_aliasing(true)}) {
    T::Compose chain({T::Resize(o)});
    EXPECT_TRUE(chain.compile().ir(at::kFloat).empty()) << o.mode();
    expectCompiledEqualsEager(chain, smooth({1, 9, 8, 7}, 19), {0, 0, 0, 0}, 0.0, o.mode());
  }
  T::Compose wrong({T::Resize(T::ResizeOptions({5, 11}).mode("trilinear"))});
  expectError([&] { wrong.compile().run(smooth({1, 9, 8}, 20), {0, 0, 0, 0}); }, {"Resize.mode"});
}

// interpolate's nearest modes index the source at floorf(o * s) or floorf((o + 0.5) * s), s the
// float32 in / out: the kernel reads the same voxel, so results are equal to the bit. Sizes
// whose ratio rounds up or down in float32 (3/7, 5/11, 7/13, ...), halving and doubling, 2-D
// and 3-D, and label types that go through float32 as eager does.
TEST(CompiledGrid, ResizeAndZoomNearestMatchInterpolateExactly) {
  med::MetaTensor img = smooth({2, 13, 11, 7}, 26);
  med::MetaTensor labels = volume({1, 13, 11, 7});
  labels.data = at::randint(0, 6, {1, 13, 11, 7}, at::kByte);
  med::MetaTensor wide = smooth({1, 13, 11, 7}, 27);
  wide.data = wide.data.to(at::kDouble) * 1000.0 + 1e-9; // float32 rounds it, as eager does
  for (const char *mode : {"nearest", "nearest-exact"})
    for (auto size : {std::vector<int64_t>{3, 5, 17}, std::vector<int64_t>{26, 22, 14},
                      std::vector<int64_t>{6, 29, 31}, std::vector<int64_t>{13, 4, 7}}) {
      const std::string what = std::string(mode) + " " + std::to_string(size[0]) + "x" +
                               std::to_string(size[1]) + "x" + std::to_string(size[2]);
      T::Compose chain({T::Resize(T::ResizeOptions(size).mode(mode))});
      expectOneResampleKernel(chain, at::kFloat, what);
      expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 0.0, what);
      expectCompiledEqualsEager(chain, labels, {0, 0, 0, 0}, 0.0, what + " uint8");
      expectCompiledEqualsEager(chain, wide, {0, 0, 0, 0}, 0.0, what + " float64");
      EXPECT_EQ(chain.compile().run(labels, {0, 0, 0, 0}).data.scalar_type(), at::kByte);
    }
  for (const char *mode : {"nearest", "nearest-exact"}) {
    T::Compose plane({T::Resize(T::ResizeOptions({7, 23}).mode(mode))});
    expectCompiledEqualsEager(plane, smooth({2, 19, 10}, 28), {0, 0, 0, 0}, 0.0,
                              std::string(mode) + " 2D");
    // Zoom: the zoomed grid, and keep_size's centred crop of it; the records invert.
    for (const auto &z : {std::vector<double>{0.45, 1.7, 1.0}, std::vector<double>{1.3, 2.0, 1.15}})
      for (bool keep : {false, true}) {
        if (keep && z[0] < 1.0)
          continue;
        const std::string what =
            std::string(mode) + " zoom " + std::to_string(z[0]) + (keep ? " keep_size" : "");
        T::Compose zoom({T::Zoom(T::ZoomOptions(z).mode(mode).keep_size(keep))});
        expectOneResampleKernel(zoom, at::kFloat, what);
        expectCompiledEqualsEager(zoom, img, {0, 0, 0, 0}, 0.0, what);
        expectCompiledEqualsEager(zoom, labels, {0, 0, 0, 0}, 0.0, what + " uint8");
        med::MetaTensor back = T::inverse(zoom.compile().run(img, {0, 0, 0, 0}));
        EXPECT_EQ(back.data.sizes(), img.data.sizes()) << what;
        EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, img.meta.affine), 1e-9) << what;
      }
  }
}

// keep_size with a factor < 1: the zoomed image is padded back with its edge values (MONAI's
// default padding_mode) or zeros ("constant"), which the compiled form does by clamping the
// output index into the zoomed box (a bounded resample), zeroing outside it for "constant".
// Mixed axes pad and crop at once; odd and even pads.
TEST(CompiledGrid, ZoomOutWithKeepSizePadsAsEager) {
  med::MetaTensor img = smooth({2, 13, 11, 8}, 29);
  med::MetaTensor labels = volume({1, 13, 11, 8});
  labels.data = at::randint(0, 6, {1, 13, 11, 8}, at::kByte);
  for (const auto &z : {std::vector<double>{0.5, 0.8, 0.7}, std::vector<double>{0.6, 1.3, 0.9},
                        std::vector<double>{0.3, 1.0, 1.6}})
    for (const char *mode : {"trilinear", "nearest", "nearest-exact"})
      for (const char *pad : {"edge", "constant"}) {
        const std::string what = std::string(mode) + " " + pad + " " + std::to_string(z[0]) + "," +
                                 std::to_string(z[1]) + "," + std::to_string(z[2]);
        T::Compose zoom({T::Zoom(T::ZoomOptions(z).mode(mode).padding_mode(pad))}); // keep_size
        expectOneResampleKernel(zoom, at::kFloat, what);
        const bool nearest = std::string(mode) != "trilinear";
        expectCompiledEqualsEager(zoom, img, {0, 0, 0, 0}, nearest ? 0.0 : 1e-5, what);
        if (nearest)
          expectCompiledEqualsEager(zoom, labels, {0, 0, 0, 0}, 0.0, what + " uint8");
        // The records alone undo the pad and the zoom, as eager's do.
        expectInvertsAsEager(zoom, img, what);
      }
  T::Compose plane({T::Zoom(T::ZoomOptions({0.55}).mode("bilinear"))});
  expectCompiledEqualsEager(plane, smooth({2, 13, 10}, 30), {0, 0, 0, 0}, 1e-5, "2D");
  // Fused with intensity ops on both sides.
  T::Compose chain({T::ScaleIntensity(T::ScaleIntensityOptions()),
                    T::Zoom(T::ZoomOptions({0.7}).mode("trilinear")),
                    T::ShiftIntensity(T::ShiftIntensityOptions(0.25))});
  expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 1e-5, "fused");
}

// RandZoom (prob 1) compiles as Zoom with the drawn factors: draws that zoom in (crop) and out
// (pad back) share one bounded kernel; keep_size false changes the shape per call; area, its
// default mode, too. prob < 1 (a call that does not fire returns float32, one that fires the
// input's type) stays eager.
TEST(CompiledGrid, RandZoomMatchesEagerAcrossDraws) {
  med::MetaTensor img = smooth({1, 12, 11, 9}, 31);
  med::MetaTensor labels = volume({1, 12, 11, 9});
  labels.data = at::randint(0, 6, {1, 12, 11, 9}, at::kByte);
  for (const char *mode : {"trilinear", "nearest"})
    for (bool keep : {true, false}) {
      T::Compose chain({T::RandZoom(T::RandZoomOptions()
                                        .prob(1.0)
                                        .min_zoom({0.6, 0.8})
                                        .max_zoom({1.4, 1.3})
                                        .mode(mode)
                                        .keep_size(keep))});
      EXPECT_FALSE(chain.compile().ir(at::kFloat).empty()) << mode;
      const bool nearest = std::string(mode) == "nearest";
      std::vector<med::rt::RandomKey> keys;
      for (uint64_t sample = 0; sample < 6; ++sample) {
        const std::string what =
            std::string(mode) + (keep ? " keep_size" : "") + " sample " + std::to_string(sample);
        expectCompiledEqualsEager(chain, img, {3, 0, sample, 0}, nearest ? 0.0 : 1e-5, what);
        if (nearest)
          expectCompiledEqualsEager(chain, labels, {3, 0, sample, 0}, 0.0, what + " uint8");
        keys.push_back({3, 0, sample, 0});
      }
      // One batch of the six draws (shapes differ per sample without keep_size) equals the
      // calls one by one.
      std::vector<med::MetaTensor> batch =
          chain.compile(T::Schedule::cpu().threads(2))
              .runBatch(std::vector<med::MetaTensor>(6, img), keys);
      std::set<std::vector<int64_t>> shapes;
      for (size_t s = 0; s < keys.size(); ++s) {
        med::MetaTensor one = chain.compile().run(img, keys[s]);
        EXPECT_TRUE(at::equal(one.data, batch[s].data)) << mode << " batched sample " << s;
        shapes.insert(std::vector<int64_t>(one.data.sizes().begin(), one.data.sizes().end()));
      }
      EXPECT_EQ(shapes.size() > 1, !keep) << mode;
    }
  T::Compose zeros({T::RandZoom(T::RandZoomOptions()
                                    .prob(1.0)
                                    .min_zoom({0.6})
                                    .max_zoom({1.3})
                                    .mode("trilinear")
                                    .padding_mode("constant"))});
  for (uint64_t sample = 0; sample < 4; ++sample)
    expectCompiledEqualsEager(zeros, img, {3, 0, sample, 0}, 1e-5,
                              "constant sample " + std::to_string(sample));
  T::Compose area({T::RandZoom(T::RandZoomOptions().prob(1.0))}); // area, its default
  EXPECT_FALSE(area.compile().ir(at::kFloat).empty());
  for (uint64_t sample = 0; sample < 4; ++sample)
    expectCompiledEqualsEager(area, img, {3, 0, sample, 0}, 1e-5,
                              "area sample " + std::to_string(sample));
  T::Compose sometimes({T::RandZoom(T::RandZoomOptions().prob(0.5).mode("trilinear"))});
  EXPECT_TRUE(sometimes.compile().ir(at::kFloat).empty());
  for (uint64_t sample = 0; sample < 4; ++sample)
    expectCompiledEqualsEager(sometimes, labels, {3, 0, sample, 0}, 0.0, "prob 0.5");
}

// Area, Resize's and Zoom's default mode: interpolate averages the input box each output voxel
// covers (adaptive average pooling; start floor(o * in / out), end ceil((o + 1) * in / out)).
// Ratios that are not integers (13 -> 5, 11 -> 4), integer ones (13 -> 26: every box one or two
// voxels; 12 -> 6: two), mixed axes, 2-D, channels; integer images average in float32 and truncate
// back (a mean within rounding of an integer may land on either side), float64 goes through
// float32 as eager does. Zoom: the zoomed grid, keep_size's crop and its pad back (edge and
// constant), the records invert; RandZoom is in RandZoomMatchesEagerAcrossDraws.
TEST(CompiledGrid, ResizeAndZoomAreaMatchInterpolate) {
  med::MetaTensor img = smooth({2, 13, 11, 7}, 32);
  med::MetaTensor labels = volume({1, 13, 11, 7});
  labels.data = at::randint(0, 200, {1, 13, 11, 7}, at::kByte);
  med::MetaTensor wide = smooth({1, 13, 11, 7}, 33);
  wide.data = wide.data.to(at::kDouble);
  for (auto size : {std::vector<int64_t>{5, 4, 3}, std::vector<int64_t>{26, 22, 14},
                    std::vector<int64_t>{6, 29, 31}, std::vector<int64_t>{13, 4, 7},
                    std::vector<int64_t>{1, 11, 2}}) {
    const std::string what = "area " + std::to_string(size[0]) + "x" + std::to_string(size[1]) +
                             "x" + std::to_string(size[2]);
    T::Compose chain({T::Resize(T::ResizeOptions(size))});
    expectOneResampleKernel(chain, at::kFloat, what);
    expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 1e-5, what);
    expectCompiledEqualsEager(chain, labels, {0, 0, 0, 0}, 1.0, what + " uint8");
    expectCompiledEqualsEager(chain, wide, {0, 0, 0, 0}, 1e-5, what + " float64");
    EXPECT_EQ(chain.compile().run(labels, {0, 0, 0, 0}).data.scalar_type(), at::kByte);
    EXPECT_EQ(chain.compile().run(wide, {0, 0, 0, 0}).data.scalar_type(), at::kDouble);
  }
  // The kernel's three forms: boxes of at most 2 voxels per axis (scale <= 1, exactly 2, or
  // between with in - out dividing out: 12 -> 9, 10 -> 8, 8 -> 6), of at most 3 (scale < 2:
  // 10 -> 7 and 8 -> 5 hold boxes of 3), and any box; the sizes above are mostly the last.
  med::MetaTensor even = smooth({2, 12, 10, 8}, 35);
  for (auto size : {std::vector<int64_t>{6, 5, 4}, std::vector<int64_t>{6, 10, 16},
                    std::vector<int64_t>{9, 7, 5}, std::vector<int64_t>{7, 9, 6},
                    std::vector<int64_t>{9, 8, 6}, std::vector<int64_t>{9, 5, 7}}) {
    const std::string what = "area form " + std::to_string(size[0]) + "x" +
                             std::to_string(size[1]) + "x" + std::to_string(size[2]);
    T::Compose chain({T::Resize(T::ResizeOptions(size))});
    expectCompiledEqualsEager(chain, even, {0, 0, 0, 0}, 1e-5, what);
  }
  T::Compose plane({T::Resize(T::ResizeOptions({7, 23}))});
  expectCompiledEqualsEager(plane, smooth({2, 19, 10}, 34), {0, 0, 0, 0}, 1e-5, "area 2D");
  for (const auto &z : {std::vector<double>{0.45, 1.7, 1.0}, std::vector<double>{1.3, 2.0, 1.15},
                        std::vector<double>{0.5, 0.8, 0.7}})
    for (bool keep : {false, true})
      for (const char *pad : {"edge", "constant"}) {
        const std::string what = "area zoom " + std::to_string(z[0]) + "," + std::to_string(z[1]) +
                                 (keep ? " keep_size " + std::string(pad) : "");
        T::Compose zoom({T::Zoom(T::ZoomOptions(z).keep_size(keep).padding_mode(pad))});
        expectOneResampleKernel(zoom, at::kFloat, what);
        expectCompiledEqualsEager(zoom, img, {0, 0, 0, 0}, 1e-5, what);
        expectInvertsAsEager(zoom, img, what);
      }
  // Fused with intensity ops on both sides (the scaling is evaluated at every voxel of a box).
  T::Compose fused({T::ScaleIntensity(T::ScaleIntensityOptions()),
                    T::Resize(T::ResizeOptions({6, 5, 4})),
                    T::ShiftIntensity(T::ShiftIntensityOptions(0.25))});
  expectCompiledEqualsEager(fused, img, {0, 0, 0, 0}, 1e-5, "area fused");
}

TEST(CompiledGrid, ZoomLinearMatchesEagerAndInverts) {
  med::MetaTensor img = smooth({2, 11, 9, 8}, 23);
  // The zoomed grid (keep_size false; down and up per axis) and keep_size's centred crop of it
  // (every factor >= 1), align_corners unset and true.
  for (const auto &z : {std::vector<double>{0.8, 1.2, 1.0}, std::vector<double>{1.3, 1.0, 1.75}})
    for (bool keep : {false, true})
      for (std::optional<bool> align : {std::optional<bool>{}, std::optional<bool>{true}}) {
        if (keep && z[0] < 1.0)
          continue;
        const std::string what =
            std::to_string(z[0]) + (keep ? " keep_size" : "") + (align ? " align" : "");
        T::Compose chain(
            {T::Zoom(T::ZoomOptions(z).mode("trilinear").keep_size(keep).align_corners(align))});
        expectOneResampleKernel(chain, at::kFloat, what);
        expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 1e-5, what);
        // The records alone bring the image back to the input's shape and affine, as eager's.
        med::MetaTensor back = expectInvertsAsEager(chain, img, what);
        EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, img.meta.affine), 1e-9) << what;
      }
  T::Compose plane({T::Zoom(T::ZoomOptions({1.4}).mode("bilinear"))});
  expectCompiledEqualsEager(plane, smooth({2, 13, 10}, 24), {0, 0, 0, 0}, 1e-5, "2D");
  // int16 and float64 images are zoomed in float32 and converted back, as MONAI does.
  T::Compose aniso({T::Zoom(T::ZoomOptions({0.8, 1.2, 1.0}).mode("trilinear").keep_size(false))});
  med::MetaTensor labels = volume({1, 9, 8, 7});
  labels.data = at::randint(-50, 50, {1, 9, 8, 7}, at::kShort);
  expectCompiledEqualsEager(aniso, labels, {0, 0, 0, 0}, 1.0, "int16");
  EXPECT_EQ(aniso.compile().run(labels, {0, 0, 0, 0}).data.scalar_type(), at::kShort);
  med::MetaTensor wide = smooth({1, 9, 8, 7}, 25);
  wide.data = wide.data.to(at::kDouble);
  expectCompiledEqualsEager(aniso, wide, {0, 0, 0, 0}, 1e-6, "float64");
  // A factor < 1 with keep_size padded back in another numpy mode stays eager.
  for (T::ZoomOptions o :
       {T::ZoomOptions({0.7, 1.2, 1.0}).mode("nearest").padding_mode("reflect"),
        T::ZoomOptions({0.7, 1.2, 1.0}).mode("trilinear").padding_mode("wrap")}) {
    T::Compose chain({T::Zoom(o)});
    EXPECT_TRUE(chain.compile().ir(at::kFloat).empty()) << o.mode();
    expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 0.0, o.mode());
  }
  T::Compose wrong({T::Zoom(T::ZoomOptions({1.2, 1.1}).mode("trilinear").keep_size(false))});
  expectError([&] { wrong.compile().run(img, {0, 0, 0, 0}); }, {"Zoom.zoom"});
}

} // namespace
