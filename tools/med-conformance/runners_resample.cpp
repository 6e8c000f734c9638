// Runners for the resampling transforms (resample.h): Spacing, Affine, Rotate, Zoom, Resize.
// Factories map MONAI kwargs to Options; Affine cases also store the matrix MONAI returns.
#include <ATen/Functions.h>

#include "med/core/error.h"
#include "med/transforms/resample.h"
#include "registry.h"

namespace med::conformance {
using nlohmann::json;
namespace T = med::transforms;

namespace {

void ignoreLazy(Kwargs &kw) { kw.only("lazy", {false, true}, ""); }

std::optional<bool> optBool(Kwargs &kw, const std::string &key) {
  const json &v = kw.raw(key);
  if (v.is_null())
    return std::nullopt;
  if (!v.is_boolean())
    throw Error(kw.owner() + "." + key, "expected a boolean or null");
  return v.get<bool>();
}

T::SpacingOptions spacingOptions(Kwargs &kw) {
  ignoreLazy(kw);
  kw.only("dtype", {"float64", nullptr}, "Spacing resamples in float64 only");
  T::SpacingOptions o(kw.numbers("pixdim"));
  o.diagonal(kw.boolean("diagonal", false)).mode(kw.string("mode", "bilinear"));
  o.padding_mode(kw.string("padding_mode", "border"));
  o.align_corners(kw.boolean("align_corners", false));
  o.scale_extent(kw.boolean("scale_extent", false));
  return o.recompute_affine(kw.boolean("recompute_affine", false));
}

T::Step spacing(Kwargs &kw) { return T::Spacing(spacingOptions(kw)); }

// Spacing cases also store axcodes, which Orientation's cases already check; the output affine
// itself is compared.
Outputs runSpacing(const Case &c) {
  Kwargs kw("Spacing", c.params);
  T::Step step = T::Spacing(spacingOptions(kw));
  kw.finish();
  Outputs out;
  out.arrays["out"] = runCompiled({step}, c.input("img"));
  for (const char *k : {"input_axcodes", "output_axcodes"})
    out.skipped[k] = "axcodes are checked by the Orientation cases; the affine is compared";
  return out;
}

T::AffineOptions affineOptions(Kwargs &kw) {
  ignoreLazy(kw);
  kw.only("normalized", {false}, "normalized=True matrices are not implemented");
  kw.only("dtype", {"float32", nullptr}, "Affine resamples in float32 only");
  kw.only("image_only", {false, true}, "");
  T::AffineOptions o;
  for (const char *k : {"rotate_params", "shear_params", "translate_params", "scale_params"}) {
    std::vector<double> v = kw.raw(k).is_null() ? std::vector<double>{} : kw.numbers(k);
    if (std::string(k) == "rotate_params")
      o.rotate_params(v);
    else if (std::string(k) == "shear_params")
      o.shear_params(v);
    else if (std::string(k) == "translate_params")
      o.translate_params(v);
    else
      o.scale_params(v);
  }
  const json &a = kw.raw("affine");
  if (!a.is_null()) {
    std::vector<double> m;
    for (const json &row : a)
      for (const json &x : row)
        m.push_back(x.get<double>());
    o.affine(m);
  }
  o.spatial_size(kw.ints("spatial_size", {}));
  o.mode(kw.string("mode", "bilinear")).padding_mode(kw.string("padding_mode", "reflection"));
  return o.align_corners(kw.boolean("align_corners", false));
}

T::Step affine(Kwargs &kw) { return T::Affine(affineOptions(kw)); }

// Affine cases (image_only=False) also store the matrix MONAI returns: the params' matrix in
// voxel indices (Affine.compute_w_affine).
Outputs runAffine(const Case &c) {
  Kwargs kw("Affine", c.params);
  T::AffineOptions o = affineOptions(kw);
  kw.finish();
  const MetaTensor &img = c.input("img");
  T::Affine t(o);
  Outputs out;
  out.arrays["out"] = runCompiled({t}, img);
  const rt::OpRecord &rec = out.arrays["out"].meta.applied_operations.back();
  const int64_t n = img.data.dim() - 1;
  at::Tensor m = at::empty({n + 1, n + 1}, at::kDouble);
  for (int64_t i = 0; i < (n + 1) * (n + 1); ++i)
    m.view(-1)[i] = rec.params[i].second;
  out.arrays["affine_matrix"] = MetaTensor(m);
  return out;
}

T::Step rotate(Kwargs &kw) {
  ignoreLazy(kw);
  kw.only("dtype", {"float32", nullptr}, "Rotate resamples in float32 only");
  T::RotateOptions o(kw.numbers("angle"));
  o.keep_size(kw.boolean("keep_size", true)).mode(kw.string("mode", "bilinear"));
  o.padding_mode(kw.string("padding_mode", "border"));
  return T::Rotate(o.align_corners(kw.boolean("align_corners", false)));
}

T::Step zoom(Kwargs &kw) {
  ignoreLazy(kw);
  kw.only("dtype", {"float32", nullptr}, "Zoom interpolates in float32 only");
  T::ZoomOptions o(kw.numbers("zoom"));
  o.mode(kw.string("mode", "area")).padding_mode(kw.string("padding_mode", "edge"));
  o.align_corners(optBool(kw, "align_corners"));
  return T::Zoom(o.keep_size(kw.boolean("keep_size", true)));
}

T::Step resize(Kwargs &kw) {
  ignoreLazy(kw);
  kw.only("dtype", {"float32", nullptr}, "Resize interpolates in float32 only");
  T::ResizeOptions o(kw.ints("spatial_size"));
  o.size_mode(kw.string("size_mode", "all")).mode(kw.string("mode", "area"));
  o.align_corners(optBool(kw, "align_corners"));
  o.anti_aliasing(kw.boolean("anti_aliasing", false));
  if (!kw.raw("anti_aliasing_sigma").is_null())
    o.anti_aliasing_sigma(kw.numbers("anti_aliasing_sigma"));
  return T::Resize(o);
}

} // namespace

void registerResampleRunners(Registry &r) {
  r.addTransform("Spacing", spacing);
  r.add("Spacing", runSpacing); // replaces the single-case runner addTransform registered
  r.addTransform("Affine", affine);
  r.add("Affine", runAffine);
  r.addTransform("Rotate", rotate);
  r.addTransform("Zoom", zoom);
  r.addTransform("Resize", resize);
}

} // namespace med::conformance
