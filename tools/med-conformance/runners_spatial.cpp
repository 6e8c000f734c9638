// Runners for the spatial transforms without interpolation (spatial.h: Flip, Rotate90,
// Orientation) and the crops and pads (croppad.h). Factories map MONAI kwargs to Options; the
// cases that store more than `out` (Orientation's axcodes, CropForeground's box) get their own
// runner that still runs the transform through the compiled pipeline.
#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <cmath>
#include <limits>

#include "med/core/error.h"
#include "med/transforms/croppad.h"
#include "med/transforms/spatial.h"
#include "registry.h"

namespace med::conformance {
using nlohmann::json;
namespace T = med::transforms;

namespace {

// MONAI's `lazy` kwarg only changes when the work is done, never the result of one transform.
void ignoreLazy(Kwargs &kw) { kw.only("lazy", {false, true}, ""); }

// Pad kwargs MONAI forwards to numpy/torch pad: only the constant value is implemented.
double padValue(Kwargs &kw) {
  double v = kw.number("value", 0.0);
  if (kw.has("constant_values"))
    v = kw.number("constant_values");
  return v;
}

// nibabel's io_orientation + ornt2axcodes (what MONAI's aff2axcodes calls), written here
// independently of Medulla's Orientation so the axcodes scalars check our output affine.
std::string axcodes(const Affine &a, int64_t nsp) {
  at::Tensor rzs = at::empty({nsp, nsp}, at::kDouble);
  for (int64_t r = 0; r < nsp; ++r)
    for (int64_t c = 0; c < nsp; ++c)
      rzs[r][c] = a[r * 4 + c];
  at::Tensor zooms = rzs.pow(2).sum(0).sqrt();
  zooms = at::where(zooms == 0, at::ones_like(zooms), zooms);
  at::Tensor rs = rzs / zooms;
  auto [p, s, qs] = at::linalg_svd(rs, /*full_matrices=*/false);
  double tol = s.max().item<double>() * double(nsp) * std::numeric_limits<double>::epsilon();
  at::Tensor keep = (s > tol).nonzero().flatten();
  at::Tensor r = at::matmul(p.index_select(1, keep), qs.index_select(0, keep)).contiguous();
  static const char *labels[3] = {"LR", "PA", "IS"};
  std::string codes;
  for (int64_t in = 0; in < nsp; ++in) {
    at::Tensor col = r.select(1, in);
    if (col.abs().max().item<double>() <= 1e-8) {
      codes += '?'; // nibabel: undetermined (None)
      continue;
    }
    int64_t out = col.abs().argmax().item<int64_t>();
    codes += labels[out][col[out].item<double>() < 0 ? 0 : 1];
    r.select(0, out).zero_();
  }
  return codes;
}

int64_t spatialRank(const MetaTensor &img) { return img.data.dim() - 1; }

T::Step flip(Kwargs &kw) {
  ignoreLazy(kw);
  const json &axes = kw.raw("spatial_axis");
  if (axes.is_null())
    return T::Flip(T::FlipOptions());
  return T::Flip(T::FlipOptions(kw.ints("spatial_axis")));
}

T::Step rotate90(Kwargs &kw) {
  ignoreLazy(kw);
  return T::Rotate90(T::Rotate90Options(kw.integer("k", 1), kw.ints("spatial_axes", {0, 1})));
}

T::Step orientation(Kwargs &kw) {
  ignoreLazy(kw);
  T::OrientationOptions o;
  if (kw.has("axcodes"))
    o.axcodes(kw.string("axcodes", ""));
  else
    kw.raw("axcodes");
  o.as_closest_canonical(kw.boolean("as_closest_canonical", false));
  const json &labels = kw.raw("labels");
  if (!labels.is_null()) {
    std::vector<std::pair<char, char>> pairs;
    for (const json &p : labels) {
      if (!p.is_array() || p.size() != 2 || !p[0].is_string() || !p[1].is_string() ||
          p[0].get<std::string>().size() != 1 || p[1].get<std::string>().size() != 1)
        throw Unsupported("Orientation(labels=" + labels.dump() + "): expected letter pairs");
      pairs.emplace_back(p[0].get<std::string>()[0], p[1].get<std::string>()[0]);
    }
    o.labels(pairs);
  }
  return T::Orientation(o);
}

T::Step spatialCrop(Kwargs &kw) {
  ignoreLazy(kw);
  kw.only("roi_slices", {nullptr}, "roi_slices (Python slices) are not implemented");
  T::SpatialCropOptions o;
  o.roi_center(kw.ints("roi_center")).roi_size(kw.ints("roi_size"));
  o.roi_start(kw.ints("roi_start")).roi_end(kw.ints("roi_end"));
  return T::SpatialCrop(o);
}

T::Step centerSpatialCrop(Kwargs &kw) {
  ignoreLazy(kw);
  return T::CenterSpatialCrop(T::CenterSpatialCropOptions(kw.ints("roi_size")));
}

T::Step spatialPad(Kwargs &kw) {
  ignoreLazy(kw);
  T::SpatialPadOptions o(kw.ints("spatial_size"));
  o.method(kw.string("method", "symmetric")).mode(kw.string("mode", "constant"));
  return T::SpatialPad(o.value(padValue(kw)));
}

T::Step borderPad(Kwargs &kw) {
  ignoreLazy(kw);
  T::BorderPadOptions o(kw.ints("spatial_border"));
  return T::BorderPad(o.mode(kw.string("mode", "constant")).value(padValue(kw)));
}

T::Step divisiblePad(Kwargs &kw) {
  ignoreLazy(kw);
  T::DivisiblePadOptions o(kw.ints("k"));
  o.method(kw.string("method", "symmetric")).mode(kw.string("mode", "constant"));
  return T::DivisiblePad(o.value(padValue(kw)));
}

T::Step resizeWithPadOrCrop(Kwargs &kw) {
  ignoreLazy(kw);
  T::ResizeWithPadOrCropOptions o(kw.ints("spatial_size"));
  o.method(kw.string("method", "symmetric")).mode(kw.string("mode", "constant"));
  return T::ResizeWithPadOrCrop(o.value(padValue(kw)));
}

T::CropForegroundOptions cropForegroundOptions(Kwargs &kw) {
  ignoreLazy(kw);
  // The golden cases describe the Python select_fn in words; only MONAI's default is built in.
  const json &fn = kw.raw("select_fn");
  if (!fn.is_null() && !(fn.is_string() && fn.get<std::string>().rfind("x > 0", 0) == 0))
    throw Unsupported("CropForeground(select_fn=" + fn.dump() + "): only x > 0 is implemented");
  kw.only("return_coords", {false, true}, "");
  T::CropForegroundOptions o;
  o.channel_indices(kw.ints("channel_indices"));
  o.margin(kw.ints("margin", {0})).allow_smaller(kw.boolean("allow_smaller", true));
  o.k_divisible(kw.ints("k_divisible", {1}));
  o.mode(kw.string("mode", "constant")).value(padValue(kw));
  return o;
}

T::Step cropForeground(Kwargs &kw) { return T::CropForeground(cropForegroundOptions(kw)); }

// Orientation cases also store the axcodes of the input and of the output affine.
Outputs runOrientation(const Case &c) {
  T::Step step = Registry::global().buildStep("Orientation", c.params);
  const MetaTensor &img = c.input("img");
  Outputs out;
  out.arrays["out"] = runCompiled({step}, img);
  out.scalars["input_axcodes"] = axcodes(img.meta.affine, spatialRank(img));
  out.scalars["output_axcodes"] = axcodes(out.arrays["out"].meta.affine, spatialRank(img));
  return out;
}

// CropForeground cases (return_coords=True) also store the box.
Outputs runCropForeground(const Case &c) {
  Kwargs kw("CropForeground", c.params);
  T::CropForegroundOptions o = cropForegroundOptions(kw);
  kw.finish();
  const MetaTensor &img = c.input("img");
  T::CropForeground t(o);
  auto [start, end] = t.computeBoundingBox(img.data);
  Outputs out;
  out.arrays["out"] = runCompiled({t}, img);
  out.scalars["box_start"] = start;
  out.scalars["box_end"] = end;
  return out;
}

} // namespace

void registerSpatialRunners(Registry &r) {
  r.addTransform("Flip", flip);
  r.addTransform("Rotate90", rotate90);
  r.addTransform("Orientation", orientation);
  r.add("Orientation", runOrientation);
  r.addTransform("SpatialCrop", spatialCrop);
  r.addTransform("CenterSpatialCrop", centerSpatialCrop);
  r.addTransform("SpatialPad", spatialPad);
  r.addTransform("BorderPad", borderPad);
  r.addTransform("DivisiblePad", divisiblePad);
  r.addTransform("ResizeWithPadOrCrop", resizeWithPadOrCrop);
  r.addTransform("CropForeground", cropForeground);
  r.add("CropForeground", runCropForeground);
}

} // namespace med::conformance
