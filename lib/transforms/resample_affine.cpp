// Affine and Rotate (MONAI semantics): grid_sample in float32 with a matrix in centred voxel
// coordinates.
#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <algorithm>
#include <cmath>

#include "med/transforms/spatial.h"
#include "resample_impl.h"

namespace med::transforms {
namespace {

// Writes entry (i, j) of a contiguous square float32 or float64 matrix: element writes through
// `m[i][j] = v` cost two dispatched ATen ops each, and plans are built on every call.
void setEntry(at::Tensor &m, int64_t i, int64_t j, double v) {
  const int64_t k = m.size(1);
  if (m.scalar_type() == at::kFloat)
    m.data_ptr<float>()[i * k + j] = static_cast<float>(v);
  else
    m.data_ptr<double>()[i * k + j] = v;
}

at::Tensor translate(int64_t n, const std::vector<double> &t, at::ScalarType dt = at::kDouble) {
  at::Tensor m = at::eye(n + 1, dt);
  for (int64_t d = 0; d < n && d < static_cast<int64_t>(t.size()); ++d)
    setEntry(m, d, n, t[d]);
  return m;
}

// MONAI's create_rotate: 2D one angle; 3D about axis 0, then 1, then 2 (matrices multiplied in
// that order).
at::Tensor rotation(int64_t n, const std::vector<double> &rad, const std::string &where,
                    at::ScalarType dt = at::kDouble) {
  // float32 as MONAI's torch backend (AffineGrid): sin/cos of float32 angles.
  auto cosT = [&](double a) { return dt == at::kFloat ? double(std::cos(float(a))) : std::cos(a); };
  auto sinT = [&](double a) { return dt == at::kFloat ? double(std::sin(float(a))) : std::sin(a); };
  at::Tensor m = at::eye(n + 1, dt);
  if (rad.empty())
    throw Error(where, "expected at least one angle");
  if (n == 2) {
    const double c = cosT(rad[0]), s = sinT(rad[0]);
    setEntry(m, 0, 0, c), setEntry(m, 0, 1, -s), setEntry(m, 1, 0, s), setEntry(m, 1, 1, c);
    return m;
  }
  const int64_t planes[3][2] = {{1, 2}, {2, 0}, {0, 1}};
  for (size_t k = 0; k < rad.size() && k < 3; ++k) {
    at::Tensor r = at::eye(4, dt);
    const double c = cosT(rad[k]), s = sinT(rad[k]);
    const int64_t a = planes[k][0], b = planes[k][1];
    setEntry(r, a, a, c), setEntry(r, a, b, -s), setEntry(r, b, a, s), setEntry(r, b, b, c);
    m = at::matmul(m, r);
  }
  return m;
}

std::vector<int64_t> fallBack(const std::vector<int64_t> &want, const std::vector<int64_t> &have) {
  std::vector<int64_t> out = have;
  for (size_t d = 0; d < want.size() && d < out.size(); ++d)
    if (want[d] > 0)
      out[d] = want[d];
  return out;
}

ResamplePlan rotateGeometry(const RotateOptions &o, const std::vector<int64_t> &in,
                            const Meta &meta);

} // namespace

namespace rs {

void sampleSingletonAxesAsEager(std::vector<double> &matrix, const std::vector<int64_t> &in,
                                bool alignCorners, double unaligned) {
  const size_t n = in.size();
  for (size_t d = 0; d < n; ++d)
    if (in[d] == 1)
      for (size_t c = 0; c <= n; ++c)
        matrix[d * (n + 1) + c] *= alignCorners ? 0.0 : unaligned;
}

void centreSingletonOutputs(std::vector<double> &matrix, const std::vector<int64_t> &out,
                            bool alignCorners) {
  const size_t n = out.size();
  if (alignCorners)
    for (size_t j = 0; j < n; ++j)
      if (out[j] == 1)
        for (size_t r = 0; r < n; ++r)
          matrix[r * (n + 1) + n] += 0.5 * matrix[r * (n + 1) + j];
}

} // namespace rs

// --- Affine --------------------------------------------------------------------------------------

Affine::Affine(Options o) : o_(std::move(o)) {
  rs::gridMode(o_.mode(), "Affine.mode", true);
  rs::gridPadding(o_.padding_mode(), "Affine.padding_mode", rs::splineOrder(o_.mode()) >= 0);
  const size_t na = o_.affine().size();
  if (na != 0 && na != 9 && na != 16)
    throw Error("Affine.affine", "expected 9 (2D) or 16 (3D) values, got " + std::to_string(na));
}

at::Tensor Affine::matrix(int64_t n) const {
  if (!o_.affine().empty()) {
    const int64_t k = o_.affine().size() == 9 ? 3 : 4;
    if (k != n + 1)
      throw Error("Affine.affine", "a " + std::to_string(k) + "x" + std::to_string(k) +
                                       " matrix does not fit an image with " + std::to_string(n) +
                                       " spatial axes");
    return at::tensor(o_.affine(), at::kDouble).reshape({k, k});
  }
  const auto f = at::kFloat; // MONAI's AffineGrid builds the matrix in float32
  at::Tensor m = at::eye(n + 1, f);
  if (!o_.rotate_params().empty())
    m = at::matmul(m, rotation(n, o_.rotate_params(), "Affine.rotate_params", f));
  if (!o_.shear_params().empty()) { // create_shear
    std::vector<double> c = o_.shear_params();
    c.resize(n == 2 ? 2 : 6, 0.0);
    at::Tensor s = at::eye(n + 1, f);
    if (n == 2) {
      setEntry(s, 0, 1, c[0]), setEntry(s, 1, 0, c[1]);
    } else {
      setEntry(s, 0, 1, c[0]), setEntry(s, 0, 2, c[1]), setEntry(s, 1, 0, c[2]);
      setEntry(s, 1, 2, c[3]), setEntry(s, 2, 0, c[4]), setEntry(s, 2, 1, c[5]);
    }
    m = at::matmul(m, s);
  }
  if (!o_.translate_params().empty())
    m = at::matmul(m, translate(n, o_.translate_params(), f));
  if (!o_.scale_params().empty()) {
    at::Tensor s = at::eye(n + 1, f);
    for (int64_t d = 0; d < n && d < static_cast<int64_t>(o_.scale_params().size()); ++d)
      setEntry(s, d, d, o_.scale_params()[d]);
    m = at::matmul(m, s);
  }
  return m.to(at::kDouble);
}

MetaTensor Affine::eager(const MetaTensor &img) const {
  const int64_t n = detail::spatialRank(img.data, name());
  const std::vector<int64_t> in = rs::spatialShape(img.data);
  const std::vector<int64_t> out = fallBack(o_.spatial_size(), in);
  // MONAI builds and applies the matrix in float32 (so does its output affine).
  const at::Tensor a = matrix(n);
  // AffineGrid: centred output coordinates (float32) mapped by the matrix.
  std::vector<at::Tensor> axes;
  for (int64_t d = 0; d < n; ++d)
    axes.push_back(at::linspace(-(out[d] - 1) / 2.0, (out[d] - 1) / 2.0, out[d], at::kFloat));
  std::vector<at::Tensor> mesh = at::meshgrid(axes, "ij");
  mesh.push_back(at::ones_like(mesh[0]));
  at::Tensor grid = at::stack(mesh).reshape({n + 1, -1});
  grid = at::matmul(a.to(at::kFloat), grid);
  if (const int64_t order = rs::splineOrder(o_.mode()); order >= 0) { // scipy's map_coordinates
    std::vector<int64_t> cshape{n};
    cshape.insert(cshape.end(), out.begin(), out.end());
    at::Tensor data =
        rs::splineResample(img.data.to(at::kFloat), grid.slice(0, 0, n).reshape(cshape), order,
                           o_.padding_mode(), o_.align_corners(), "Affine");
    return MetaTensor(data, plan(in, img.meta, nullptr).meta);
  }
  // Resample(norm_coords=True): centred input coordinates -> [-1, 1], reversed to (W, H, D).
  std::vector<at::Tensor> rows;
  for (int64_t d = n - 1; d >= 0; --d) {
    const double dim = double(std::max<int64_t>(in[d], 2));
    rows.push_back(grid[d] * float(o_.align_corners() ? 2.0 / (dim - 1.0) : 2.0 / dim));
  }
  std::vector<int64_t> gshape{1};
  gshape.insert(gshape.end(), out.begin(), out.end());
  gshape.push_back(n);
  at::Tensor g = at::stack(rows, 1).reshape(gshape);
  at::Tensor data = rs::gridSample(img.data.to(at::kFloat).unsqueeze(0), g, o_.mode(),
                                   o_.padding_mode(), o_.align_corners(), "Affine")
                        .squeeze(0);
  return MetaTensor(data, plan(in, img.meta, nullptr).meta);
}

bool Affine::traceable() const { return resampleSupports(o_.mode(), o_.padding_mode()); }

void Affine::trace(frontend::ChainSpec &chain) const {
  traceResample(*this, chain, o_.mode(), tracedPadding(o_.padding_mode(), o_.align_corners()),
                rt::DType::Float32);
}

ResamplePlan Affine::plan(const std::vector<int64_t> &in, const Meta &meta, const double *) const {
  const int64_t n = static_cast<int64_t>(in.size());
  const std::vector<int64_t> out = fallBack(o_.spatial_size(), in);
  // Affine.compute_w_affine: the matrix in (uncentred) voxel indices.
  std::vector<double> s1(n), s2(n);
  for (int64_t d = 0; d < n; ++d)
    s1[d] = (in[d] - 1) / 2.0, s2[d] = -(out[d] - 1) / 2.0;
  at::Tensor xform = at::matmul(at::matmul(translate(n, s1), matrix(n)), translate(n, s2));
  ResamplePlan p;
  p.shape = out;
  at::Tensor m = xform.slice(0, 0, n).contiguous();
  p.matrix.assign(m.data_ptr<double>(), m.data_ptr<double>() + m.numel());
  p.meta = meta;
  p.meta.affine = rs::compose(meta.affine, xform);
  p.meta.applied_operations.push_back(
      rs::gridRecord("Affine", in, xform, rs::gridMode(o_.mode(), "", true),
                     rs::gridPadding(o_.padding_mode(), "", true), o_.align_corners()));
  rs::sampleSingletonAxesAsEager(p.matrix, in, o_.align_corners(), 0.5);
  return p;
}

// --- Rotate --------------------------------------------------------------------------------------

Rotate::Rotate(Options o) : o_(std::move(o)) {
  if (o_.angle().empty())
    throw Error("Rotate.angle", "expected at least one angle");
  for (double a : o_.angle())
    if (!std::isfinite(a))
      throw Error("Rotate.angle", "angles must be finite");
  rs::gridMode(o_.mode(), "Rotate.mode");
  rs::gridPadding(o_.padding_mode(), "Rotate.padding_mode");
}

MetaTensor Rotate::eager(const MetaTensor &img) const {
  detail::spatialRank(img.data, name());
  const ResamplePlan p = rotateGeometry(o_, rs::spatialShape(img.data), img.meta);
  at::Tensor xform = at::eye(p.shape.size() + 1, at::kDouble);
  const int64_t n = static_cast<int64_t>(p.shape.size());
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c <= n; ++c)
      xform[r][c] = p.matrix[r * (n + 1) + c];
  return rs::gridResample(img, xform, p.shape, "Rotate", o_.mode(), o_.padding_mode(),
                          o_.align_corners(), at::kFloat, false);
}

bool Rotate::traceable() const { return resampleSupports(o_.mode(), o_.padding_mode()); }

void Rotate::trace(frontend::ChainSpec &chain) const {
  traceResample(*this, chain, o_.mode(), tracedPadding(o_.padding_mode(), o_.align_corners()),
                rt::DType::Float32);
}

ResamplePlan Rotate::plan(const std::vector<int64_t> &in, const Meta &meta, const double *) const {
  ResamplePlan p = rotateGeometry(o_, in, meta);
  rs::centreSingletonOutputs(p.matrix, p.shape, o_.align_corners());
  rs::sampleSingletonAxesAsEager(p.matrix, in, o_.align_corners(), 1.0);
  return p;
}

namespace {

/// Rotate's output shape, map and metadata as eager uses them (plan() adapts the map to the
/// kernel's singleton-axis rule).
ResamplePlan rotateGeometry(const RotateOptions &o, const std::vector<int64_t> &in,
                            const Meta &meta) {
  const int64_t n = static_cast<int64_t>(in.size());
  std::vector<double> ang = o.angle();
  if (ang.size() == 1 && n == 3) // ensure_tuple_rep
    ang.assign(3, ang[0]);
  at::Tensor r = rotation(n, ang, "Rotate.angle");
  std::vector<int64_t> out = in;
  if (!o.keep_size()) { // the rotated box of the corners (0, dim), ptp + 0.5, truncated
    const int64_t nc = int64_t(1) << n;
    at::Tensor corners = at::zeros({n, nc}, at::kDouble);
    for (int64_t k = 0; k < nc; ++k)
      for (int64_t d = 0; d < n; ++d)
        corners[d][k] = ((k >> (n - 1 - d)) & 1) ? double(in[d]) : 0.0;
    at::Tensor c = at::matmul(r.slice(0, 0, n).slice(1, 0, n), corners);
    at::Tensor ptp = std::get<0>(c.max(1)) - std::get<0>(c.min(1)) + 0.5;
    for (int64_t d = 0; d < n; ++d)
      out[d] = static_cast<int64_t>(ptp[d].item<double>());
  }
  std::vector<double> s1(n), s2(n);
  for (int64_t d = 0; d < n; ++d)
    s1[d] = (in[d] - 1) / 2.0, s2[d] = -(out[d] - 1) / 2.0;
  at::Tensor xform = at::matmul(at::matmul(translate(n, s1), r), translate(n, s2));
  ResamplePlan p;
  p.shape = out;
  at::Tensor m = xform.slice(0, 0, n).contiguous();
  p.matrix.assign(m.data_ptr<double>(), m.data_ptr<double>() + m.numel());
  p.meta = meta;
  p.meta.affine = rs::compose(meta.affine, xform);
  p.meta.applied_operations.push_back(
      rs::gridRecord("Rotate", in, xform, rs::gridMode(o.mode(), ""),
                     rs::gridPadding(o.padding_mode(), ""), o.align_corners()));
  return p;
}

} // namespace

// --- SpatialResample -----------------------------------------------------------------------------

SpatialResample::SpatialResample(Options o) : o_(std::move(o)) {
  rs::gridMode(o_.mode(), "SpatialResample.mode");
  rs::gridPadding(o_.padding_mode(), "SpatialResample.padding_mode");
  if (o_.dst_affine() && o_.dst_affine()->size() != 16)
    throw Error("SpatialResample.dst_affine", "expected 16 values (4x4, row major), got " +
                                                  std::to_string(o_.dst_affine()->size()));
  if (o_.dst_affine()) {
    rt::Affine a{};
    std::copy(o_.dst_affine()->begin(), o_.dst_affine()->end(), a.begin());
    if (std::fabs(at::linalg_det(rs::affineNd(a, 3)).item<double>()) < 1e-12)
      throw Error("SpatialResample.dst_affine", "the matrix is not invertible");
  }
}

namespace {
// SpatialResample's target grid for an image of spatial shape `in` and voxel-to-world `affine`.
rs::GridTarget resampleTarget(const SpatialResampleOptions &o, const std::vector<int64_t> &in,
                              const rt::Affine &affine) {
  const int64_t n = static_cast<int64_t>(in.size());
  at::Tensor src = rs::affineNd(affine, n), dst = src.clone();
  if (o.dst_affine()) {
    rt::Affine a{};
    std::copy(o.dst_affine()->begin(), o.dst_affine()->end(), a.begin());
    dst = rs::affineNd(a, n);
  }
  std::vector<int64_t> out = in;
  if (!o.spatial_size()) {
    at::Tensor tmp = dst.clone(); // compute_shape_offset for the size only
    out = rs::shapeOffset(in, src, tmp, false);
  } else {
    out = fallBack(*o.spatial_size(), in);
  }
  return rs::gridTarget(src, dst, in, out);
}
} // namespace

MetaTensor SpatialResample::eager(const MetaTensor &img) const {
  detail::spatialRank(img.data, name());
  const std::vector<int64_t> in = rs::spatialShape(img.data);
  const rs::GridTarget t = resampleTarget(o_, in, img.meta.affine);
  if (t.unchanged) { // MONAI returns the input unchanged
    MetaTensor res(img.data.to(rs::gridOutputType(img.data.scalar_type())), img.meta);
    res.meta.applied_operations.push_back(
        rs::gridRecord(name(), in, t.xform, rs::gridMode(o_.mode(), ""),
                       rs::gridPadding(o_.padding_mode(), ""), o_.align_corners()));
    return res;
  }
  return rs::gridResample(img, t.xform, t.shape, name(), o_.mode(), o_.padding_mode(),
                          o_.align_corners(), at::kDouble, true);
}

bool SpatialResample::traceable() const { return rs::gridTraceable(o_.mode(), o_.padding_mode()); }

void SpatialResample::trace(frontend::ChainSpec &chain) const {
  rs::traceGrid(*this, chain, o_.mode(), tracedPadding(o_.padding_mode(), o_.align_corners()));
}

ResamplePlan SpatialResample::plan(const std::vector<int64_t> &in, const Meta &meta,
                                   const double *) const {
  return rs::gridPlan(name(), in, meta, resampleTarget(o_, in, meta.affine), o_.mode(),
                      o_.padding_mode(), o_.align_corners());
}

} // namespace med::transforms
