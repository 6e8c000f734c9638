// Crops and pads: MONAI 1.4.0's own outputs (values exactly, affines to 1e-6), numpy.pad's modes,
// inversion from the records alone, dictionary forms, 2D images and parameter errors.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>

#include "med/core/error.h"
#include "med/transforms/compose.h"
#include "med/transforms/croppad.h"
#include "med/transforms/inverse.h"
#include "med/transforms/spatial.h"
#include "test_util.h"

namespace T = med::transforms;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Pads a (1, n, 1) line of `values` along x with (lo, hi) and returns the padded line.
std::vector<double> padLine(std::vector<double> values, int64_t lo, int64_t hi,
                            const std::string &mode, at::ScalarType dtype = at::kFloat) {
  at::Tensor t = at::tensor(values, at::kDouble).to(dtype).reshape({1, -1, 1});
  at::Tensor out = T::detail::padSpatial(t, {{lo, hi}, {0, 0}}, mode, 0.0, "test");
  out = out.to(at::kDouble).flatten().contiguous();
  return std::vector<double>(out.data_ptr<double>(), out.data_ptr<double>() + out.numel());
}

// Checks shape, affine and (for pads) values after undoing the last record; for crops the kept
// box must match and everything else be zero.
void expectUndone(const med::MetaTensor &orig, const med::MetaTensor &fwd, bool exactValues) {
  med::MetaTensor back = T::inverse(fwd);
  ASSERT_EQ(back.data.sizes(), orig.data.sizes());
  EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, orig.meta.affine), 1e-9);
  EXPECT_EQ(back.meta.applied_operations.size(), orig.meta.applied_operations.size());
  if (exactValues)
    EXPECT_TRUE(at::equal(back.data, orig.data));
  else // kept voxels come back, the cropped-away ones as zeros
    EXPECT_TRUE(
        at::equal(back.data, at::where(back.data != 0, orig.data, at::zeros_like(orig.data))));
}

// --- golden --------------------------------------------------------------------------------------

TEST(CropPadGolden, SpatialCrop) {
  {
    LOAD_GOLDEN(g, "spatial_crop_center_size");
    const json &p = g->c["params"];
    med::MetaTensor in = g->input();
    med::MetaTensor out =
        T::SpatialCrop(T::SpatialCropOptions()
                           .roi_center(p["roi_center"].get<std::vector<int64_t>>())
                           .roi_size(p["roi_size"].get<std::vector<int64_t>>()))
            .eager(in);
    g->expectOutput(out);
    expectUndone(in, out, false);
  }
  {
    LOAD_GOLDEN(g, "spatial_crop_start_end_clipped");
    const json &p = g->c["params"];
    med::MetaTensor in = g->input();
    med::MetaTensor out = T::SpatialCrop(T::SpatialCropOptions()
                                             .roi_start(p["roi_start"].get<std::vector<int64_t>>())
                                             .roi_end(p["roi_end"].get<std::vector<int64_t>>()))
                              .eager(in);
    g->expectOutput(out);
    expectUndone(in, out, false);
  }
}

TEST(CropPadGolden, CenterSpatialCrop) {
  for (const char *name : {"center_spatial_crop", "center_spatial_crop_larger_than_img"}) {
    LOAD_GOLDEN(g, name);
    med::MetaTensor in = g->input();
    med::MetaTensor out =
        T::CenterSpatialCrop(
            T::CenterSpatialCropOptions(g->c["params"]["roi_size"].get<std::vector<int64_t>>()))
            .eager(in);
    g->expectOutput(out);
    expectUndone(in, out, false);
  }
}

TEST(CropPadGolden, SpatialPad) {
  for (const char *name : {"spatial_pad_end_constant", "spatial_pad_symmetric_constant",
                           "spatial_pad_symmetric_reflect", "spatial_pad_symmetric_replicate"}) {
    LOAD_GOLDEN(g, name);
    const json &p = g->c["params"];
    med::MetaTensor in = g->input();
    med::MetaTensor out =
        T::SpatialPad(T::SpatialPadOptions(p["spatial_size"].get<std::vector<int64_t>>())
                          .method(p["method"].get<std::string>())
                          .mode(p["mode"].get<std::string>()))
            .eager(in);
    g->expectOutput(out);
    expectUndone(in, out, true);
  }
}

TEST(CropPadGolden, CropForeground) {
  for (const char *name :
       {"crop_foreground_k_divisible8", "crop_foreground_margin0", "crop_foreground_margin3"}) {
    LOAD_GOLDEN(g, name);
    const json &p = g->c["params"];
    T::CropForeground t(T::CropForegroundOptions()
                            .margin({p["margin"].get<int64_t>()})
                            .allow_smaller(p["allow_smaller"].get<bool>())
                            .k_divisible({p["k_divisible"].get<int64_t>()})
                            .mode(p["mode"].get<std::string>()));
    med::MetaTensor in = g->input();
    auto [start, end] = t.computeBoundingBox(in.data);
    EXPECT_EQ(start, g->c["scalars"]["box_start"].get<std::vector<int64_t>>()) << name;
    EXPECT_EQ(end, g->c["scalars"]["box_end"].get<std::vector<int64_t>>()) << name;
    med::MetaTensor out = t.eager(in);
    g->expectOutput(out);
    expectUndone(in, out, false);
  }
}

// --- pad modes -----------------------------------------------------------------------------------

TEST(CropPad, PadModesFollowNumpyPad) {
  const std::vector<double> x = {1, 2, 3, 4, 5}; // numpy.pad's documentation examples
  using V = std::vector<double>;
  EXPECT_EQ(padLine(x, 2, 3, "constant"), (V{0, 0, 1, 2, 3, 4, 5, 0, 0, 0}));
  EXPECT_EQ(padLine(x, 2, 3, "edge"), (V{1, 1, 1, 2, 3, 4, 5, 5, 5, 5}));
  EXPECT_EQ(padLine(x, 2, 3, "replicate"), (V{1, 1, 1, 2, 3, 4, 5, 5, 5, 5}));
  EXPECT_EQ(padLine(x, 2, 3, "reflect"), (V{3, 2, 1, 2, 3, 4, 5, 4, 3, 2}));
  EXPECT_EQ(padLine(x, 2, 3, "symmetric"), (V{2, 1, 1, 2, 3, 4, 5, 5, 4, 3}));
  EXPECT_EQ(padLine(x, 2, 3, "wrap"), (V{4, 5, 1, 2, 3, 4, 5, 1, 2, 3}));
  EXPECT_EQ(padLine(x, 2, 3, "circular"), (V{4, 5, 1, 2, 3, 4, 5, 1, 2, 3}));
  EXPECT_EQ(padLine(x, 2, 3, "maximum"), (V{5, 5, 1, 2, 3, 4, 5, 5, 5, 5}));
  EXPECT_EQ(padLine(x, 2, 3, "minimum"), (V{1, 1, 1, 2, 3, 4, 5, 1, 1, 1}));
  EXPECT_EQ(padLine(x, 2, 3, "mean"), (V{3, 3, 1, 2, 3, 4, 5, 3, 3, 3}));
  EXPECT_EQ(padLine({1, 2, 4, 8}, 1, 1, "median"), (V{3, 1, 2, 4, 8, 3}));
  V ramp = padLine(x, 2, 3, "linear_ramp", at::kDouble);
  V want = {0, 0.5, 1, 2, 3, 4, 5, 10.0 / 3, 5.0 / 3, 0};
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(ramp[i], want[i], 1e-12) << i;
  // Pads wider than the axis: numpy's repeated reflection / wrapping.
  EXPECT_EQ(padLine({0, 1, 2}, 5, 5, "symmetric"), (V{1, 2, 2, 1, 0, 0, 1, 2, 2, 1, 0, 0, 1}));
  EXPECT_EQ(padLine({0, 1, 2}, 4, 7, "wrap"), (V{2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0}));
  // Reflect as wide as the axis: torch (MONAI's path for float) refuses; numpy (int16) does not.
  expectError([&] { padLine({0, 1, 2}, 3, 0, "reflect"); }, {"test", "reflect", "symmetric"});
  EXPECT_EQ(padLine({0, 1, 2}, 5, 5, "reflect", at::kShort),
            (V{1, 0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1}));
  EXPECT_EQ(padLine({7}, 2, 1, "reflect", at::kShort), (V{7, 7, 7, 7}));
  expectError([&] { padLine(x, 1, 1, "nearest"); }, {"test", "unknown pad mode", "reflect"});
}

TEST(CropPad, PadKeepsDtypeAndConstantValue) {
  med::MetaTensor img(at::ones({2, 3, 2}, at::kByte));
  med::MetaTensor out = T::BorderPad(T::BorderPadOptions({1}).value(7)).eager(img);
  EXPECT_EQ(out.data.scalar_type(), at::kByte);
  EXPECT_EQ(out.data.sizes(), (std::vector<int64_t>{2, 5, 4}));
  EXPECT_EQ(out.data[1][0][0].item<int64_t>(), 7);
  EXPECT_EQ(out.data.sum().item<int64_t>(), 2 * (6 + 7 * 14));
}

// --- crops, pads and their records ---------------------------------------------------------------

TEST(CropPad, SpatialCropClipsLikeMonai) {
  med::MetaTensor img = volume({1, 10, 8, 6});
  // A centre near the border: the box keeps its size and moves inwards.
  med::MetaTensor a =
      T::SpatialCrop(T::SpatialCropOptions().roi_center({1, 4, 3}).roi_size({4, 4, 4})).eager(img);
  EXPECT_TRUE(at::equal(a.data, img.data.slice(1, 0, 4).slice(2, 2, 6).slice(3, 1, 5)));
  // Start below 0 -> 0, end past the image -> the border; two values crop x and y only.
  med::MetaTensor b =
      T::SpatialCrop(T::SpatialCropOptions().roi_start({-3, 2}).roi_end({4, 99})).eager(img);
  EXPECT_TRUE(at::equal(b.data, img.data.slice(1, 0, 4).slice(2, 2, 8)));
  expectUndone(img, b, false);
  // One size broadcast over every centre value.
  med::MetaTensor c =
      T::SpatialCrop(T::SpatialCropOptions().roi_center({5, 4, 3}).roi_size({2})).eager(img);
  EXPECT_EQ(c.data.sizes(), (std::vector<int64_t>{1, 2, 2, 2}));
  const auto &rec = c.meta.applied_operations.back();
  EXPECT_EQ(rec.name, "SpatialCrop");
  EXPECT_EQ(rec.orig_size, (std::vector<int64_t>{10, 8, 6}));
  EXPECT_EQ(T::detail::getWidths(rec, "cropped", 3), (T::detail::Widths{{4, 4}, {3, 3}, {2, 2}}));
}

TEST(CropPad, PadsAndTheirForms) {
  med::MetaTensor img = volume({1, 5, 4, 3});
  auto shape = [](const med::MetaTensor &m) {
    return std::vector<int64_t>(m.data.sizes().begin() + 1, m.data.sizes().end());
  };
  med::MetaTensor p = T::SpatialPad(T::SpatialPadOptions({8, -1, 2})).eager(img);
  EXPECT_EQ(shape(p), (std::vector<int64_t>{8, 4, 3}));
  EXPECT_TRUE(at::equal(p.data.slice(1, 1, 6), img.data)); // 3 = 1 before + 2 after
  expectUndone(img, p, true);
  p = T::SpatialPad(T::SpatialPadOptions({8}).method("end").mode("edge")).eager(img);
  EXPECT_EQ(shape(p), (std::vector<int64_t>{8, 8, 8}));
  EXPECT_TRUE(at::equal(p.data.slice(1, 0, 5).slice(2, 0, 4).slice(3, 0, 3), img.data));
  expectUndone(img, p, true);
  EXPECT_EQ(shape(T::BorderPad(T::BorderPadOptions({2})).eager(img)),
            (std::vector<int64_t>{9, 8, 7}));
  EXPECT_EQ(shape(T::BorderPad(T::BorderPadOptions({1, 0, 2})).eager(img)),
            (std::vector<int64_t>{7, 4, 7}));
  p = T::BorderPad(T::BorderPadOptions({1, 0, -2, 3, 0, 1}).mode("reflect")).eager(img);
  EXPECT_EQ(shape(p), (std::vector<int64_t>{6, 7, 4})); // -2 counts as 0, as MONAI
  expectUndone(img, p, true);
  p = T::DivisiblePad(T::DivisiblePadOptions({4, 0, 2})).eager(img);
  EXPECT_EQ(shape(p), (std::vector<int64_t>{8, 4, 4}));
  EXPECT_TRUE(at::equal(p.data.slice(1, 1, 6).slice(3, 0, 3), img.data));
  expectUndone(img, p, true);
}

TEST(CropPad, ResizeWithPadOrCropCropsThenPads) {
  med::MetaTensor img = volume({1, 9, 4, 6});
  med::MetaTensor out =
      T::ResizeWithPadOrCrop(T::ResizeWithPadOrCropOptions({5, 7, -1}).mode("symmetric"))
          .eager(img);
  EXPECT_EQ(out.data.sizes(), (std::vector<int64_t>{1, 5, 7, 6}));
  // x: centre crop from 9//2 - 5//2 = 2; y: 3 more, 1 before and 2 after.
  EXPECT_TRUE(at::equal(out.data.slice(2, 1, 5), img.data.slice(1, 2, 7)));
  ASSERT_EQ(out.meta.applied_operations.size(), 1u);
  EXPECT_EQ(out.meta.applied_operations[0].name, "ResizeWithPadOrCrop");
  // The affine moved by +2 voxels along x and -1 along y.
  const med::Affine &a = img.meta.affine, &b = out.meta.affine;
  for (int r = 0; r < 3; ++r)
    EXPECT_NEAR(b[r * 4 + 3], a[r * 4 + 3] + 2 * a[r * 4 + 0] - 1 * a[r * 4 + 1], 1e-12);
  expectUndone(img, out, false);
}

TEST(CropPad, CropForegroundOptions) {
  at::Tensor x = at::zeros({2, 8, 7, 6});
  x[0][2][3][1] = 1;
  x[0][4][3][2] = 1;
  x[1][6][5][4] = -2;
  med::MetaTensor img(x);
  img.meta.affine = volume({1, 2, 2, 2}).meta.affine;
  // Default: x > 0 on every channel.
  auto [s0, e0] = T::CropForeground().computeBoundingBox(x);
  EXPECT_EQ(s0, (std::vector<int64_t>{2, 3, 1}));
  EXPECT_EQ(e0, (std::vector<int64_t>{5, 4, 3}));
  // A custom select_fn on channel 1 only.
  T::CropForeground sel(T::CropForegroundOptions()
                            .select_fn([](const at::Tensor &t) { return t != 0; })
                            .channel_indices({-1}));
  auto [s1, e1] = sel.computeBoundingBox(x);
  EXPECT_EQ(s1, (std::vector<int64_t>{6, 5, 4}));
  EXPECT_EQ(e1, (std::vector<int64_t>{7, 6, 5}));
  // A margin past the border with allow_smaller=false pads there (edge mode).
  T::CropForeground wide(
      T::CropForegroundOptions().margin({3, 0, 2}).allow_smaller(false).mode("edge"));
  auto [s2, e2] = wide.computeBoundingBox(x);
  EXPECT_EQ(s2, (std::vector<int64_t>{-1, 3, -1}));
  EXPECT_EQ(e2, (std::vector<int64_t>{8, 4, 5}));
  med::MetaTensor out = wide.eager(img);
  EXPECT_EQ(out.data.sizes(), (std::vector<int64_t>{2, 9, 1, 6}));
  EXPECT_TRUE(at::equal(out.data.slice(1, 0, 1), out.data.slice(1, 1, 2))); // edge padding
  for (int r = 0; r < 3; ++r) // the output starts at voxel (-1, 3, -1) of the input
    EXPECT_NEAR(out.meta.affine[r * 4 + 3],
                img.meta.affine[r * 4 + 3] - img.meta.affine[r * 4] +
                    3 * img.meta.affine[r * 4 + 1] - img.meta.affine[r * 4 + 2],
                1e-12);
  expectUndone(img, out, false);
  // k_divisible grows the box symmetrically (floor before).
  auto [s3, e3] =
      T::CropForeground(T::CropForegroundOptions().k_divisible({4})).computeBoundingBox(x);
  EXPECT_EQ(s3, (std::vector<int64_t>{2, 2, 0}));
  EXPECT_EQ(e3, (std::vector<int64_t>{6, 6, 4}));
  // No foreground: an empty box, as MONAI.
  med::MetaTensor none = T::CropForeground().eager(med::MetaTensor(at::zeros({1, 4, 4, 4})));
  EXPECT_EQ(none.data.sizes(), (std::vector<int64_t>{1, 0, 0, 0}));
}

TEST(CropPad, TwoDimensionalImages) {
  med::MetaTensor img = volume({1, 6, 5});
  med::MetaTensor c = T::CenterSpatialCrop(T::CenterSpatialCropOptions({4})).eager(img);
  EXPECT_TRUE(at::equal(c.data, img.data.slice(1, 1, 5).slice(2, 0, 4)));
  EXPECT_DOUBLE_EQ(c.meta.affine[11], 0.0); // z translation untouched
  expectUndone(img, c, false);
  med::MetaTensor p = T::BorderPad(T::BorderPadOptions({1, 2, 3, 4}).mode("symmetric")).eager(img);
  EXPECT_EQ(p.data.sizes(), (std::vector<int64_t>{1, 9, 12}));
  expectUndone(img, p, true);
  med::MetaTensor d = T::DivisiblePad(T::DivisiblePadOptions({4})).eager(img);
  EXPECT_EQ(d.data.sizes(), (std::vector<int64_t>{1, 8, 8}));
  expectError(
      [&] {
        T::BorderPad(T::BorderPadOptions({1, 2, 3})).eager(img);
      },
      {"BorderPad.spatial_border", "1, 2 or 4"});
}

TEST(CropPad, DictionaryFormsAndChainsInvert) {
  med::MetaTensor img = volume({1, 7, 6, 5});
  med::MetaTensor label = img.withData((img.data > 100).to(at::kFloat));
  T::Compose chain(
      {T::Orientationd({"image", "label"}, "LPS"),
       T::SpatialCropd({"image", "label"},
                       T::SpatialCropOptions().roi_start({1, 1, 1}).roi_end({6, 5, 4})),
       T::SpatialPadd({"image", "label"}, T::SpatialPadOptions({8, 8, 8})),
       T::DivisiblePadd({"image"}, T::DivisiblePadOptions({16})),
       T::ResizeWithPadOrCropd({"image", "label"}, T::ResizeWithPadOrCropOptions({12, 6, 9})),
       T::BorderPadd({"label"}, T::BorderPadOptions({1})),
       T::CenterSpatialCropd({"label"}, T::CenterSpatialCropOptions({7, 7, 7}))});
  med::Data out = chain.eager(med::Data{{"image", img}, {"label", label}});
  EXPECT_EQ(out["image"].data.sizes(), (std::vector<int64_t>{1, 12, 6, 9}));
  EXPECT_EQ(out["label"].data.sizes(), (std::vector<int64_t>{1, 7, 7, 7}));
  med::Data back = T::inverseAll(out);
  for (const char *key : {"image", "label"}) {
    EXPECT_EQ(back[key].data.sizes(), img.data.sizes()) << key;
    EXPECT_LT(med::rt::maxAbsDiff(back[key].meta.affine, img.meta.affine), 1e-9) << key;
    EXPECT_TRUE(back[key].meta.applied_operations.empty());
  }
}

// --- errors --------------------------------------------------------------------------------------

TEST(CropPadErrors, InvalidParametersFailAtConstruction) {
  expectError([] { T::SpatialCrop(T::SpatialCropOptions()); }, {"SpatialCrop.roi_start", "either"});
  expectError(
      [] {
        T::SpatialCrop(T::SpatialCropOptions().roi_center({1, 2}));
      },
      {"SpatialCrop.roi_center", "roi_size"});
  expectError(
      [] {
        T::SpatialCrop(T::SpatialCropOptions().roi_center({4, 4}).roi_size({2, -1}));
      },
      {"SpatialCrop.roi_size", ">= 0"});
  expectError(
      [] {
        T::SpatialCrop(T::SpatialCropOptions().roi_start({0, 0}).roi_end({1, 2, 3}));
      },
      {"SpatialCrop.roi_end", "same number"});
  expectError(
      [] {
        T::SpatialCrop(T::SpatialCropOptions().roi_start({0, 0, 0, 0}).roi_end({1}));
      },
      {"SpatialCrop.roi_start", "1 to 3"});
  expectError([] { T::CenterSpatialCrop(T::CenterSpatialCropOptions({})); },
              {"CenterSpatialCrop.roi_size"});
  expectError([] { T::SpatialPad(T::SpatialPadOptions({4}).mode("bogus")); },
              {"SpatialPad.mode", "bogus", "constant"});
  expectError([] { T::SpatialPad(T::SpatialPadOptions({4}).method("middle")); },
              {"SpatialPad.method", "end"});
  expectError(
      [] {
        T::BorderPad(T::BorderPadOptions({1, 2, 3, 4, 5}));
      },
      {"BorderPad.spatial_border", "2*ndim"});
  expectError([] { T::DivisiblePad(T::DivisiblePadOptions({2}).mode("nearest")); },
              {"DivisiblePad.mode"});
  expectError([] { T::ResizeWithPadOrCrop(T::ResizeWithPadOrCropOptions({2}).method("centre")); },
              {"ResizeWithPadOrCrop.method"});
  expectError([] { T::CropForeground(T::CropForegroundOptions().margin({-1})); },
              {"CropForeground.margin", ">= 0"});
  expectError([] { T::CropForeground(T::CropForegroundOptions().mode("zeros")); },
              {"CropForeground.mode"});
}

TEST(CropPadErrors, ImageDependentChecksNameTheParameter) {
  med::MetaTensor img = volume({2, 5, 4, 3});
  expectError(
      [&] {
        T::CenterSpatialCrop(T::CenterSpatialCropOptions({2, 2})).eager(img);
      },
      {"CenterSpatialCrop.roi_size", "1 or 3"});
  expectError(
      [&] {
        T::SpatialPad(T::SpatialPadOptions({6, 6})).eager(img);
      },
      {"SpatialPad.spatial_size"});
  expectError(
      [&] { T::CropForeground(T::CropForegroundOptions().channel_indices({2})).eager(img); },
      {"CropForeground.channel_indices", "range"});
  expectError([&] { T::SpatialPad(T::SpatialPadOptions({12}).mode("reflect")).eager(img); },
              {"SpatialPad", "reflect"});
  expectError(
      [&] {
        T::SpatialCrop(T::SpatialCropOptions().roi_start({0, 0, 0}).roi_end({1, 1, 1}))
            .eager(med::MetaTensor(at::zeros({1, 4, 4})));
      },
      {"SpatialCrop", "3 axes"});
  expectError(
      [&] {
        T::BorderPad(T::BorderPadOptions({1}).value(-1))
            .eager(med::MetaTensor(at::zeros({1, 2, 2}, at::kByte)));
      },
      {"BorderPad", "pad value -1", "Byte"});
  med::MetaTensor padded = T::SpatialPad(T::SpatialPadOptions({8})).eager(img);
  med::MetaTensor changed = padded.withData(padded.data.narrow(1, 0, 7));
  expectError([&] { T::inverse(changed); }, {"inverse", "SpatialPad", "does not fit"});
}

} // namespace
