// Flip, Rotate90 and Orientation: MONAI 1.4.0's own outputs (values exactly, affines to 1e-6),
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
#include "med/transforms/intensity.h"
#include "med/transforms/inverse.h"
#include "med/transforms/spatial.h"
#include "test_util.h"

namespace T = med::transforms;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Inverse restores shape, values and affine exactly and leaves no record.
void expectRoundTrip(const med::MetaTensor &orig, const med::MetaTensor &fwd) {
  med::MetaTensor back = T::inverse(fwd);
  EXPECT_EQ(back.data.sizes(), orig.data.sizes());
  EXPECT_TRUE(at::equal(back.data, orig.data));
  EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, orig.meta.affine), 1e-9);
  EXPECT_EQ(back.meta.applied_operations.size(), orig.meta.applied_operations.size());
}

// --- golden --------------------------------------------------------------------------------------

TEST(SpatialGolden, Flip) {
  for (auto [name, opts] :
       std::vector<std::pair<std::string, T::FlipOptions>>{{"flip_all", T::FlipOptions()},
                                                           {"flip_axes12", T::FlipOptions({1, 2})},
                                                           {"flip_axis0", T::FlipOptions(0)}}) {
    LOAD_GOLDEN(g, name);
    med::MetaTensor in = g->input();
    med::MetaTensor out = T::Flip(opts).eager(in);
    g->expectOutput(out);
    expectRoundTrip(in, out);
  }
}

TEST(SpatialGolden, Rotate90) {
  for (const char *name : {"rotate90_k1_axes01", "rotate90_k2_axes02", "rotate90_k3_axes12"}) {
    LOAD_GOLDEN(g, name);
    const json &p = g->c["params"];
    T::Rotate90 t(
        T::Rotate90Options(p["k"].get<int64_t>(), p["spatial_axes"].get<std::vector<int64_t>>()));
    med::MetaTensor in = g->input();
    med::MetaTensor out = t.eager(in);
    g->expectOutput(out);
    expectRoundTrip(in, out);
  }
}

TEST(SpatialGolden, Orientation) {
  for (const char *name :
       {"orientation_lps_to_ras", "orientation_oblique_to_ras", "orientation_permuted_to_pli",
        "orientation_permuted_to_ras", "orientation_ras_to_lps"}) {
    LOAD_GOLDEN(g, name);
    T::Orientation t(T::OrientationOptions(g->c["params"]["axcodes"].get<std::string>()));
    med::MetaTensor in = g->input();
    med::MetaTensor out = t.eager(in);
    g->expectOutput(out);
    expectRoundTrip(in, out);
    // The input's own codes, as closest canonical, give RAS.
    med::MetaTensor canon =
        T::Orientation(T::OrientationOptions().as_closest_canonical(true)).eager(in);
    med::MetaTensor ras = T::Orientation(T::OrientationOptions("RAS")).eager(in);
    EXPECT_TRUE(at::equal(canon.data, ras.data)) << name;
  }
}

// --- semantics -----------------------------------------------------------------------------------

TEST(Spatial, Rotate90MatchesNumpyRot90ForEveryPlaneAndK) {
  med::MetaTensor img = volume({2, 5, 4, 3});
  for (int64_t k = -5; k <= 5; ++k)
    for (std::vector<int64_t> axes :
         std::vector<std::vector<int64_t>>{{0, 1}, {1, 0}, {0, 2}, {2, 0}, {1, 2}, {-1, 0}}) {
      med::MetaTensor out = T::Rotate90(T::Rotate90Options(k, axes)).eager(img);
      int64_t a = axes[0] < 0 ? axes[0] + 3 : axes[0], b = axes[1] < 0 ? axes[1] + 3 : axes[1];
      EXPECT_TRUE(at::equal(out.data, at::rot90(img.data, k, {1 + a, 1 + b})))
          << "k=" << k << " axes " << axes[0] << "," << axes[1];
      expectRoundTrip(img, out);
    }
}

TEST(Spatial, AffineKeepsEveryVoxelAtItsWorldPosition) {
  // The world position of input voxel (0,0,0) is where the output finds that value.
  med::MetaTensor img = volume({1, 5, 4, 3});
  std::vector<T::Step> steps = {T::Flip(T::FlipOptions({0, 2})), T::Rotate90(),
                                T::Orientation(T::OrientationOptions("PIR"))};
  for (const T::Step &s : steps) {
    med::MetaTensor out = s.transform->eager(img);
    at::Tensor pos = (out.data[0] == 0).nonzero()[0].to(at::kDouble);
    for (int r = 0; r < 3; ++r) {
      double w = out.meta.affine[r * 4 + 3];
      for (int c = 0; c < 3; ++c)
        w += out.meta.affine[r * 4 + c] * pos[c].item<double>();
      EXPECT_NEAR(w, img.meta.affine[r * 4 + 3], 1e-9) << s.transform->name();
    }
  }
}

TEST(Spatial, TwoDimensionalImages) {
  med::MetaTensor img = volume({1, 6, 4});
  med::MetaTensor f = T::Flip(T::FlipOptions(-1)).eager(img);
  EXPECT_TRUE(at::equal(f.data, img.data.flip({2})));
  EXPECT_DOUBLE_EQ(f.meta.affine[10], 1.0); // z untouched
  expectRoundTrip(img, f);
  med::MetaTensor r = T::Rotate90(T::Rotate90Options(3)).eager(img);
  EXPECT_TRUE(at::equal(r.data, at::rot90(img.data, 3, {1, 2})));
  EXPECT_EQ(r.data.sizes(), (std::vector<int64_t>{1, 4, 6}));
  expectRoundTrip(img, r);
  // "LPS" on a 2D image is "LP" (MONAI uses axcodes[:2]).
  med::MetaTensor o = T::Orientation(T::OrientationOptions("LPS")).eager(img);
  EXPECT_LT(o.meta.affine[0], 0); // x now points left
  EXPECT_LT(o.meta.affine[5], 0);
  EXPECT_DOUBLE_EQ(o.meta.affine[10], 1.0);
  expectRoundTrip(img, o);
  expectError([&] { T::Orientation(T::OrientationOptions("RS")).eager(img); },
              {"Orientation.axcodes", "does not span"});
}

TEST(Spatial, ObliqueOrientationChoosesTheNearestAxesAndChainsInvert) {
  med::MetaTensor img = volume({1, 5, 4, 3});
  T::Compose chain({T::Orientation(T::OrientationOptions("LPS")),
                    T::Rotate90(T::Rotate90Options(1, {1, 2})), T::Flip(),
                    T::Orientation(T::OrientationOptions("SAR"))});
  med::MetaTensor out = chain.eager(img);
  ASSERT_EQ(out.meta.applied_operations.size(), 4u);
  EXPECT_EQ(out.meta.applied_operations[0].name, "Orientation");
  EXPECT_EQ(out.meta.applied_operations[1].name, "Rotate90");
  EXPECT_EQ(out.meta.applied_operations[2].name, "Flip");
  // After "SAR" the largest component of each voxel axis points along S, A, R.
  for (int c = 0; c < 3; ++c) {
    int best = 0;
    for (int r = 1; r < 3; ++r)
      if (std::abs(out.meta.affine[r * 4 + c]) > std::abs(out.meta.affine[best * 4 + c]))
        best = r;
    EXPECT_EQ(best, (std::vector<int>{2, 1, 0})[c]);
    EXPECT_GT(out.meta.affine[best * 4 + c], 0);
  }
  med::MetaTensor back = T::inverseAll(out);
  EXPECT_TRUE(back.meta.applied_operations.empty());
  EXPECT_TRUE(at::equal(back.data, img.data));
  EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, img.meta.affine), 1e-9);
}

TEST(Spatial, RecordsHoldWhatTheInverseNeeds) {
  med::MetaTensor img = volume({1, 5, 4, 3});
  auto rec = T::Flip(T::FlipOptions({-1})).eager(img).meta.applied_operations.back();
  EXPECT_EQ(rec.name, "Flip");
  EXPECT_EQ(rec.orig_size, (std::vector<int64_t>{5, 4, 3}));
  EXPECT_EQ(T::detail::recordParam(rec, "axis2"), 1.0);
  EXPECT_EQ(T::detail::recordParam(rec, "axis0"), 0.0);
  rec = T::Rotate90(T::Rotate90Options(-1, {2, 0})).eager(img).meta.applied_operations.back();
  EXPECT_EQ(T::detail::recordParam(rec, "k"), 3.0);
  EXPECT_EQ(T::detail::recordParam(rec, "axis0"), 2.0);
}

TEST(Spatial, DictionaryFormsApplyPerKeyAndInvert) {
  med::MetaTensor img = volume({1, 5, 4, 3});
  med::MetaTensor label = img.withData((img.data > 20).to(at::kFloat));
  T::Compose chain({T::Flipd({"image", "label"}, T::FlipOptions(0)),
                    T::Rotate90d({"image", "label"}, T::Rotate90Options(1, {0, 2})),
                    T::Orientationd({"image", "label"}, "RAS")});
  med::Data out = chain.eager(med::Data{{"image", img}, {"label", label}});
  med::MetaTensor ref = T::Orientation(T::OrientationOptions("RAS"))
                            .eager(T::Rotate90(T::Rotate90Options(1, {0, 2}))
                                       .eager(T::Flip(T::FlipOptions(0)).eager(img)));
  EXPECT_TRUE(at::equal(out["image"].data, ref.data));
  EXPECT_TRUE(at::equal(out["label"].data, (ref.data > 20).to(at::kFloat)));
  med::Data back = T::inverseAll(out);
  EXPECT_TRUE(at::equal(back["image"].data, img.data));
  EXPECT_TRUE(at::equal(back["label"].data, label.data));
  EXPECT_LT(med::rt::maxAbsDiff(back["label"].meta.affine, img.meta.affine), 1e-9);
}

TEST(Spatial, CopiesFuseInsideCompiledPipelines) {
  med::MetaTensor img = volume({1, 6, 5, 4});
  T::Compose chain({T::ShiftIntensity(T::ShiftIntensityOptions(1.0)), T::Flip(T::FlipOptions(1)),
                    T::Orientation(T::OrientationOptions("PLI")),
                    T::ShiftIntensity(T::ShiftIntensityOptions(-3.0))});
  med::MetaTensor eager = chain.eager(img), compiled = chain.compile()(img);
  EXPECT_TRUE(at::equal(eager.data, compiled.data));
  EXPECT_EQ(compiled.meta.applied_operations.size(), 2u);
  EXPECT_LT(med::rt::maxAbsDiff(eager.meta.affine, compiled.meta.affine), 1e-12);
}

// --- errors --------------------------------------------------------------------------------------

TEST(SpatialErrors, InvalidParametersFailAtConstruction) {
  expectError([] { T::Flip(T::FlipOptions(3)); }, {"Flip.spatial_axis", "[-3, 2]"});
  expectError([] { T::Flip(T::FlipOptions({0, 0})); }, {"Flip.spatial_axis", "twice"});
  expectError([] { T::Rotate90(T::Rotate90Options(1, {0})); }, {"Rotate90.spatial_axes", "2 axes"});
  expectError([] { T::Rotate90(T::Rotate90Options(1, {0, 1, 2})); }, {"Rotate90.spatial_axes"});
  expectError([] { T::Rotate90(T::Rotate90Options(1, {1, 1})); }, {"Rotate90.spatial_axes"});
  expectError([] { T::Orientation(T::OrientationOptions()); }, {"Orientation.axcodes"});
  expectError([] { T::Orientation(T::OrientationOptions("RAX")); }, {"Orientation.axcodes", "'X'"});
  expectError([] { T::Orientation(T::OrientationOptions("ras")); }, {"Orientation.axcodes"});
  expectError([] { T::Orientation(T::OrientationOptions("RLS")); },
              {"Orientation.axcodes", "twice"});
  expectError(
      [] {
        T::Orientation(T::OrientationOptions("RAS").labels({{'L', 'R'}, {'L', 'A'}}));
      },
      {"Orientation.labels"});
}

TEST(SpatialErrors, ImageDependentChecksNameTheParameter) {
  med::MetaTensor img = volume({1, 5, 4});
  expectError([&] { T::Flip(T::FlipOptions(2)).eager(img); }, {"Flip.spatial_axis", "range"});
  expectError(
      [&] {
        T::Rotate90(T::Rotate90Options(1, {0, -2})).eager(img);
      },
      {"Rotate90.spatial_axes", "same axis"});
  expectError([&] { T::Orientation(T::OrientationOptions("R")).eager(img); },
              {"Orientation.axcodes", "fewer"});
  med::MetaTensor flat = img;
  flat.meta.affine[5] = 0; // y has no world direction
  flat.meta.affine[4] = 0;
  expectError([&] { T::Orientation(T::OrientationOptions("RA")).eager(flat); },
              {"Orientation", "singular"});
  expectError(
      [&] {
        T::Flip().eager(med::MetaTensor(at::zeros({4, 4})));
      },
      {"Flip", "channel-first"});
}

TEST(SpatialErrors, InverseWithoutOrWithForeignRecords) {
  med::MetaTensor img = volume({1, 5, 4, 3});
  expectError([&] { T::inverse(img); }, {"inverse", "no applied operations"});
  med::MetaTensor foreign = img;
  foreign.meta.applied_operations.push_back({"Spacing", {}, {5, 4, 3}});
  expectError([&] { T::inverse(foreign); }, {"inverse", "Spacing"});
  EXPECT_TRUE(T::isInvertible("Spacing")); // resample.h records carry their parameters
  EXPECT_FALSE(T::isInvertible("Rand3DElastic"));
  med::MetaTensor rotated = T::Rotate90().eager(img);
  med::MetaTensor changed = rotated.withData(rotated.data.narrow(1, 0, 2));
  expectError([&] { T::inverse(changed); }, {"inverse", "Rotate90", "does not fit"});
  med::MetaTensor bad = rotated;
  bad.meta.applied_operations.back().params.clear();
  expectError([&] { T::inverse(bad); }, {"inverse", "'k'"});
}

} // namespace
