// Multi-sample random crops (RandSpatialCropSamples, RandCropByPosNegLabel,
// RandCropByLabelClasses, RandWeightedCrop and their dictionary forms) on hand-built labels:
// where centres fall, how they are moved inside, class ratios, shared boxes across keys,
// reproducibility per key, inverse() and errors.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "med/transforms/crop_samples.h"
#include "med/transforms/inverse.h"
#include "test_util.h"

namespace {

using med::MetaTensor;
using med::rt::RandomKey;

RandomKey keyOf(uint64_t i) { return RandomKey{7, 0, i, 0}; }

// 1x20x20x20 zeros with foreground in the block [5, 8)^3.
MetaTensor blockLabel() {
  at::Tensor t = at::zeros({1, 20, 20, 20}, at::kFloat);
  t.slice(1, 5, 8).slice(2, 5, 8).slice(3, 5, 8).fill_(1);
  return MetaTensor(t);
}

float at3(const MetaTensor &m, const std::vector<int64_t> &c) {
  return m.data[0][c[0]][c[1]][c[2]].item<float>();
}

// Start of a crop of volume(): its first voxel encodes the flat index it came from.
std::vector<int64_t> startOf(const MetaTensor &crop, const std::vector<int64_t> &shape) {
  int64_t idx = static_cast<int64_t>(crop.data.reshape({-1})[0].item<float>());
  std::vector<int64_t> s(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    s[d] = idx % shape[d];
    idx /= shape[d];
  }
  return s;
}

at::Tensor box(const at::Tensor &t, const std::vector<int64_t> &start,
               const std::vector<int64_t> &size) {
  at::Tensor out = t;
  for (size_t d = 0; d < start.size(); ++d)
    out = out.slice(static_cast<int64_t>(d) + 1, start[d], start[d] + size[d]);
  return out;
}

TEST(RandCropByPosNegLabel, PosOnlyCentresAndCropsOnForeground) {
  MetaTensor label = blockLabel();
  T::RandCropByPosNegLabel t(
      T::RandCropByPosNegLabelOptions({6, 6, 6}).pos(1).neg(0).num_samples(4));
  for (uint64_t k = 0; k < 30; ++k) {
    for (const auto &c : t.centers(label, nullptr, keyOf(k)))
      EXPECT_EQ(at3(label, c), 1.0f);
    auto crops = t(label, label, keyOf(k));
    ASSERT_EQ(crops.size(), 4u);
    for (const MetaTensor &c : crops) {
      EXPECT_EQ(c.data.sizes(), (std::vector<int64_t>{1, 6, 6, 6}));
      EXPECT_GT(c.data.sum().item<float>(), 0.0f);
    }
  }
}

TEST(RandCropByPosNegLabel, NegOnlyCentresOnBackground) {
  MetaTensor label = blockLabel();
  T::RandCropByPosNegLabel t(T::RandCropByPosNegLabelOptions({1}).pos(0).neg(1).num_samples(8));
  for (uint64_t k = 0; k < 30; ++k)
    for (const auto &c : t.centers(label, nullptr, keyOf(k)))
      EXPECT_EQ(at3(label, c), 0.0f);
}

TEST(RandCropByPosNegLabel, ImageThresholdRestrictsBackground) {
  MetaTensor label = blockLabel();
  MetaTensor image(at::zeros({1, 20, 20, 20}, at::kFloat));
  image.data.slice(1, 15, 20).fill_(5); // background only where x >= 15
  T::RandCropByPosNegLabel t(
      T::RandCropByPosNegLabelOptions({1}).pos(0).neg(1).num_samples(8).image_threshold(1));
  for (uint64_t k = 0; k < 20; ++k)
    for (const auto &c : t.centers(label, &image, keyOf(k)))
      EXPECT_GE(c[0], 15);
}

TEST(RandCropByPosNegLabel, RatioOfForegroundCentres) {
  MetaTensor label = blockLabel();
  T::RandCropByPosNegLabel t(T::RandCropByPosNegLabelOptions({1}).pos(3).neg(1).num_samples(8));
  int fg = 0, total = 0;
  for (uint64_t k = 0; k < 300; ++k)
    for (const auto &c : t.centers(label, nullptr, keyOf(k))) {
      fg += at3(label, c) > 0;
      ++total;
    }
  EXPECT_NEAR(static_cast<double>(fg) / total, 0.75, 0.03);
}

TEST(RandCropByPosNegLabel, GivenIndicesAndFallbackWithoutForeground) {
  MetaTensor label = blockLabel();
  // fg_indices/bg_indices replace the label's: flat index 0 = voxel (0, 0, 0)
  T::RandCropByPosNegLabel given(T::RandCropByPosNegLabelOptions({1})
                                     .pos(1)
                                     .neg(0)
                                     .fg_indices(std::vector<int64_t>{0, 21})
                                     .bg_indices(std::vector<int64_t>{}));
  for (const auto &c : given.centers(label, nullptr, keyOf(0)))
    EXPECT_TRUE(c == (std::vector<int64_t>{0, 0, 0}) || c == (std::vector<int64_t>{0, 1, 1}));
  // MONAI: no foreground with neg == 0 warns and samples background instead
  MetaTensor empty(at::zeros({1, 8, 8, 8}));
  T::RandCropByPosNegLabel t(T::RandCropByPosNegLabelOptions({2}).pos(1).neg(0).num_samples(3));
  EXPECT_EQ(t(empty, empty, keyOf(1)).size(), 3u);
}

TEST(RandCropByPosNegLabel, BorderCentresShiftInside) {
  // 2D: foreground at the two opposite corners only
  MetaTensor label(at::zeros({1, 10, 12}, at::kFloat));
  label.data[0][0][0] = 1;
  label.data[0][9][11] = 1;
  MetaTensor img = volume({1, 10, 12});
  for (std::vector<int64_t> size : {std::vector<int64_t>{4, 6}, std::vector<int64_t>{5, 7}}) {
    T::RandCropByPosNegLabel t(T::RandCropByPosNegLabelOptions(size).pos(1).neg(0).num_samples(6));
    std::set<std::vector<int64_t>> seen;
    for (uint64_t k = 0; k < 10; ++k) {
      for (const auto &c : t.centers(label, nullptr, keyOf(k)))
        seen.insert(c);
      for (const MetaTensor &crop : t(label, label, keyOf(k))) {
        EXPECT_EQ(crop.data.sizes(), (std::vector<int64_t>{1, size[0], size[1]}));
        EXPECT_EQ(crop.data.sum().item<float>(), 1.0f); // one corner inside
      }
      for (const MetaTensor &crop : t(img, label, keyOf(k))) {
        auto s = startOf(crop, {10, 12});
        EXPECT_TRUE((s[0] == 0 && s[1] == 0) || (s[0] == 10 - size[0] && s[1] == 12 - size[1]));
      }
    }
    // MONAI's correct_crop_centers: [s // 2, floor(shape + 1 - s / 2) - 1]
    std::set<std::vector<int64_t>> expect = {{size[0] / 2, size[1] / 2},
                                             {size[0] == 4 ? 8 : 7, size[1] == 6 ? 9 : 8}};
    EXPECT_EQ(seen, expect);
  }
}

TEST(RandCropByPosNegLabel, AllowSmaller) {
  MetaTensor label(at::ones({1, 4, 4, 4}));
  T::RandCropByPosNegLabel strict(T::RandCropByPosNegLabelOptions({2, 6, 6}));
  expectError([&] { strict(label, label, keyOf(0)); },
              {"RandCropByPosNegLabel.spatial_size", "allow_smaller"});
  T::RandCropByPosNegLabel t(
      T::RandCropByPosNegLabelOptions({2, 6, 6}).allow_smaller(true).num_samples(3));
  for (const MetaTensor &c : t(label, label, keyOf(0)))
    EXPECT_EQ(c.data.sizes(), (std::vector<int64_t>{1, 2, 4, 4}));
}

TEST(RandCropByPosNegLabel, ReproducibleAndInvertible) {
  MetaTensor img = volume({2, 20, 18, 16});
  MetaTensor label(at::zeros({1, 20, 18, 16}));
  label.data.slice(1, 3, 15).slice(2, 2, 9).fill_(1);
  T::RandCropByPosNegLabel t(T::RandCropByPosNegLabelOptions({7, 6, 5}).num_samples(5));
  auto a = t(img, label, keyOf(3)), b = t(img, label, keyOf(3));
  std::set<std::vector<int64_t>> starts;
  for (uint64_t k = 0; k < 10; ++k)
    for (const MetaTensor &c : t(img, label, keyOf(k)))
      starts.insert(startOf(c, {20, 18, 16}));
  EXPECT_GT(starts.size(), 20u); // different keys and samples differ
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(at::equal(a[i].data, b[i].data));
    MetaTensor back = T::inverse(a[i]);
    EXPECT_EQ(back.data.sizes(), img.data.sizes());
    EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, img.meta.affine), 1e-9);
    auto s = startOf(a[i], {20, 18, 16});
    EXPECT_TRUE(at::equal(box(back.data, s, {7, 6, 5}), box(img.data, s, {7, 6, 5})));
    EXPECT_EQ(back.data.sum().item<double>(), a[i].data.sum().item<double>()); // zeros outside
  }
}

// Index map: class 1 in [2, 5)^3, class 2 in [12, 15)^3, class 0 elsewhere.
MetaTensor classLabel() {
  at::Tensor t = at::zeros({1, 16, 16, 16}, at::kFloat);
  t.slice(1, 2, 5).slice(2, 2, 5).slice(3, 2, 5).fill_(1);
  t.slice(1, 12, 15).slice(2, 12, 15).slice(3, 12, 15).fill_(2);
  return MetaTensor(t);
}

TEST(RandCropByLabelClasses, RespectsRatios) {
  MetaTensor label = classLabel();
  MetaTensor onehot(at::cat({label.data == 0, label.data == 1, label.data == 2}, 0).to(at::kFloat));
  for (const MetaTensor *lab : {&label, &onehot}) {
    T::RandCropByLabelClasses t(
        T::RandCropByLabelClassesOptions({1}).ratios({{0, 1, 3}}).num_classes(3).num_samples(8));
    std::map<int, int> count;
    for (uint64_t k = 0; k < 300; ++k)
      for (const auto &c : t.centers(*lab, nullptr, keyOf(k)))
        ++count[static_cast<int>(at3(label, c))];
    EXPECT_EQ(count[0], 0);
    EXPECT_NEAR(count[2] / 2400.0, 0.75, 0.03);
  }
  // a class without voxels (class 3) gets ratio 0
  T::RandCropByLabelClasses t(T::RandCropByLabelClassesOptions({1})
                                  .ratios({{0, 0, 1, 5}})
                                  .num_classes(4)
                                  .num_samples(8)
                                  .warn(false));
  for (const auto &c : t.centers(label, nullptr, keyOf(0)))
    EXPECT_EQ(at3(label, c), 2.0f);
}

TEST(RandCropByLabelClasses, CropsShiftedInsideAndReproducible) {
  MetaTensor label = classLabel();
  MetaTensor img = volume({1, 16, 16, 16});
  T::RandCropByLabelClasses t(
      T::RandCropByLabelClassesOptions({8, 8, 8}).num_classes(3).num_samples(4));
  auto a = t(img, label, keyOf(5)), b = t(img, label, keyOf(5)), c = t(img, label, keyOf(6));
  bool differ = false;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].data.sizes(), (std::vector<int64_t>{1, 8, 8, 8}));
    EXPECT_TRUE(at::equal(a[i].data, b[i].data));
    differ |= !at::equal(a[i].data, c[i].data);
    EXPECT_EQ(T::inverse(a[i]).data.sizes(), img.data.sizes());
  }
  EXPECT_TRUE(differ);
}

TEST(RandWeightedCrop, CentresProportionalToWeight) {
  MetaTensor w(at::zeros({1, 10, 10, 10}));
  w.data[0][5][5][5] = 1;
  w.data[0][2][6][7] = 3;
  w.data[0][0][0][0] = 100; // outside the valid centres of a 3^3 crop
  T::RandWeightedCrop t(T::RandWeightedCropOptions({3, 3, 3}, 8));
  int heavy = 0;
  for (uint64_t k = 0; k < 300; ++k)
    for (const auto &c : t.centers(w, keyOf(k))) {
      ASSERT_GT(at3(w, c), 0.0f);
      ASSERT_NE(at3(w, c), 100.0f);
      heavy += at3(w, c) == 3.0f;
    }
  EXPECT_NEAR(heavy / 2400.0, 0.75, 0.03);
  MetaTensor img = volume({1, 10, 10, 10});
  for (const MetaTensor &c : t(img, w, keyOf(1))) {
    EXPECT_EQ(c.data.sizes(), (std::vector<int64_t>{1, 3, 3, 3}));
    auto s = startOf(c, {10, 10, 10});
    EXPECT_TRUE(s == (std::vector<int64_t>{4, 4, 4}) || s == (std::vector<int64_t>{1, 5, 6}));
    EXPECT_EQ(T::inverse(c).data.sizes(), img.data.sizes());
  }
}

TEST(RandSpatialCropSamples, IndependentReproducibleSamples) {
  MetaTensor img = volume({1, 12, 10, 8});
  T::RandSpatialCropSamples t(T::RandSpatialCropSamplesOptions({4, 5, 3}, 6));
  auto a = t(img, keyOf(0)), b = t(img, keyOf(0));
  ASSERT_EQ(a.size(), 6u);
  std::set<std::vector<int64_t>> starts;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].data.sizes(), (std::vector<int64_t>{1, 4, 5, 3}));
    EXPECT_TRUE(at::equal(a[i].data, b[i].data));
    starts.insert(startOf(a[i], {12, 10, 8}));
    MetaTensor back = T::inverse(a[i]);
    EXPECT_EQ(back.data.sizes(), img.data.sizes());
    EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, img.meta.affine), 1e-9);
  }
  EXPECT_GT(starts.size(), 1u);
}

// Dictionary forms: every key cropped with the same box (checked against a coordinate image),
// other entries copied.
void expectSameBoxes(const std::vector<med::Data> &samples, const med::Data &in, size_t n,
                     std::vector<int64_t> size) {
  ASSERT_EQ(samples.size(), n);
  for (const med::Data &d : samples) {
    auto s = startOf(d.at("image"), {16, 16, 16});
    EXPECT_EQ(d.at("image").data.sizes(), (std::vector<int64_t>{1, size[0], size[1], size[2]}));
    EXPECT_TRUE(at::equal(d.at("label").data, box(in.at("label").data, s, size)));
    EXPECT_TRUE(at::equal(d.at("extra").data, in.at("extra").data));
  }
}

TEST(CropSamplesDictionary, SameBoxForEveryKey) {
  med::Data in{{"image", volume({1, 16, 16, 16})},
               {"label", classLabel()},
               {"extra", MetaTensor(at::ones({3}))}};
  expectSameBoxes(
      T::RandCropByPosNegLabeld({"image", "label"}, "label",
                                T::RandCropByPosNegLabelOptions({5, 6, 7}).num_samples(4),
                                "image")(in, keyOf(0)),
      in, 4, {5, 6, 7});
  expectSameBoxes(
      T::RandCropByLabelClassesd(
          {"image", "label"}, "label",
          T::RandCropByLabelClassesOptions({6}).num_classes(3).num_samples(3))(in, keyOf(1)),
      in, 3, {6, 6, 6});
  in["w"] = MetaTensor(at::rand({1, 16, 16, 16}));
  expectSameBoxes(T::RandWeightedCropd({"image", "label"}, "w",
                                       T::RandWeightedCropOptions({4, 5, 6}, 5))(in, keyOf(2)),
                  in, 5, {4, 5, 6});
  expectSameBoxes(T::RandSpatialCropSamplesd({"image", "label"}, T::RandSpatialCropSamplesOptions(
                                                                     {7, 3, 5}, 2))(in, keyOf(3)),
                  in, 2, {7, 3, 5});
  // indices from entries of the data; missing keys
  in["fg"] = MetaTensor(at::tensor(std::vector<int64_t>{0}));
  in["bg"] = MetaTensor(at::tensor(std::vector<int64_t>{}, at::kLong));
  auto s = T::RandCropByPosNegLabeld({"image", "mask"}, "label",
                                     T::RandCropByPosNegLabelOptions({1}).num_samples(2), "", "fg",
                                     "bg", true)(in, keyOf(4));
  EXPECT_EQ(s[0].at("image").data.item<float>(), 0.0f);
  EXPECT_EQ(s[0].count("mask"), 0u);
  expectError(
      [&] {
        T::RandWeightedCropd({"image", "mask"}, "w", T::RandWeightedCropOptions({4}))(in, keyOf(0));
      },
      {"RandWeightedCropd.keys", "mask"});
  expectError(
      [&] {
        T::RandCropByPosNegLabeld({"image"}, "seg", T::RandCropByPosNegLabelOptions({4}))(in,
                                                                                          keyOf(0));
      },
      {"RandCropByPosNegLabeld.label_key", "seg"});
}

TEST(CropSamples, Errors) {
  using O = T::RandCropByPosNegLabelOptions;
  expectError([] { T::RandCropByPosNegLabel(O({4}).num_samples(0)); },
              {"RandCropByPosNegLabel.num_samples"});
  expectError([] { T::RandCropByPosNegLabel(O({4}).pos(-1)); }, {"RandCropByPosNegLabel.pos"});
  expectError([] { T::RandCropByPosNegLabel(O({4}).neg(-1)); }, {"RandCropByPosNegLabel.neg"});
  expectError([] { T::RandCropByPosNegLabel(O({4}).pos(0).neg(0)); },
              {"RandCropByPosNegLabel.pos", "both 0"});
  expectError(
      [] {
        T::RandCropByPosNegLabel(O({4, 4, 4, 4}));
      },
      {"RandCropByPosNegLabel.spatial_size"});
  expectError([] { T::RandCropByPosNegLabel(O({4}).fg_indices(std::vector<int64_t>{1})); },
              {"RandCropByPosNegLabel.bg_indices"});
  MetaTensor label = blockLabel();
  expectError(
      [&] {
        T::RandCropByPosNegLabel(O({4, 4}))(label, label, keyOf(0));
      },
      {"RandCropByPosNegLabel.spatial_size", "expected 1 or 3"});
  expectError(
      [&] {
        T::RandCropByPosNegLabel(O({4}))(volume({1, 20, 20, 19}), label, keyOf(0));
      },
      {"RandCropByPosNegLabel", "spatial shape"});
  // no foreground, and no background above image_threshold: nothing to sample
  MetaTensor empty(at::zeros({1, 6, 6, 6}));
  expectError([&] { T::RandCropByPosNegLabel(O({2}))(empty, empty, empty, keyOf(0)); },
              {"RandCropByPosNegLabel.label", "no sampling location"});
  using C = T::RandCropByLabelClassesOptions;
  expectError([] { T::RandCropByLabelClasses(C({4}).num_samples(0)); },
              {"RandCropByLabelClasses.num_samples"});
  expectError(
      [] {
        T::RandCropByLabelClasses(C({4}).ratios({{1, -1}}));
      },
      {"RandCropByLabelClasses.ratios"});
  MetaTensor cls = classLabel();
  expectError([&] { T::RandCropByLabelClasses(C({4}))(cls, cls, keyOf(0)); },
              {"RandCropByLabelClasses.num_classes"});
  expectError(
      [&] {
        T::RandCropByLabelClasses(C({4}).num_classes(3).ratios({{1, 1}}))(cls, cls, keyOf(0));
      },
      {"RandCropByLabelClasses.ratios", "2 ratios for 3 classes"});
  expectError(
      [&] {
        T::RandCropByLabelClasses(C({4}).num_classes(5).ratios({{0, 0, 0, 1, 1}}).warn(false))(
            cls, cls, keyOf(0));
      },
      {"RandCropByLabelClasses.ratios"});
  expectError([] { T::RandWeightedCrop(T::RandWeightedCropOptions({4}, 0)); },
              {"RandWeightedCrop.num_samples"});
  expectError([] { T::RandSpatialCropSamples(T::RandSpatialCropSamplesOptions({4}, 0)); },
              {"RandSpatialCropSamples.num_samples"});
  expectError(
      [] {
        T::RandSpatialCropSamples(
            T::RandSpatialCropSamplesOptions({8}, 2).max_roi_size({4}).random_size(true));
      },
      {"RandSpatialCropSamples.max_roi_size"});
}

} // namespace
