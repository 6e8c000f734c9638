// ToDevice and ResampleToMatch: identity, integer-shift and subsampling grids against slices of
// the input (exact at integer voxel positions), agreement with SpatialResample, metadata, errors.
#include <ATen/Context.h>

#include "med/transforms/inverse.h"
#include "med/transforms/resample_match.h"
#include "med/transforms/to_device.h"
#include "test_util.h"

namespace {

// a @ v, with v a voxel-space 4x4 (row major): the affine of a grid expressed in a's voxels.
med::Affine compose(const med::Affine &a, const med::Affine &v) { return med::rt::matmul(a, v); }

void expectNear(const at::Tensor &a, const at::Tensor &b, double tol) {
  ASSERT_EQ(a.sizes(), b.sizes());
  EXPECT_LE((a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>(), tol);
}

TEST(ToDevice, CpuKeepsDataAndMeta) {
  med::MetaTensor img = volume({1, 4, 3, 2});
  img.meta.filename_or_obj = "a.nii";
  med::MetaTensor out = T::ToDevice(T::ToDeviceOptions("cpu")).eager(img);
  EXPECT_TRUE(out.data.device().is_cpu());
  EXPECT_TRUE(out.data.equal(img.data));
  EXPECT_EQ(out.meta.filename_or_obj, "a.nii");
  EXPECT_EQ(med::rt::maxAbsDiff(out.meta.affine, img.meta.affine), 0.0);
  T::ToDeviced d({"image"}, T::ToDeviceOptions("cpu"));
  EXPECT_EQ(d.keys().size(), 1u);
}

TEST(ToDevice, CudaMovesOrFailsClearly) {
  med::MetaTensor img = volume({1, 4, 3, 2});
  T::ToDevice t(T::ToDeviceOptions("cuda"));
  if (!at::hasCUDA()) {
    expectError([&] { t.eager(img); }, {"ToDevice.device", "CUDA is not available"});
    return;
  }
  med::MetaTensor out = t.eager(img);
  EXPECT_TRUE(out.data.device().is_cuda());
  EXPECT_TRUE(out.data.cpu().equal(img.data));
  expectError([&] { T::ToDevice(T::ToDeviceOptions("cuda:999")).eager(img); },
              {"ToDevice.device", "GPU"});
}

TEST(ToDevice, BadDeviceThrows) {
  expectError([] { T::ToDevice(T::ToDeviceOptions("gpu0")); }, {"ToDevice.device", "gpu0"});
  expectError([] { T::ToDevice(T::ToDeviceOptions("meta")); }, {"ToDevice.device", "cpu"});
  expectError([] { T::ToDevice(T::ToDeviceOptions("cpu")).eager(med::MetaTensor()); },
              {"ToDevice"});
}

TEST(ResampleToMatch, ToItselfReturnsTheImage) {
  med::MetaTensor img = volume({2, 6, 5, 4});
  med::MetaTensor out = T::ResampleToMatch()(img, img);
  expectNear(out.data, img.data, 0.0);
  EXPECT_EQ(med::rt::maxAbsDiff(out.meta.affine, img.meta.affine), 0.0);
}

TEST(ResampleToMatch, IntegerShiftAndSubsamplingAreSlices) {
  med::MetaTensor img = volume({2, 8, 7, 6});
  img.meta.filename_or_obj = "moving.nii";
  // Destination 1: the grid shifted by (2, 1, 0) voxels, 4 x 5 x 6 voxels.
  med::MetaTensor dst(
      at::zeros({1, 4, 5, 6}),
      med::Meta{compose(img.meta.affine, {1, 0, 0, 2, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1})});
  dst.meta.filename_or_obj = "fixed.nii";
  dst.meta.spatial_shape = {4, 5, 6};
  dst.meta.original_affine = dst.meta.affine;
  med::MetaTensor out = T::ResampleToMatch()(img, dst);
  expectNear(out.data, img.data.slice(1, 2, 6).slice(2, 1, 6), 1e-3);
  EXPECT_LT(med::rt::maxAbsDiff(out.meta.affine, dst.meta.affine), 1e-12);
  EXPECT_LT(med::rt::maxAbsDiff(out.meta.original_affine, dst.meta.affine), 1e-12);
  EXPECT_EQ(out.meta.spatial_shape, (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ(out.meta.filename_or_obj, "moving.nii"); // MONAI keeps the source's name
  ASSERT_FALSE(out.meta.applied_operations.empty());
  // Destination 2: voxels twice as large (every other voxel), 4 x 4 x 3.
  med::MetaTensor coarse(
      at::zeros({1, 4, 4, 3}),
      med::Meta{compose(img.meta.affine, {2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1})});
  T::ResampleToMatch nearest(T::ResampleToMatchOptions().mode("nearest"));
  for (const med::MetaTensor &o : {T::ResampleToMatch()(img, coarse), nearest(img, coarse)}) {
    expectNear(o.data, img.data.slice(1, 0, 8, 2).slice(2, 0, 7, 2).slice(3, 0, 6, 2), 1e-3);
    EXPECT_LT(med::rt::maxAbsDiff(o.meta.affine, coarse.meta.affine), 1e-12);
  }
}

TEST(ResampleToMatch, EqualsSpatialResampleOnTheDestinationGrid) {
  med::MetaTensor img = volume({1, 7, 6, 5});
  // A rotated, rescaled and shifted grid: non-integer positions, some outside the input.
  med::Affine v = {0.9, 0.2, 0, 0.7, -0.2, 1.1, 0, -0.4, 0, 0.1, 1.3, 0.25, 0, 0, 0, 1};
  med::MetaTensor dst(at::zeros({3, 6, 6, 4}), med::Meta{compose(img.meta.affine, v)});
  for (std::string mode : {"bilinear", "nearest"})
    for (std::string pad : {"border", "zeros"}) {
      med::MetaTensor out =
          T::ResampleToMatch(T::ResampleToMatchOptions().mode(mode).padding_mode(pad))(img, dst);
      const med::Affine &a = dst.meta.affine;
      med::MetaTensor ref =
          T::SpatialResample(T::SpatialResampleOptions()
                                 .dst_affine(std::vector<double>(a.begin(), a.end()))
                                 .spatial_size(std::vector<int64_t>{6, 6, 4})
                                 .mode(mode)
                                 .padding_mode(pad))
              .eager(img);
      expectNear(out.data, ref.data, 0.0);
      EXPECT_EQ(out.data.size(0), 1); // channels come from img, the grid from img_dst
      EXPECT_LT(med::rt::maxAbsDiff(out.meta.affine, dst.meta.affine), 1e-12);
    }
  // The record lets inverse() go back to img's grid.
  med::MetaTensor back = T::inverse(T::ResampleToMatch()(img, dst));
  EXPECT_EQ(back.data.sizes(), img.data.sizes());
  EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, img.meta.affine), 1e-9);
}

TEST(ResampleToMatch, BadInputThrows) {
  med::MetaTensor img = volume({1, 4, 4, 4}), flat = volume({1, 4, 4});
  expectError([] { T::ResampleToMatch(T::ResampleToMatchOptions().mode("cubic")); },
              {"SpatialResample.mode"});
  expectError([&] { T::ResampleToMatch()(img, flat); }, {"ResampleToMatch.img_dst", "3"});
  expectError([&] { T::ResampleToMatch()(img, med::MetaTensor()); }, {"ResampleToMatch.img_dst"});
  expectError([&] { T::ResampleToMatch()(med::MetaTensor(), img); }, {"ResampleToMatch.img"});
}

} // namespace
