// Resampling transforms: MONAI golden cases (values within the README's tolerances, shape,
// affine), inverse round trips on shape and affine, and parameter errors.
#include "med/transforms/resample.h"

#include "med/transforms/compose.h"
#include "med/transforms/inverse.h"
#include "test_util.h"

namespace {

// README tolerance: |ours - ref| <= atol * max(1, max|ref|) + rtol * |ref|.
void expectClose(const Golden &g, const med::MetaTensor &out) {
  const json &o = g.c["outputs"]["out"];
  at::Tensor ref = readNpy(g.dir / o["file"].get<std::string>()).to(at::kDouble);
  ASSERT_EQ(out.data.sizes(), ref.sizes()) << g.c["case"];
  at::Tensor ours = out.data.to(at::kDouble);
  const double atol = 1e-5 * std::max(1.0, ref.abs().max().item<double>());
  EXPECT_TRUE(((ours - ref).abs() <= atol + 1e-4 * ref.abs()).all().item<bool>()) << g.c["case"];
  EXPECT_LT(med::rt::maxAbsDiff(out.meta.affine, affineOf(o["affine"])), 1e-6) << g.c["case"];
}

void expectRoundTrip(const med::MetaTensor &in, const med::MetaTensor &out) {
  med::MetaTensor back = T::inverse(out);
  EXPECT_EQ(back.data.sizes(), in.data.sizes());
  EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, in.meta.affine), 1e-6);
  EXPECT_TRUE(back.meta.applied_operations.empty());
}

std::vector<double> nums(const json &v) {
  if (v.is_number())
    return {v.get<double>()};
  return v.get<std::vector<double>>();
}

TEST(Resample, SpacingGolden) {
  for (const char *name : {"spacing_bilinear", "spacing_bilinear_aniso", "spacing_nearest_label",
                           "spacing_oblique_bilinear", "spacing_oblique_diagonal_bilinear",
                           "spacing_oblique_nearest_label"}) {
    LOAD_GOLDEN(g, name);
    const json &p = g->c["params"];
    T::Spacing t(T::SpacingOptions(nums(p["pixdim"]))
                     .diagonal(p["diagonal"])
                     .mode(p["mode"])
                     .padding_mode(p["padding_mode"]));
    med::MetaTensor in = g->input(), out = t.eager(in);
    expectClose(*g, out);
    expectRoundTrip(in, out);
  }
}

TEST(Resample, AffineGolden) {
  for (const char *name :
       {"affine_nearest_label_border", "affine_rot_scale_translate_bilinear_zeros",
        "affine_with_shear_out_size"}) {
    LOAD_GOLDEN(g, name);
    const json &p = g->c["params"];
    T::AffineOptions o;
    o.rotate_params(nums(p["rotate_params"])).translate_params(nums(p["translate_params"]));
    o.scale_params(nums(p["scale_params"])).mode(p["mode"]).padding_mode(p["padding_mode"]);
    if (!p["shear_params"].is_null())
      o.shear_params(nums(p["shear_params"]));
    if (!p["spatial_size"].is_null())
      o.spatial_size(p["spatial_size"].get<std::vector<int64_t>>());
    med::MetaTensor in = g->input(), out = T::Affine(o).eager(in);
    expectClose(*g, out);
    expectRoundTrip(in, out);
  }
}

TEST(Resample, RotateGolden) {
  for (const char *name :
       {"rotate3d_nearest_label", "rotate3d_small_bilinear", "rotate3d_zeros_no_keep"}) {
    LOAD_GOLDEN(g, name);
    const json &p = g->c["params"];
    T::Rotate t(T::RotateOptions(nums(p["angle"]))
                    .keep_size(p["keep_size"])
                    .mode(p["mode"])
                    .padding_mode(p["padding_mode"]));
    med::MetaTensor in = g->input(), out = t.eager(in);
    expectClose(*g, out);
    expectRoundTrip(in, out);
  }
}

TEST(Resample, ZoomGolden) {
  for (const char *name : {"zoom_0.7_keep_size_constant_pad", "zoom_0.7_keep_size_edge_pad",
                           "zoom_1.5_keep_size_area", "zoom_aniso_no_keep"}) {
    LOAD_GOLDEN(g, name);
    const json &p = g->c["params"];
    T::ZoomOptions o(nums(p["zoom"]));
    o.mode(p["mode"]).padding_mode(p["padding_mode"]).keep_size(p["keep_size"]);
    if (p.contains("align_corners") && !p["align_corners"].is_null())
      o.align_corners(p["align_corners"].get<bool>());
    med::MetaTensor in = g->input(), out = T::Zoom(o).eager(in);
    expectClose(*g, out);
    expectRoundTrip(in, out);
  }
}

TEST(Resample, ResizeGolden) {
  for (const char *name :
       {"resize_antialias_down", "resize_area", "resize_keep_dim_-1", "resize_longest",
        "resize_nearest_label", "resize_trilinear", "resize_trilinear_align_corners"}) {
    LOAD_GOLDEN(g, name);
    const json &p = g->c["params"];
    const json &ss = p["spatial_size"];
    T::ResizeOptions o(ss.is_number() ? std::vector<int64_t>{ss.get<int64_t>()}
                                      : ss.get<std::vector<int64_t>>());
    o.mode(p["mode"]).size_mode(p.value("size_mode", "all"));
    o.anti_aliasing(p.value("anti_aliasing", false));
    if (p.contains("align_corners") && !p["align_corners"].is_null())
      o.align_corners(p["align_corners"].get<bool>());
    med::MetaTensor in = g->input(), out = T::Resize(o).eager(in);
    expectClose(*g, out);
    expectRoundTrip(in, out);
  }
}

TEST(Resample, Oblique2DRoundTrip) {
  med::MetaTensor img = volume({1, 12, 10});
  expectRoundTrip(img, T::Spacing(T::SpacingOptions({0.7})).eager(img));
  expectRoundTrip(img, T::Rotate(T::RotateOptions({0.4}).keep_size(false)).eager(img));
  expectRoundTrip(img, T::Resize(T::ResizeOptions({7, 15}).mode("bilinear")).eager(img));
}

TEST(Resample, Errors) {
  expectError([] { T::Spacing(T::SpacingOptions({1.0}).mode("cubic")); }, {"Spacing.mode"});
  expectError([] { T::Spacing(T::SpacingOptions({})); }, {"Spacing.pixdim"});
  expectError([] { T::Affine(T::AffineOptions().padding_mode("edge")); }, {"Affine.padding_mode"});
  expectError([] { T::Rotate(T::RotateOptions({})); }, {"Rotate.angle"});
  expectError([] { T::Zoom(T::ZoomOptions({0.0})); }, {"Zoom.zoom"});
  expectError([] { T::Zoom(T::ZoomOptions({2.0}).mode("nearest").align_corners(true)); },
              {"Zoom.align_corners"});
  expectError([] { T::Resize(T::ResizeOptions({4}).size_mode("shortest")); }, {"Resize.size_mode"});
  expectError(
      [] {
        T::Resize(T::ResizeOptions({4, 4}).mode("trilinear")).eager(volume({1, 6, 6}));
      },
      {"Resize.mode"});
}

} // namespace

namespace {

TEST(Resample, DictionaryInCompose) {
  med::Data d;
  d["image"] = volume({1, 8, 7, 6});
  d["label"] = volume({1, 8, 7, 6});
  T::Compose c({T::Spacingd({"image", "label"}, T::SpacingOptions({1.3})),
                T::Zoomd({"image"}, T::ZoomOptions({1.4}).mode("trilinear"))});
  med::Data out = c.eager(d);
  EXPECT_EQ(out["image"].data.sizes(), out["label"].data.sizes());
  EXPECT_EQ(out["image"].meta.applied_operations.size(), 2u);
  med::Data back = T::inverseAll(out);
  for (const char *k : {"image", "label"}) {
    EXPECT_EQ(back[k].data.sizes(), d[k].data.sizes());
    EXPECT_LT(med::rt::maxAbsDiff(back[k].meta.affine, d[k].meta.affine), 1e-6);
  }
}

} // namespace

namespace {

TEST(Resample, SpatialResampleOntoSpacingGrid) {
  // Resampling onto the grid Spacing chose reproduces Spacing's output.
  med::MetaTensor img = volume({1, 10, 9, 8});
  med::MetaTensor sp = T::Spacing(T::SpacingOptions({1.2})).eager(img);
  std::vector<double> dst(sp.meta.affine.begin(), sp.meta.affine.end());
  std::vector<int64_t> size(sp.data.sizes().begin() + 1, sp.data.sizes().end());
  med::MetaTensor out =
      T::SpatialResample(T::SpatialResampleOptions().dst_affine(dst).spatial_size(size)).eager(img);
  EXPECT_TRUE(at::allclose(out.data, sp.data, 1e-5, 1e-4));
  EXPECT_LT(med::rt::maxAbsDiff(out.meta.affine, sp.meta.affine), 1e-9);
  expectRoundTrip(img, out);
  // No target: unchanged, still recorded and invertible.
  med::MetaTensor same = T::SpatialResample().eager(img);
  EXPECT_TRUE(at::equal(same.data, img.data));
  expectRoundTrip(img, same);
  expectError(
      [] {
        T::SpatialResample(T::SpatialResampleOptions().dst_affine(std::vector<double>{1, 2}));
      },
      {"SpatialResample.dst_affine"});
}

} // namespace
