// Copies in compiled pipelines: the crops and pads (CropPadTransform), RandSpatialCrop and
// Orientation as nearest med.resample ops fused with their neighbours, and runs of copies
// composed into one resample, against their eager ATen references.
#include "compiled_util.h"
#include "med/transforms/croppad.h"
#include "med/transforms/intensity.h"
#include "med/transforms/intensity_random.h"
#include "med/transforms/inverse.h"
#include "med/transforms/spatial.h"
#include "med/transforms/spatial_random.h"

#include <set>

namespace {

TEST(CompiledCropPad, CropsAndPadsAreCopiesFusedWithTheirNeighbours) {
  med::MetaTensor img = smooth({1, 12, 10, 8}, 9);
  img.data = img.data * 2000.0 - 1000.0;
  T::Compose chain(
      {T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(-1000, 1000, 0, 1).clip(true)),
       T::CenterSpatialCrop(T::CenterSpatialCropOptions({8, -1, 5})),
       T::ShiftIntensity(T::ShiftIntensityOptions(0.25))});
  // Prologue + copy + epilogue in one kernel, where the crop used to end the fused region.
  EXPECT_EQ(chain.compile().ir(at::kFloat).size(), 1u);
  expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 1e-6, "crop between intensity ops");
}

TEST(CompiledCropPad, EveryCropAndPadMatchesEagerExactly) {
  std::vector<std::pair<std::string, T::Step>> steps = {
      {"SpatialCrop center", T::SpatialCrop(T::SpatialCropOptions().roi_center({2, 4}).roi_size(
                                 {6, 3}))}, // shifted inwards at the lower border
      {"SpatialCrop box", T::SpatialCrop(T::SpatialCropOptions().roi_start({1}).roi_end({40}))},
      {"CenterSpatialCrop", T::CenterSpatialCrop(T::CenterSpatialCropOptions({5}))},
      {"SpatialPad zeros", T::SpatialPad(T::SpatialPadOptions({13, 6, 9}))},
      {"SpatialPad end edge",
       T::SpatialPad(T::SpatialPadOptions({12}).method("end").mode("replicate"))},
      {"BorderPad", T::BorderPad(T::BorderPadOptions({2}).mode("edge"))},
      // Wrapped more than once on the short axes (numpy's wrap is periodic at any width).
      {"SpatialPad wrap", T::SpatialPad(T::SpatialPadOptions({13, 20, 15}).mode("wrap"))},
      {"BorderPad circular", T::BorderPad(T::BorderPadOptions({8}).mode("circular"))},
      {"DivisiblePad", T::DivisiblePad(T::DivisiblePadOptions({4}))},
      {"ResizeWithPadOrCrop", T::ResizeWithPadOrCrop(T::ResizeWithPadOrCropOptions({5, 11, 3}))},
  };
  for (auto shape : {std::vector<int64_t>{2, 9, 7, 6}, std::vector<int64_t>{1, 10, 5}})
    for (at::ScalarType dt : {at::kShort, at::kFloat})
      for (const auto &[what, step] : steps) {
        const bool threeD = shape.size() == 4;
        if (!threeD && (what == "SpatialPad zeros" || what == "SpatialPad wrap"))
          continue; // three sizes for two axes: refused, as MONAI
        if (!threeD && what == "ResizeWithPadOrCrop")
          continue;
        med::MetaTensor img = volume(shape);
        img.data = (at::rand(shape, at::kDouble) * 100 - 50).to(dt);
        T::Compose chain({step});
        ASSERT_EQ(chain.compile().ir(dt).size(), 1u) << what;
        expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 0.0,
                                  what + " " + c10::toString(dt) + (threeD ? " 3D" : " 2D"));
      }
}

TEST(CompiledCropPad, OtherPadModesRunEagerlyAndInversesRestoreTheImage) {
  med::MetaTensor img = smooth({1, 9, 8, 7}, 10);
  for (T::SpatialPadOptions o : {T::SpatialPadOptions({12, 8, 9}).mode("reflect"),
                                 T::SpatialPadOptions({12, 8, 9}).value(5.0)}) {
    T::Compose chain({T::SpatialPad(o)});
    EXPECT_TRUE(chain.compile().ir(at::kFloat).empty());
    expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 0.0, "host pad " + o.mode());
  }
  // Records written by the compiled copies undo like eager ones: shape and affine come back.
  T::Compose chain({T::SpatialPad(T::SpatialPadOptions({12, 10, 9})),
                    T::SpatialCrop(T::SpatialCropOptions().roi_start({1, 2, 0}).roi_end({9, 7, 5})),
                    T::ResizeWithPadOrCrop(T::ResizeWithPadOrCropOptions({10, 4, 6}))});
  med::MetaTensor out = chain.compile().run(img, {0, 0, 0, 0});
  med::MetaTensor back = T::inverseAll(out);
  ASSERT_EQ(back.data.sizes(), img.data.sizes());
  EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, img.meta.affine), 1e-9);
  // An empty axis (an end before the start) is an empty copy, as eager.
  T::Compose empty({T::SpatialCrop(T::SpatialCropOptions().roi_start({5}).roi_end({2}))});
  expectCompiledEqualsEager(empty, img, {0, 0, 0, 0}, 0.0, "empty crop");
}

TEST(CompiledCropPad, RandSpatialCropIsACopyWhoseShapeFollowsTheDraw) {
  med::MetaTensor img = volume({1, 12, 9, 7});
  for (T::RandSpatialCropOptions o :
       {T::RandSpatialCropOptions({5, 4, 3}),
        T::RandSpatialCropOptions({4}).max_roi_size({10}).random_size(true),
        T::RandSpatialCropOptions({6, -1, 20}).random_center(false)}) {
    T::Compose chain({T::ShiftIntensity(T::ShiftIntensityOptions(1.0)), T::RandSpatialCrop(o),
                      T::ScaleIntensity(T::ScaleIntensityOptions().minv({}).maxv({}).factor(0.5))});
    EXPECT_EQ(chain.compile().ir(at::kFloat).size(), 1u);
    std::vector<med::MetaTensor> imgs;
    std::vector<med::rt::RandomKey> keys;
    std::set<std::vector<int64_t>> shapes;
    for (uint64_t s = 0; s < 6; ++s) {
      expectCompiledEqualsEager(chain, img, {4, 0, s, 0}, 0.0, "sample " + std::to_string(s));
      shapes.insert(chain.compile().run(img, {4, 0, s, 0}).data.sizes().vec());
      imgs.push_back(img);
      keys.push_back({4, 0, s, 0});
    }
    EXPECT_EQ(shapes.size() > 1, o.random_size());
    std::vector<med::MetaTensor> batch =
        chain.compile(T::Schedule::cpu().threads(2)).runBatch(imgs, keys);
    for (uint64_t s = 0; s < 6; ++s)
      EXPECT_TRUE(at::equal(chain.compile().run(img, keys[s]).data, batch[s].data)) << s;
  }
}

TEST(CompiledCropPad, OrientationIsACopyReadOffTheAffine) {
  for (auto shape : {std::vector<int64_t>{2, 7, 6, 5}, std::vector<int64_t>{1, 8, 6}})
    for (T::OrientationOptions o :
         {T::OrientationOptions("RAS"), T::OrientationOptions("LPI"), T::OrientationOptions("SPL"),
          T::OrientationOptions().as_closest_canonical(true)}) {
      if (shape.size() == 3 && o.axcodes() && *o.axcodes() == "SPL")
        continue;                          // the 2-D image spans no superior-inferior axis
      med::MetaTensor img = volume(shape); // an oblique affine
      T::Compose chain({T::ShiftIntensity(T::ShiftIntensityOptions(2.0)), T::Orientation(o),
                        T::ThresholdIntensity(T::ThresholdIntensityOptions(40.0))});
      EXPECT_EQ(chain.compile().ir(at::kFloat).size(), 1u);
      expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 0.0,
                                o.axcodes().value_or("canonical") + " " +
                                    std::to_string(shape.size() - 1) + "D");
      med::MetaTensor back = T::inverseAll(chain.compile().run(img, {0, 0, 0, 0}));
      EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, img.meta.affine), 1e-9);
    }
}

// Kernels of a fused pipeline that gather (hold a med.resample).
size_t gatheringKernels(const T::Compose &chain) {
  size_t n = 0;
  for (const std::string &ir : chain.compile().ir(at::kFloat))
    n += ir.find("med.resample") != std::string::npos ? 1 : 0;
  return n;
}

// Six samples of `chain` (seed `seed`), each exactly as eager (fused and unfused, one and two
// threads), then all six in one batch on two threads exactly as one at a time.
void expectSamplesAndBatchEqualEager(const T::Compose &chain, const med::MetaTensor &img,
                                     uint64_t seed) {
  std::vector<med::MetaTensor> imgs;
  std::vector<med::rt::RandomKey> keys;
  for (uint64_t s = 0; s < 6; ++s) {
    expectCompiledEqualsEager(chain, img, {seed, 0, s, 0}, 0.0, "sample " + std::to_string(s));
    imgs.push_back(img);
    keys.push_back({seed, 0, s, 0});
  }
  std::vector<med::MetaTensor> batch =
      chain.compile(T::Schedule::cpu().threads(2)).runBatch(imgs, keys);
  for (uint64_t s = 0; s < 6; ++s)
    EXPECT_TRUE(at::equal(chain.compile().run(img, keys[s]).data, batch[s].data)) << s;
}

TEST(CompiledCopies, ARunOfCopiesIsOneResampleBitForBit) {
  med::MetaTensor img = volume({2, 9, 8, 7});
  T::Compose chain(
      {T::RandFlip(T::RandFlipOptions(0).prob(0.8)),
       T::ShiftIntensity(T::ShiftIntensityOptions(1.0)), T::Rotate90(T::Rotate90Options(1, {0, 2})),
       T::CenterSpatialCrop(T::CenterSpatialCropOptions({7})),
       T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(0, 500, -1, 1)),
       T::RandSpatialCrop(T::RandSpatialCropOptions({4}).max_roi_size({6}).random_size(true)),
       T::Orientation(T::OrientationOptions("LPI")),
       T::ThresholdIntensity(T::ThresholdIntensityOptions(0.2))});
  // Five copies, one gather: the maps compose on the host, the kernel reads each voxel once.
  EXPECT_EQ(gatheringKernels(chain), 1u);
  // Exact against eager and against the unfused schedule (one kernel per op).
  expectSamplesAndBatchEqualEager(chain, img, 7);
  med::MetaTensor back = T::inverseAll(chain.compile().run(img, {7, 0, 0, 0}));
  EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, img.meta.affine), 1e-9);
}

TEST(CompiledCopies, OnlyCopiesThatReadInsideJoinAndNothingBetweenReadsPositions) {
  med::MetaTensor img = smooth({1, 10, 9, 8}, 11);
  // The noise is keyed by the voxel index of the flipped grid: the second flip keeps its kernel.
  T::Compose noise({T::Flip(T::FlipOptions({0})),
                    T::RandGaussianNoise(T::RandGaussianNoiseOptions().std(0.1).prob(1.0)),
                    T::Flip(T::FlipOptions({1}))});
  EXPECT_EQ(gatheringKernels(noise), 2u);
  expectCompiledEqualsEager(noise, img, {1, 0, 0, 0}, 1e-6, "noise between flips");
  // A pad can read outside its input, and an interpolating map does not compose exactly.
  T::Compose pad({T::Flip(T::FlipOptions({0})), T::SpatialPad(T::SpatialPadOptions({12}))});
  EXPECT_EQ(gatheringKernels(pad), 2u);
  expectCompiledEqualsEager(pad, img, {0, 0, 0, 0}, 0.0, "flip then pad");
  T::Compose affine({T::Affine(rotScale()), T::Flip(T::FlipOptions({2}))});
  EXPECT_EQ(gatheringKernels(affine), 2u);
  expectCompiledEqualsEager(affine, img, {0, 0, 0, 0}, 2e-5, "affine then flip");
  // A copy before an interpolating resample keeps its own kernel too.
  T::Compose before({T::Flip(T::FlipOptions({2})), T::Affine(rotScale())});
  EXPECT_EQ(gatheringKernels(before), 2u);
}

// Copies whose map leaves the two innermost axes as they are (a flip or crop along the first
// axis) run on rows of whole output slices (collapseInnerAxes in compose_plan.h): the same
// values as eager, with a fused prologue, several channels, two threads and in a batch.
TEST(CompiledCopies, CopiesAlongTheFirstAxisRunOnWholeSlices) {
  med::MetaTensor img = volume({2, 7, 6, 5});
  img.data = at::rand({2, 7, 6, 5}, at::kDouble).to(at::kFloat) * 100 - 50;
  std::vector<std::pair<std::string, T::Compose>> chains;
  chains.emplace_back(
      "shift then flip",
      T::Compose({T::ShiftIntensity(T::ShiftIntensityOptions(0.5)), T::Flip(T::FlipOptions({0}))}));
  chains.emplace_back(
      "crop along the first axis",
      T::Compose({T::SpatialCrop(T::SpatialCropOptions().roi_start({1}).roi_end({6})),
                  T::ScaleIntensity(T::ScaleIntensityOptions())}));
  chains.emplace_back("pad along the first axis",
                      T::Compose({T::SpatialPad(T::SpatialPadOptions({10, -1, -1}))}));
  chains.emplace_back("flip along the first two axes",
                      T::Compose({T::Flip(T::FlipOptions({0, 1}))}));
  for (const auto &[what, chain] : chains)
    expectCompiledEqualsEager(chain, img, {0, 0, 0, 0}, 0.0, what);
  // Drawn per sample: flipped or not, both on whole slices; a batch with different draws.
  T::Compose random({T::RandFlip(T::RandFlipOptions(0).prob(0.5)),
                     T::ThresholdIntensity(T::ThresholdIntensityOptions(10.0))});
  expectSamplesAndBatchEqualEager(random, img, 3);
}

} // namespace
