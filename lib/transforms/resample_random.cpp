// RandAffine, RandRotate and RandZoom: draws in sample() (MONAI's randomize order), then the
// deterministic Affine / Rotate / Zoom with those parameters, whose records inverse() undoes.
#include "med/transforms/resample_random.h"

#include <ATen/Functions.h>

#include <algorithm>
#include <cmath>

#include "med/core/error.h"
#include "med/transforms/croppad.h"
#include "med/transforms/spatial.h"
#include "resample_impl.h"

namespace med::transforms {
namespace {

void checkProb(double p, const std::string &where) {
  if (!(p >= 0.0 && p <= 1.0))
    throw Error(where, "expected a probability in [0, 1], got " + std::to_string(p));
}

void checkRanges(const std::vector<RandRange> &r, size_t most, const std::string &where) {
  if (r.size() > most)
    throw Error(where, "expected at most " + std::to_string(most) + " ranges, got " +
                           std::to_string(r.size()));
  for (const RandRange &x : r)
    if (!std::isfinite(x.lo) || !std::isfinite(x.hi))
      throw Error(where, "range bounds must be finite");
}

// Runs `check` (a deterministic transform's constructor) and renames its error "X.p" to
// "RandX.p", so errors name the option the user set.
template <class F> void renamed(F &&check) {
  try {
    check();
  } catch (const Error &e) {
    const std::string &w = e.where();
    std::string msg = e.what();
    if (!w.empty() && msg.rfind(w + ": ", 0) == 0)
      msg = msg.substr(w.size() + 2);
    throw Error("Rand" + w, msg);
  }
}

// The output of a call that does not fire: the image as float32 (MONAI's convert_to_tensor),
// with `rec` pushed so inverse() pops one record per call.
MetaTensor identity(const MetaTensor &img, rt::OpRecord rec) {
  MetaTensor out(img.data.to(at::kFloat), img.meta);
  out.meta.applied_operations.push_back(std::move(rec));
  return out;
}

} // namespace

// --- RandAffine ----------------------------------------------------------------------------------

RandAffine::RandAffine(Options o) : o_(std::move(o)) {
  checkProb(o_.prob(), "RandAffine.prob");
  checkRanges(o_.rotate_range(), 3, "RandAffine.rotate_range");
  checkRanges(o_.shear_range(), 6, "RandAffine.shear_range");
  checkRanges(o_.translate_range(), 3, "RandAffine.translate_range");
  checkRanges(o_.scale_range(), 3, "RandAffine.scale_range");
  if (o_.spatial_size().size() > 3)
    throw Error("RandAffine.spatial_size",
                "expected at most 3 values, got " + std::to_string(o_.spatial_size().size()));
  rs::gridMode(o_.mode(), "RandAffine.mode", true);
  rs::gridPadding(o_.padding_mode(), "RandAffine.padding_mode", rs::splineOrder(o_.mode()) >= 0);
}

void RandAffine::sample(rt::Rng &rng, std::vector<double> &params) const {
  const size_t base = params.size();
  params.resize(base + 16, 0.0);
  if (!(rng.uniform() < o_.prob()))
    return;
  params[base] = 1.0;
  // RandAffineGrid.randomize: rotate, shear, translate, scale, each entry in order.
  auto draw = [&](const std::vector<RandRange> &r, size_t at, double add) {
    for (size_t i = 0; i < r.size(); ++i)
      params[base + at + i] = rng.uniform(r[i].lo, r[i].hi) + add;
  };
  draw(o_.rotate_range(), 1, 0.0);
  draw(o_.shear_range(), 4, 0.0);
  draw(o_.translate_range(), 10, 0.0);
  draw(o_.scale_range(), 13, 1.0);
}

AffineOptions RandAffine::affineOptions(const double *params) const {
  auto take = [&](size_t at, size_t n) {
    return std::vector<double>(params + at, params + at + n);
  };
  return AffineOptions()
      .rotate_params(take(1, o_.rotate_range().size()))
      .shear_params(take(4, o_.shear_range().size()))
      .translate_params(take(10, o_.translate_range().size()))
      .scale_params(take(13, o_.scale_range().size()))
      .spatial_size(o_.spatial_size())
      .mode(o_.mode())
      .padding_mode(o_.padding_mode());
}

MetaTensor RandAffine::eager(const MetaTensor &img, const double *params) const {
  const int64_t n = detail::spatialRank(img.data, name());
  if (params[0] != 0.0)
    return Affine(affineOptions(params)).eager(img);
  const std::vector<int64_t> in = rs::spatialShape(img.data);
  std::vector<int64_t> out = in;
  for (size_t d = 0; d < o_.spatial_size().size() && d < out.size(); ++d)
    if (o_.spatial_size()[d] > 0)
      out[d] = o_.spatial_size()[d];
  if (out != in) // MONAI resamples with the identity grid to spatial_size
    return Affine(AffineOptions().spatial_size(out).mode(o_.mode()).padding_mode(o_.padding_mode()))
        .eager(img);
  return identity(img, rs::gridRecord("Affine", in, at::eye(n + 1, at::kDouble),
                                      rs::gridMode(o_.mode(), "", true),
                                      rs::gridPadding(o_.padding_mode(), "", true), false));
}

// MONAI's RandAffine resamples without align_corners.
bool RandAffine::traceable() const { return resampleSupports(o_.mode(), o_.padding_mode()); }

void RandAffine::trace(frontend::ChainSpec &chain) const {
  chain.numParams += numParams(); // the draws; the kernel reads the plan that follows them
  traceResample(*this, chain, o_.mode(), o_.padding_mode(), rt::DType::Float32);
}

ResamplePlan RandAffine::plan(const std::vector<int64_t> &in, const Meta &meta,
                              const double *params) const {
  if (params[0] != 0.0)
    return Affine(affineOptions(params)).plan(in, meta, nullptr);
  std::vector<int64_t> out = in;
  for (size_t d = 0; d < o_.spatial_size().size() && d < out.size(); ++d)
    if (o_.spatial_size()[d] > 0)
      out[d] = o_.spatial_size()[d];
  if (out != in)
    return Affine(AffineOptions().spatial_size(out).mode(o_.mode()).padding_mode(o_.padding_mode()))
        .plan(in, meta, nullptr);
  const int64_t n = static_cast<int64_t>(in.size());
  ResamplePlan p{in, std::vector<double>(n * (n + 1), 0.0), meta};
  for (int64_t d = 0; d < n; ++d)
    p.matrix[d * (n + 1) + d] = 1.0;
  p.meta.applied_operations.push_back(
      rs::gridRecord("Affine", in, at::eye(n + 1, at::kDouble), rs::gridMode(o_.mode(), "", true),
                     rs::gridPadding(o_.padding_mode(), "", true), false));
  return p;
}

// --- RandRotate ----------------------------------------------------------------------------------

RandRotate::RandRotate(Options o) : o_(std::move(o)) {
  checkProb(o_.prob(), "RandRotate.prob");
  checkRanges({o_.range_x()}, 1, "RandRotate.range_x");
  checkRanges({o_.range_y()}, 1, "RandRotate.range_y");
  checkRanges({o_.range_z()}, 1, "RandRotate.range_z");
  rs::gridMode(o_.mode(), "RandRotate.mode");
  rs::gridPadding(o_.padding_mode(), "RandRotate.padding_mode");
}

void RandRotate::sample(rt::Rng &rng, std::vector<double> &params) const {
  const size_t base = params.size();
  params.resize(base + 4, 0.0);
  if (!(rng.uniform() < o_.prob()))
    return;
  params[base] = 1.0;
  // MONAI sorts a scalar range to (-|r|, |r|) and always draws x, y, z.
  const RandRange *r[3] = {&o_.range_x(), &o_.range_y(), &o_.range_z()};
  for (int i = 0; i < 3; ++i)
    params[base + 1 + i] = rng.uniform(std::min(r[i]->lo, r[i]->hi), std::max(r[i]->lo, r[i]->hi));
}

bool RandRotate::traceable() const { return resampleSupports(o_.mode(), o_.padding_mode()); }

void RandRotate::trace(frontend::ChainSpec &chain) const {
  chain.numParams += numParams();
  traceResample(*this, chain, o_.mode(), tracedPadding(o_.padding_mode(), o_.align_corners()),
                rt::DType::Float32);
}

ResamplePlan RandRotate::plan(const std::vector<int64_t> &in, const Meta &meta,
                              const double *params) const {
  const int64_t n = static_cast<int64_t>(in.size());
  if (params[0] == 0.0) {
    ResamplePlan p{in, std::vector<double>(n * (n + 1), 0.0), meta};
    for (int64_t d = 0; d < n; ++d)
      p.matrix[d * (n + 1) + d] = 1.0;
    p.meta.applied_operations.push_back(
        rs::gridRecord("Rotate", in, at::eye(n + 1, at::kDouble), rs::gridMode(o_.mode(), ""),
                       rs::gridPadding(o_.padding_mode(), ""), o_.align_corners()));
    return p;
  }
  std::vector<double> angle(params + 1, params + (n == 2 ? 2 : 4));
  return Rotate(RotateOptions(angle)
                    .keep_size(o_.keep_size())
                    .mode(o_.mode())
                    .padding_mode(o_.padding_mode())
                    .align_corners(o_.align_corners()))
      .plan(in, meta, nullptr);
}

MetaTensor RandRotate::eager(const MetaTensor &img, const double *params) const {
  const int64_t n = detail::spatialRank(img.data, name());
  if (params[0] == 0.0)
    return identity(img,
                    rs::gridRecord("Rotate", rs::spatialShape(img.data),
                                   at::eye(n + 1, at::kDouble), rs::gridMode(o_.mode(), ""),
                                   rs::gridPadding(o_.padding_mode(), ""), o_.align_corners()));
  std::vector<double> angle(params + 1, params + (n == 2 ? 2 : 4));
  return Rotate(RotateOptions(angle)
                    .keep_size(o_.keep_size())
                    .mode(o_.mode())
                    .padding_mode(o_.padding_mode())
                    .align_corners(o_.align_corners()))
      .eager(img);
}

// --- RandZoom ------------------------------------------------------------------------------------

RandZoom::RandZoom(Options o) : o_(std::move(o)) {
  checkProb(o_.prob(), "RandZoom.prob");
  const auto &lo = o_.min_zoom(), &hi = o_.max_zoom();
  if (lo.empty() || lo.size() > 3)
    throw Error("RandZoom.min_zoom", "expected 1 to 3 factors, got " + std::to_string(lo.size()));
  if (hi.size() != lo.size())
    throw Error("RandZoom.max_zoom", "expected as many factors as min_zoom (" +
                                         std::to_string(lo.size()) + "), got " +
                                         std::to_string(hi.size()));
  for (size_t i = 0; i < lo.size(); ++i) {
    if (!(lo[i] > 0) || !std::isfinite(lo[i]))
      throw Error("RandZoom.min_zoom", "factors must be positive and finite");
    if (!(hi[i] > 0) || !std::isfinite(hi[i]))
      throw Error("RandZoom.max_zoom", "factors must be positive and finite");
  }
  renamed([&] {
    Zoom(ZoomOptions({1.0})
             .mode(o_.mode())
             .padding_mode(o_.padding_mode())
             .align_corners(o_.align_corners()));
  });
  o_.padding_mode(detail::checkPadMode(o_.padding_mode(), "RandZoom.padding_mode"));
}

void RandZoom::sample(rt::Rng &rng, std::vector<double> &params) const {
  const size_t base = params.size();
  params.resize(base + 4, 0.0);
  if (!(rng.uniform() < o_.prob()))
    return;
  params[base] = 1.0;
  for (size_t i = 0; i < o_.min_zoom().size(); ++i)
    params[base + 1 + i] = rng.uniform(o_.min_zoom()[i], o_.max_zoom()[i]);
}

std::vector<double> RandZoom::factors(const double *params, int64_t nsp) const {
  const size_t k = o_.min_zoom().size();
  std::vector<double> z(params + 1, params + 1 + k);
  if (k == 1)
    z.assign(nsp, z[0]); // keeps the aspect ratio
  else if (k == 2 && nsp == 3)
    z = {z[0], z[0], z[1]}; // MONAI: the first for H and W, the second for D
  return z;
}

Zoom RandZoom::zoom(std::vector<double> z) const {
  return Zoom(ZoomOptions(std::move(z))
                  .mode(o_.mode())
                  .padding_mode(o_.padding_mode())
                  .align_corners(o_.align_corners())
                  .keep_size(o_.keep_size()));
}

namespace {
// A call that does not fire: the image as it is, recorded as a Zoom that changed nothing.
rt::OpRecord unzoomedRecord(const RandZoomOptions &o, const std::vector<int64_t> &shape) {
  const int64_t n = static_cast<int64_t>(shape.size());
  const std::optional<bool> &ac = o.align_corners();
  rt::OpRecord rec{"Zoom",
                   {{"mode", double(rs::interpMode(o.mode(), "RandZoom.mode"))},
                    {"align_corners", ac ? (*ac ? 1.0 : 0.0) : -1.0}},
                   shape};
  detail::putWidths(rec, "padded", detail::Widths(n, {0, 0}));
  detail::putWidths(rec, "cropped", detail::Widths(n, {0, 0}));
  return rec;
}
} // namespace

MetaTensor RandZoom::eager(const MetaTensor &img, const double *params) const {
  const int64_t n = detail::spatialRank(img.data, name());
  if (params[0] != 0.0)
    return zoom(factors(params, n)).eager(img);
  return identity(img, unzoomedRecord(o_, rs::spatialShape(img.data)));
}

bool RandZoom::traceable() const {
  // A call that does not fire returns float32 (MONAI), one that fires keeps the input's type:
  // one kernel cannot do both, so only a RandZoom that always fires compiles.
  // Otherwise as Zoom with the smallest factors, which pads back exactly when a draw may.
  return o_.prob() >= 1.0 && zoom(o_.min_zoom()).traceable();
}

void RandZoom::trace(frontend::ChainSpec &chain) const {
  chain.numParams += numParams(); // the draws; the kernel reads the plan that follows them
  // Zoom's trace with the smallest factors: bounded exactly when a draw may pad back.
  std::vector<double> lowest(4, 0.0);
  std::copy(o_.min_zoom().begin(), o_.min_zoom().end(), lowest.begin() + 1);
  zoom(factors(lowest.data(), chain.spatialRank)).trace(chain);
}

ResamplePlan RandZoom::plan(const std::vector<int64_t> &in, const Meta &meta,
                            const double *params) const {
  const int64_t n = static_cast<int64_t>(in.size());
  ResamplePlan p;
  if (params[0] != 0.0) {
    p = zoom(factors(params, n)).plan(in, meta, nullptr);
  } else {
    p = ResamplePlan{in, std::vector<double>(n * (n + 1), 0.0), meta};
    for (int64_t d = 0; d < n; ++d)
      p.matrix[d * (n + 1) + d] = 1.0;
    p.meta.applied_operations.push_back(unzoomedRecord(o_, in));
  }
  if (zoom(o_.min_zoom()).padsBack()) // traced bounded, whatever this draw pads
    rs::boundWholeOutput(p);
  return p;
}

} // namespace med::transforms
