// Flip and Rotate90 (MONAI semantics), and the signed axis permutation that Flip, Rotate90,
// Orientation and their inverses share.
#include "med/transforms/spatial.h"

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <set>
#include <sstream>

#include "med/core/error.h"

namespace med::transforms {
namespace detail {

int64_t spatialRank(const at::Tensor &t, const std::string &where) {
  if (!t.defined())
    throw Error(where, "the image tensor is undefined");
  if (t.dim() != 3 && t.dim() != 4) {
    std::ostringstream os;
    os << "expected a channel-first image (C, X, Y) or (C, X, Y, Z), got a tensor of shape "
       << t.sizes();
    throw Error(where, os.str());
  }
  return t.dim() - 1;
}

MetaTensor permuteFlip(const MetaTensor &img, const std::vector<int64_t> &perm,
                       const std::vector<bool> &flip) {
  const int64_t nsp = img.data.dim() - 1;
  std::vector<int64_t> flipDims, order{0};
  Affine xform = rt::identityAffine();
  for (int64_t i = 0; i < nsp; ++i)
    xform[i * 4 + i] = 0.0;
  for (int64_t j = 0; j < nsp; ++j) {
    const int64_t i = perm[j];
    order.push_back(1 + i);
    // Output index n along axis j reads input index n (or size - 1 - n) along axis i.
    xform[i * 4 + j] = flip[j] ? -1.0 : 1.0;
    if (flip[j]) {
      flipDims.push_back(1 + i);
      xform[i * 4 + 3] = static_cast<double>(img.data.size(1 + i) - 1);
    }
  }
  at::Tensor data = flipDims.empty() ? img.data : at::flip(img.data, flipDims);
  MetaTensor out(data.permute(order).contiguous(), img.meta);
  out.meta.affine = rt::matmul(img.meta.affine, xform);
  return out;
}

void rotate90Axes(int64_t nsp, int64_t k, int64_t a, int64_t b, std::vector<int64_t> &perm,
                  std::vector<bool> &flip) {
  perm.resize(nsp);
  flip.assign(nsp, false);
  for (int64_t d = 0; d < nsp; ++d)
    perm[d] = d;
  // One quarter turn: out[.., i@a, .., j@b, ..] = in[.., j@a, .., N_b-1-i@b, ..].
  for (int64_t t = 0; t < k; ++t) {
    const int64_t pa = perm[a], pb = perm[b];
    const bool fa = flip[a], fb = flip[b];
    perm[a] = pb;
    flip[a] = !fb;
    perm[b] = pa;
    flip[b] = fa;
  }
}

double recordParam(const rt::OpRecord &r, const std::string &key) {
  for (const auto &[k, v] : r.params)
    if (k == key)
      return v;
  throw Error("inverse", "the record of '" + r.name + "' has no parameter '" + key +
                             "'; it was not written by Medulla's " + r.name);
}

} // namespace detail

namespace {

// MONAI's map_spatial_axes for one axis: negative axes count from the last spatial axis.
int64_t normaliseAxis(int64_t axis, int64_t nsp, const std::string &where) {
  if (axis < -nsp || axis >= nsp) {
    std::ostringstream os;
    os << "spatial axis " << axis << " is out of range for an image with " << nsp
       << " spatial axes; expected a value in [" << -nsp << ", " << nsp - 1 << "]";
    throw Error(where, os.str());
  }
  return axis < 0 ? axis + nsp : axis;
}

// Axes are checked once against the largest rank at construction and again per image.
void checkAxesLiteral(const std::vector<int64_t> &axes, const std::string &where) {
  std::set<int64_t> seen;
  for (int64_t a : axes) {
    if (a < -3 || a > 2)
      throw Error(where, "spatial axis " + std::to_string(a) +
                             " is out of range; expected a value in [-3, 2] (x, y, z)");
    if (!seen.insert(a).second)
      throw Error(where, "spatial axis " + std::to_string(a) + " is given twice");
  }
}

std::vector<int64_t> spatialShape(const at::Tensor &t) {
  return std::vector<int64_t>(t.sizes().begin() + 1, t.sizes().end());
}

} // namespace

// --- Flip ----------------------------------------------------------------------------------------

Flip::Flip(Options o) : o_(std::move(o)) {
  if (o_.spatial_axis())
    checkAxesLiteral(*o_.spatial_axis(), "Flip.spatial_axis");
}

namespace {
// Flip's axes on an image with `nsp` spatial axes, and its record.
std::vector<bool> flipAxes(const FlipOptions &o, const std::vector<int64_t> &shape,
                           rt::OpRecord &rec) {
  const int64_t nsp = static_cast<int64_t>(shape.size());
  std::vector<bool> flip(nsp, !o.spatial_axis().has_value());
  if (o.spatial_axis())
    for (int64_t a : *o.spatial_axis()) {
      int64_t d = normaliseAxis(a, nsp, "Flip.spatial_axis");
      if (flip[d]) // e.g. {-1, 2} on a 3D image: torch.flip refuses repeated dims
        throw Error("Flip.spatial_axis", "axis " + std::to_string(d) + " is given twice");
      flip[d] = true;
    }
  rec = rt::OpRecord{"Flip", {}, shape};
  for (int64_t d = 0; d < nsp; ++d)
    rec.params.emplace_back("axis" + std::to_string(d), flip[d] ? 1.0 : 0.0);
  return flip;
}

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> perm(n);
  for (int64_t d = 0; d < n; ++d)
    perm[d] = d;
  return perm;
}
} // namespace

MetaTensor Flip::eager(const MetaTensor &img) const {
  const int64_t nsp = detail::spatialRank(img.data, name());
  rt::OpRecord rec;
  std::vector<bool> flip = flipAxes(o_, spatialShape(img.data), rec);
  MetaTensor out = detail::permuteFlip(img, iota(nsp), flip);
  out.meta.applied_operations.push_back(std::move(rec));
  return out;
}

void Flip::trace(frontend::ChainSpec &chain) const {
  traceResample(*this, chain, "nearest", "zeros", chain.output());
}

ResamplePlan Flip::plan(const std::vector<int64_t> &shape, const Meta &meta, const double *) const {
  rt::OpRecord rec;
  std::vector<bool> flip = flipAxes(o_, shape, rec);
  ResamplePlan p = permutePlan(shape, meta, iota(static_cast<int64_t>(shape.size())), flip);
  p.meta.applied_operations.push_back(std::move(rec));
  return p;
}

// --- Rotate90 ------------------------------------------------------------------------------------

Rotate90::Rotate90(Options o) : o_(std::move(o)), k_(((o_.k() % 4) + 4) % 4) {
  if (o_.spatial_axes().size() != 2)
    throw Error("Rotate90.spatial_axes", "expected 2 axes defining the plane to rotate, got " +
                                             std::to_string(o_.spatial_axes().size()));
  checkAxesLiteral(o_.spatial_axes(), "Rotate90.spatial_axes");
}

namespace {
// Rotate90's permutation and flips on an image of spatial shape `shape`, and its record.
void rotate90Map(const Rotate90Options &o, int64_t k, const std::vector<int64_t> &shape,
                 std::vector<int64_t> &perm, std::vector<bool> &flip, rt::OpRecord &rec) {
  const int64_t nsp = static_cast<int64_t>(shape.size());
  const int64_t a = normaliseAxis(o.spatial_axes()[0], nsp, "Rotate90.spatial_axes");
  const int64_t b = normaliseAxis(o.spatial_axes()[1], nsp, "Rotate90.spatial_axes");
  if (a == b)
    throw Error("Rotate90.spatial_axes", "the two axes name the same axis " + std::to_string(a));
  detail::rotate90Axes(nsp, k, a, b, perm, flip);
  rec = rt::OpRecord{"Rotate90",
                     {{"k", static_cast<double>(k)},
                      {"axis0", static_cast<double>(a)},
                      {"axis1", static_cast<double>(b)}},
                     shape};
}
} // namespace

MetaTensor Rotate90::eager(const MetaTensor &img) const {
  detail::spatialRank(img.data, name());
  std::vector<int64_t> perm;
  std::vector<bool> flip;
  rt::OpRecord rec;
  rotate90Map(o_, k_, spatialShape(img.data), perm, flip, rec);
  MetaTensor out = detail::permuteFlip(img, perm, flip);
  out.meta.applied_operations.push_back(std::move(rec));
  return out;
}

void Rotate90::trace(frontend::ChainSpec &chain) const {
  traceResample(*this, chain, "nearest", "zeros", chain.output());
}

ResamplePlan Rotate90::plan(const std::vector<int64_t> &shape, const Meta &meta,
                            const double *) const {
  std::vector<int64_t> perm;
  std::vector<bool> flip;
  rt::OpRecord rec;
  rotate90Map(o_, k_, shape, perm, flip, rec);
  ResamplePlan p = permutePlan(shape, meta, perm, flip);
  p.meta.applied_operations.push_back(std::move(rec));
  return p;
}

} // namespace med::transforms
