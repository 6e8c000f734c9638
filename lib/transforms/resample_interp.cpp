// Zoom and Resize (MONAI semantics): torch.nn.functional.interpolate in float32.
#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <algorithm>
#include <cmath>

#include "med/transforms/croppad.h"
#include "med/transforms/spatial.h"
#include "resample_impl.h"

namespace med::transforms {
namespace {

void checkInterp(const std::string &mode, std::optional<bool> align, const std::string &where) {
  const int64_t m = rs::interpMode(mode, where + ".mode");
  if (align && (m < 2 || m > 5))
    throw Error(where + ".align_corners",
                "align_corners only applies to the linear and cubic modes, not '" + mode + "'");
}

// interpolate's nearest modes: the source index is floorf of a float32 position.
bool nearestMode(const std::string &mode) { return mode == "nearest" || mode == "nearest-exact"; }

// The modes Resize and Zoom compile: linear, bicubic, nearest and area (linear, interpolate's
// 1-D mode, stays eager).
bool compiledMode(const std::string &mode) {
  return mode == "bilinear" || mode == "trilinear" || mode == "bicubic" || mode == "area" ||
         nearestMode(mode);
}

// Resize's and Zoom's med.resample: nearest modes read the voxel at floor of the float32
// position ("floor"), area averages the box a voxel covers ("area"), linear ones interpolate
// with border padding; MONAI works on a float32 copy (linear Resize keeps float64) and converts
// the result back to the image's type.
void traceInterp(const Transform &t, frontend::ChainSpec &chain, const std::string &mode,
                 bool keepFloat64, bool bounded, bool zeroOutside = false) {
  const rt::DType in = chain.output();
  const bool keep = in == rt::DType::Float32 || (keepFloat64 && in == rt::DType::Float64);
  const char *traced = nearestMode(mode)   ? "floor"
                       : mode == "area"    ? "area"
                       : mode == "bicubic" ? "bicubic"
                                           : "bilinear";
  traceResample(t, chain, traced, "border", keep ? in : rt::DType::Float32, bounded, zeroOutside);
  if (!keep)
    chain.ops.push_back(frontend::OpSpec{"cast", {}, {}, in, t.name()});
}

// A linear or cubic mode's rank: bilinear and bicubic need 2 spatial axes, trilinear 3
// (interpolate's error).
void checkLinearRank(const std::string &mode, int rank, const std::string &where) {
  const int want = mode == "trilinear" ? 3 : 2;
  if (rank != want)
    throw Error(where, "mode '" + mode + "' needs " + std::to_string(want) +
                           " spatial axes, the image has " + std::to_string(rank));
}

rt::OpRecord interpRecord(const std::string &name, const std::vector<int64_t> &orig,
                          const std::string &mode, std::optional<bool> align) {
  return rt::OpRecord{name,
                      {{"mode", double(rs::interpMode(mode, name + ".mode"))},
                       {"align_corners", align ? (*align ? 1.0 : 0.0) : -1.0}},
                      orig};
}

// MONAI's gaussian_1d(approx="erf", truncated=4) in float32; sigma 0 gives a delta.
at::Tensor gaussian1d(double sigma) {
  const auto tail = static_cast<int64_t>(std::max(sigma * 4.0, 0.5) + 0.5);
  at::Tensor x = at::arange(-tail, tail + 1, at::kFloat);
  const float t = 0.70710678f / std::fabs(float(sigma));
  at::Tensor k = 0.5f * (at::erf(t * (x + 0.5f)) - at::erf(t * (x - 0.5f)));
  k = k.clamp_min(0);
  return k / k.sum();
}

// GaussianSmooth: separable zero-padded convolution of each channel of x (C, sp...).
at::Tensor gaussianSmooth(const at::Tensor &x, const std::vector<double> &sigma) {
  const int64_t n = x.dim() - 1;
  at::Tensor y = x.unsqueeze(1); // (C, 1, sp...)
  for (int64_t d = 0; d < n; ++d) {
    at::Tensor k = gaussian1d(sigma[d]);
    std::vector<int64_t> wshape(n + 2, 1), pad(n, 0);
    wshape[2 + d] = k.numel();
    pad[d] = k.numel() / 2;
    at::Tensor w = k.reshape(wshape);
    y = n == 2 ? at::conv2d(y, w, {}, 1, pad) : at::conv3d(y, w, {}, 1, pad);
  }
  return y.squeeze(1);
}

} // namespace

// --- Zoom ----------------------------------------------------------------------------------------

Zoom::Zoom(Options o) : o_(std::move(o)) {
  if (o_.zoom().empty())
    throw Error("Zoom.zoom", "expected at least one factor");
  for (double z : o_.zoom())
    if (!(z > 0) || !std::isfinite(z))
      throw Error("Zoom.zoom", "factors must be positive and finite, got " + std::to_string(z));
  checkInterp(o_.mode(), o_.align_corners(), "Zoom");
  o_.padding_mode(detail::checkPadMode(o_.padding_mode(), "Zoom.padding_mode"));
}

std::vector<double> Zoom::factors(int64_t n) const {
  std::vector<double> z = o_.zoom();
  if (z.size() == 1)
    z.assign(n, z[0]);
  if (static_cast<int64_t>(z.size()) != n)
    throw Error("Zoom.zoom",
                "expected 1 or " + std::to_string(n) + " factors, got " + std::to_string(z.size()));
  return z;
}

namespace {
// The zoomed grid's shape: floor(size * zoom) per axis, as interpolate's scale_factor gives.
std::vector<int64_t> zoomedShape(const std::vector<int64_t> &in, const std::vector<double> &z) {
  std::vector<int64_t> size(in.size());
  for (size_t d = 0; d < in.size(); ++d) {
    size[d] = static_cast<int64_t>(std::floor(double(in[d]) * z[d]));
    if (size[d] <= 0)
      throw Error("Zoom.zoom", "the zoomed image would have an empty axis");
  }
  return size;
}
} // namespace

MetaTensor Zoom::eager(const MetaTensor &img) const {
  const int64_t n = detail::spatialRank(img.data, name());
  const std::vector<int64_t> in = rs::spatialShape(img.data);
  const std::vector<int64_t> size = zoomedShape(in, factors(n));
  at::Tensor data =
      detail::interpolate(img.data.to(at::kFloat), size, o_.mode(), o_.align_corners(), name());
  MetaTensor out(data.to(img.data.scalar_type()), img.meta);
  out.meta.affine = rs::compose(img.meta.affine, rs::scaleAffine(in, size));
  rt::OpRecord rec = interpRecord("Zoom", in, o_.mode(), o_.align_corners());
  detail::Widths pad(n, {0, 0}), crop(n, {0, 0});
  if (o_.keep_size() && size != in) { // ResizeWithPadOrCrop back; its record joins Zoom's
    out = ResizeWithPadOrCrop(ResizeWithPadOrCropOptions(in).mode(o_.padding_mode())).eager(out);
    const rt::OpRecord pc = out.meta.applied_operations.back();
    out.meta.applied_operations.pop_back();
    pad = detail::getWidths(pc, "padded", n);
    crop = detail::getWidths(pc, "cropped", n);
  }
  detail::putWidths(rec, "padded", pad);
  detail::putWidths(rec, "cropped", crop);
  out.meta.applied_operations.push_back(std::move(rec));
  return out;
}

bool Zoom::padsBack() const {
  return o_.keep_size() &&
         std::any_of(o_.zoom().begin(), o_.zoom().end(), [](double z) { return z < 1.0; });
}

bool Zoom::traceable() const {
  if (!compiledMode(o_.mode()))
    return false;
  // A factor < 1 pads back: the edge values repeated, or zeros outside ("constant", whose value
  // is 0), are the bounded resample's; other pad modes stay eager.
  return !padsBack() || o_.padding_mode() == "edge" || o_.padding_mode() == "constant";
}

void Zoom::trace(frontend::ChainSpec &chain) const {
  if (!nearestMode(o_.mode()) && o_.mode() != "area")
    checkLinearRank(o_.mode(), chain.spatialRank, "Zoom.mode");
  factors(chain.spatialRank); // the factor count's error at compile time
  // MONAI zooms a float32 copy.
  traceInterp(*this, chain, o_.mode(), /*keepFloat64=*/false, padsBack(),
              o_.padding_mode() == "constant");
}

ResamplePlan Zoom::plan(const std::vector<int64_t> &in, const Meta &meta, const double *) const {
  const int64_t n = static_cast<int64_t>(in.size());
  const std::vector<int64_t> size = zoomedShape(in, factors(n));
  // interpolate's map to the zoomed grid (Resize's: scale in / size, or align_corners'), then
  // keep_size's centred crop, an integer shift of the zoomed index.
  ResamplePlan p = Resize(ResizeOptions(size).mode(o_.mode()).align_corners(o_.align_corners()))
                       .plan(in, meta, nullptr);
  p.meta.applied_operations.pop_back(); // Zoom records itself, with the crop's widths
  rt::OpRecord rec = interpRecord("Zoom", in, o_.mode(), o_.align_corners());
  detail::Widths pad(n, {0, 0}), crop(n, {0, 0});
  if (o_.keep_size() && size != in) {
    ResamplePlan c = ResizeWithPadOrCrop(ResizeWithPadOrCropOptions(in).mode(o_.padding_mode()))
                         .plan(size, p.meta, nullptr);
    for (int64_t d = 0; d < n; ++d) { // position = scale (o + start) + shift
      double &shift = p.matrix[d * (n + 1) + n];
      const double start = c.matrix[d * (n + 1) + n]; // < 0: -(voxels padded before)
      shift += p.matrix[d * (n + 1) + d] * start;
      if (padsBack()) { // the zoomed voxels' box in the output; the pad repeats its edge
        p.bounds.push_back(std::max(0.0, -start));
        p.bounds.push_back(std::min(double(c.shape[d]), -start + double(size[d])) - 1.0);
      }
    }
    const rt::OpRecord pc = c.meta.applied_operations.back();
    c.meta.applied_operations.pop_back();
    pad = detail::getWidths(pc, "padded", n);
    crop = detail::getWidths(pc, "cropped", n);
    p.shape = c.shape;
    p.meta = std::move(c.meta);
  }
  if (padsBack()) // traced bounded
    rs::boundWholeOutput(p);
  detail::putWidths(rec, "padded", pad);
  detail::putWidths(rec, "cropped", crop);
  p.meta.applied_operations.push_back(std::move(rec));
  return p;
}

// --- Resize --------------------------------------------------------------------------------------

Resize::Resize(Options o) : o_(std::move(o)) {
  if (o_.size_mode() != "all" && o_.size_mode() != "longest")
    throw Error("Resize.size_mode", "expected 'all' or 'longest', got '" + o_.size_mode() + "'");
  if (o_.spatial_size().empty())
    throw Error("Resize.spatial_size", "expected at least one size");
  if (o_.size_mode() == "longest" && (o_.spatial_size().size() != 1 || o_.spatial_size()[0] <= 0))
    throw Error("Resize.spatial_size", "size_mode 'longest' needs one positive size");
  checkInterp(o_.mode(), o_.align_corners(), "Resize");
  for (double s : o_.anti_aliasing_sigma())
    if (s < 0)
      throw Error("Resize.anti_aliasing_sigma", "sigma must be >= 0");
}

namespace {
// Resize's output size for an image of spatial shape `in`.
std::vector<int64_t> resizeShape(const ResizeOptions &o, const std::vector<int64_t> &in) {
  const int64_t n = static_cast<int64_t>(in.size());
  std::vector<int64_t> size = in;
  if (o.size_mode() == "longest") {
    const double scale =
        double(o.spatial_size()[0]) / double(*std::max_element(in.begin(), in.end()));
    for (int64_t d = 0; d < n; ++d)
      size[d] = static_cast<int64_t>(std::nearbyint(in[d] * scale));
  } else {
    if (static_cast<int64_t>(o.spatial_size().size()) != n)
      throw Error("Resize.spatial_size", "expected " + std::to_string(n) + " sizes, got " +
                                             std::to_string(o.spatial_size().size()));
    for (int64_t d = 0; d < n; ++d)
      if (o.spatial_size()[d] > 0)
        size[d] = o.spatial_size()[d];
  }
  return size;
}
} // namespace

MetaTensor Resize::eager(const MetaTensor &img) const {
  const int64_t n = detail::spatialRank(img.data, name());
  const std::vector<int64_t> in = rs::spatialShape(img.data);
  const std::vector<int64_t> size = resizeShape(o_, in);
  MetaTensor out = img;
  if (size != in) {
    at::Tensor x = img.data.to(at::kFloat);
    bool down = false;
    for (int64_t d = 0; d < n; ++d)
      down = down || size[d] < in[d];
    if (o_.anti_aliasing() && down) {
      std::vector<double> sigma(n);
      for (int64_t d = 0; d < n; ++d) {
        const float f = float(in[d]) / float(size[d]);
        const auto &given = o_.anti_aliasing_sigma();
        sigma[d] = given.empty() ? std::max(0.0f, (f - 1.0f) / 2.0f)
                                 : given[std::min<size_t>(d, given.size() - 1)] * (f > 1 ? 1 : 0);
      }
      x = gaussianSmooth(x, sigma);
    }
    at::Tensor data = detail::interpolate(x, size, o_.mode(), o_.align_corners(), name());
    out = MetaTensor(data.to(img.data.scalar_type()), img.meta);
    out.meta.affine = rs::compose(img.meta.affine, rs::scaleAffine(in, size));
  }
  out.meta.applied_operations.push_back(interpRecord("Resize", in, o_.mode(), o_.align_corners()));
  return out;
}

bool Resize::traceable() const { return compiledMode(o_.mode()) && !o_.anti_aliasing(); }

void Resize::trace(frontend::ChainSpec &chain) const {
  const bool linear = !nearestMode(o_.mode()) && o_.mode() != "area";
  if (linear)
    checkLinearRank(o_.mode(), chain.spatialRank, "Resize.mode");
  // Linear modes interpolate float64 images in float64 (docs/transforms-resample.md); the
  // nearest and area modes work through float32 as eager does.
  traceInterp(*this, chain, o_.mode(), /*keepFloat64=*/linear, /*bounded=*/false);
}

ResamplePlan Resize::plan(const std::vector<int64_t> &in, const Meta &meta, const double *) const {
  const size_t n = in.size();
  ResamplePlan p;
  p.shape = resizeShape(o_, in);
  p.matrix.assign(n * (n + 1), 0.0);
  p.meta = meta;
  for (size_t d = 0; d < n; ++d) {
    double &scale = p.matrix[d * (n + 1) + d], &shift = p.matrix[d * (n + 1) + n];
    if (nearestMode(o_.mode())) {
      // floorf(o * s) or floorf((o + 0.5) * s) with torch's float32 s = in / out: the f64
      // product is exact, the kernel rounds it to float32 (mode "floor").
      scale = double(float(in[d]) / float(p.shape[d]));
      shift = o_.mode() == "nearest-exact" ? 0.5 * scale : 0.0;
    } else if (o_.mode() == "area") {
      scale = double(in[d]) / double(p.shape[d]); // the box [o, o + 1) scaled: in / out each
    } else if (p.shape[d] == in[d]) {
      scale = 1.0; // torch's scale is exactly 1 here, and the position the index
    } else if (o_.align_corners().value_or(false)) {
      scale = p.shape[d] > 1 ? double(in[d] - 1) / double(p.shape[d] - 1) : 0.0;
    } else { // scale (o + 0.5) - 0.5; below 0 the border padding reads index 0, as torch
      scale = double(in[d]) / double(p.shape[d]);
      shift = (scale - 1.0) / 2.0;
    }
  }
  if (p.shape != in)
    p.meta.affine = rs::compose(meta.affine, rs::scaleAffine(in, p.shape));
  p.meta.applied_operations.push_back(interpRecord("Resize", in, o_.mode(), o_.align_corners()));
  return p;
}

} // namespace med::transforms
