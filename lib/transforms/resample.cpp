// Shared resampling helpers (grid_sample and interpolate as MONAI calls them), Spacing, and the
// inverse of every record of resample.h.
#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <cmath>
#include <sstream>

#include "med/transforms/croppad.h"
#include "med/transforms/spatial.h"
#include "resample_impl.h"

namespace med::transforms {
namespace rs {

const char *const kGridModes[7] = {"nearest", "bilinear", "bicubic", "0", "1", "2", "3"};
const char *const kGridPaddings[11] = {"zeros",         "border",  "reflection", "constant",
                                       "grid-constant", "nearest", "mirror",     "reflect",
                                       "grid-mirror",   "wrap",    "grid-wrap"};
const char *const kInterpModes[7] = {"nearest", "nearest-exact", "linear", "bilinear",
                                     "bicubic", "trilinear",     "area"};

namespace {
// The index of `v` among the first N names, or a med::Error listing them.
int64_t lookup(const char *const *names, size_t N, const std::string &v, const std::string &where,
               const std::string &what) {
  std::string all;
  for (size_t i = 0; i < N; ++i) {
    if (v == names[i])
      return static_cast<int64_t>(i);
    all += std::string(i ? ", " : "") + "'" + names[i] + "'";
  }
  throw Error(where, "unknown " + what + " '" + v + "'; expected one of " + all);
}
} // namespace

int64_t gridMode(const std::string &m, const std::string &w, bool splines) {
  return lookup(kGridModes, splines ? 7 : 3, m, w, "mode");
}
int64_t gridPadding(const std::string &p, const std::string &w, bool splines) {
  return lookup(kGridPaddings, splines ? 11 : 3, p, w, "padding mode");
}
at::Tensor gridSample(const at::Tensor &img, const at::Tensor &grid, const std::string &mode,
                      const std::string &padding, bool alignCorners, const std::string &where) {
  const int64_t m = gridMode(mode, where + ".mode");
  if (m == 2 && img.dim() != 4)
    throw Error(where + ".mode", "bicubic needs an image with 2 spatial axes, got " +
                                     std::to_string(img.dim() - 2) +
                                     " (grid_sample has no 3-D bicubic)");
  // grid_sampler's codes: 0 bilinear, 1 nearest, 2 bicubic.
  return at::grid_sampler(img, grid,
                          m == 0   ? 1
                          : m == 1 ? 0
                                   : 2,
                          gridPadding(padding, where + ".padding_mode"), alignCorners);
}
int64_t interpMode(const std::string &m, const std::string &w) {
  return lookup(kInterpModes, 7, m, w, "mode");
}

std::vector<int64_t> spatialShape(const at::Tensor &t) {
  return std::vector<int64_t>(t.sizes().begin() + 1, t.sizes().end());
}

at::Tensor affineNd(const rt::Affine &a, int64_t nsp) {
  at::Tensor m = at::eye(nsp + 1, at::kDouble);
  auto acc = m.accessor<double, 2>();
  for (int64_t r = 0; r < nsp; ++r) {
    for (int64_t c = 0; c < nsp; ++c)
      acc[r][c] = a[r * 4 + c];
    acc[r][nsp] = a[r * 4 + 3];
  }
  return m;
}

rt::Affine embed(const at::Tensor &m) {
  at::Tensor d = m.to(at::kDouble).contiguous();
  const int64_t nsp = d.size(0) - 1;
  auto acc = d.accessor<double, 2>();
  rt::Affine a = rt::identityAffine();
  for (int64_t r = 0; r < nsp; ++r) {
    for (int64_t c = 0; c < nsp; ++c)
      a[r * 4 + c] = acc[r][c];
    a[r * 4 + 3] = acc[r][nsp];
  }
  return a;
}

rt::Affine compose(const rt::Affine &a, const at::Tensor &xform) {
  return rt::matmul(a, embed(xform));
}

at::Tensor scaleAffine(const std::vector<int64_t> &in, const std::vector<int64_t> &out) {
  const int64_t r = static_cast<int64_t>(in.size());
  at::Tensor m = at::eye(r + 1, at::kDouble);
  if (in == out)
    return m;
  auto acc = m.accessor<double, 2>();
  for (int64_t d = 0; d < r; ++d) {
    const double s = double(in[d]) / double(std::max<int64_t>(out[d], 1));
    acc[d][d] = s;
    acc[d][r] = (s - 1.0) / 2.0;
  }
  return m;
}

rt::OpRecord gridRecord(const std::string &name, const std::vector<int64_t> &orig,
                        const at::Tensor &xform, int64_t mode, int64_t padding, bool align) {
  rt::OpRecord rec{name, {}, orig};
  at::Tensor d = xform.to(at::kDouble).contiguous();
  const double *v = d.data_ptr<double>(); // not d[i].item(): two dispatched ops per entry
  for (int64_t i = 0; i < d.numel(); ++i)
    rec.params.emplace_back("m" + std::to_string(i), v[i]);
  rec.params.emplace_back("mode", double(mode));
  rec.params.emplace_back("padding_mode", double(padding));
  rec.params.emplace_back("align_corners", align ? 1.0 : 0.0);
  return rec;
}

MetaTensor gridResample(const MetaTensor &img, const at::Tensor &xform,
                        const std::vector<int64_t> &dstSize, const std::string &name,
                        const std::string &mode, const std::string &padding, bool align,
                        at::ScalarType dtype, bool keepDtype) {
  at::Tensor x = xform.to(dtype);
  at::Tensor out = detail::affineTransform(img.data.to(dtype), x, dstSize, mode, padding, align);
  const auto outType = keepDtype ? gridOutputType(img.data.scalar_type()) : at::kFloat;
  MetaTensor res(out.to(outType), img.meta);
  res.meta.affine = compose(img.meta.affine, xform);
  res.meta.applied_operations.push_back(
      gridRecord(name, spatialShape(img.data), xform, gridMode(mode, name + ".mode"),
                 gridPadding(padding, name + ".padding_mode"), align));
  return res;
}

// MONAI's compute_shape_offset: output size and the world position of output voxel 0.
std::vector<int64_t> shapeOffset(const std::vector<int64_t> &shape, const at::Tensor &inAff,
                                 at::Tensor &outAff, bool scaleExtent) {
  const int64_t n = static_cast<int64_t>(shape.size()), nc = int64_t(1) << n;
  at::Tensor corners = at::ones({n + 1, nc}, at::kDouble);
  for (int64_t k = 0; k < nc; ++k)
    for (int64_t d = 0; d < n; ++d) { // meshgrid(indexing="ij"): the last axis varies fastest
      const bool hi = (k >> (n - 1 - d)) & 1;
      corners[d][k] = scaleExtent ? (hi ? shape[d] - 0.5 : -0.5) : (hi ? shape[d] - 1.0 : 0.0);
    }
  at::Tensor world = at::matmul(inAff, corners);
  at::Tensor inv = at::linalg_inv(outAff);
  at::Tensor co = at::matmul(inv, world);
  co = co.slice(0, 0, n) / co.slice(0, n, n + 1);
  at::Tensor ptp = std::get<0>(co.max(1)) - std::get<0>(co.min(1));
  std::vector<int64_t> out(n);
  std::vector<double> outD(n);
  for (int64_t d = 0; d < n; ++d) {
    outD[d] = std::nearbyint(ptp[d].item<double>() + (scaleExtent ? 0.0 : 1.0));
    out[d] = static_cast<int64_t>(outD[d]);
  }
  at::Tensor dist = at::matmul(inv.slice(0, 0, n).slice(1, 0, n), world.slice(0, 0, n));
  std::optional<at::Tensor> offset;
  for (int64_t i = 0; i < nc && !offset; ++i) {
    at::Tensor mn = std::get<0>((dist - dist.slice(1, i, i + 1)).min(1));
    if (mn.abs().max().item<double>() <= 1e-8)
      offset = world.slice(0, 0, n).select(1, i);
  }
  at::Tensor shapeT = at::tensor(std::vector<double>(shape.begin(), shape.end()), at::kDouble);
  if (!offset) // centre the output on the input
    offset = at::matmul(inAff.slice(0, 0, n).slice(1, 0, n), shapeT / 2.0) +
             inAff.slice(0, 0, n).select(1, n) -
             at::matmul(outAff.slice(0, 0, n).slice(1, 0, n), at::tensor(outD, at::kDouble) / 2.0);
  if (scaleExtent) {
    at::Tensor inOff = at::ones({n + 1}, at::kDouble);
    inOff.slice(0, 0, n).copy_(0.5 * (shapeT / at::tensor(outD, at::kDouble) - 1.0));
    at::Tensor w = at::matmul(inAff, inOff);
    offset = (w.slice(0, 0, n) / w[n]).abs() * at::sign(*offset);
  }
  outAff.slice(0, 0, n).select(1, n).copy_(*offset);
  return out;
}

GridTarget gridTarget(const at::Tensor &src, const at::Tensor &dst, const std::vector<int64_t> &in,
                      const std::vector<int64_t> &shape) {
  GridTarget t{at::linalg_solve(src, dst), shape, false};
  const at::Tensor eye = at::eye(src.size(0), at::kDouble);
  t.unchanged =
      (at::allclose(src, dst, 1e-5, 1e-3) || at::allclose(t.xform, eye, 1e-5, 1e-3)) && shape == in;
  if (t.unchanged)
    t.xform = eye;
  return t;
}

ResamplePlan gridPlan(const std::string &name, const std::vector<int64_t> &in, const Meta &meta,
                      const GridTarget &target, const std::string &mode, const std::string &padding,
                      bool align) {
  const int64_t n = static_cast<int64_t>(in.size());
  ResamplePlan p;
  p.shape = target.shape;
  at::Tensor m = target.xform.slice(0, 0, n).contiguous();
  p.matrix.assign(m.data_ptr<double>(), m.data_ptr<double>() + m.numel());
  p.meta = meta;
  p.meta.applied_operations.push_back(
      gridRecord(name, in, target.xform, gridMode(mode, ""), gridPadding(padding, ""), align));
  if (target.unchanged) // the identity map returns every voxel exactly (med.resample)
    return p;
  p.meta.affine = compose(meta.affine, target.xform);
  // grid_sample through to_norm_affine, as eager: one-voxel axes as it samples them.
  centreSingletonOutputs(p.matrix, p.shape, align);
  sampleSingletonAxesAsEager(p.matrix, in, align, 1.0);
  return p;
}

at::ScalarType gridOutputType(at::ScalarType in) {
  return in == at::kDouble ? at::kDouble : at::kFloat;
}

void boundWholeOutput(ResamplePlan &p) {
  if (!p.bounds.empty())
    return;
  for (int64_t s : p.shape) {
    p.bounds.push_back(0.0);
    p.bounds.push_back(double(s) - 1.0);
  }
}

bool gridTraceable(const std::string &mode, const std::string &padding) {
  return mode != "nearest" && resampleSupports(mode, padding);
}

void traceGrid(const Transform &t, frontend::ChainSpec &chain, const std::string &mode,
               const std::string &padding) {
  traceResample(t, chain, mode, padding,
                chain.output() == rt::DType::Float64 ? rt::DType::Float64 : rt::DType::Float32);
}
} // namespace rs

namespace detail {

namespace {
// MONAI's normalize_transform: voxel index -> grid_sample's [-1, 1] coordinates.
at::Tensor normalizeTransform(const std::vector<int64_t> &shape, at::ScalarType dtype, bool align) {
  const int64_t n = static_cast<int64_t>(shape.size());
  at::Tensor m = at::eye(n + 1, at::kDouble);
  auto acc = m.accessor<double, 2>();
  for (int64_t d = 0; d < n; ++d) {
    double s = double(shape[d]);
    if (align) {
      s = s <= 1.0 ? 2.0 : s;
      acc[d][d] = 2.0 / (s - 1.0);
      acc[d][n] = -1.0;
    } else {
      s = s <= 0.0 ? 2.0 : s;
      acc[d][d] = 2.0 / s;
      acc[d][n] = 1.0 / double(shape[d]) - 1.0;
    }
  }
  return m.to(dtype);
}
} // namespace

at::Tensor affineTransform(const at::Tensor &src, const at::Tensor &xform,
                           const std::vector<int64_t> &dstSize, const std::string &mode,
                           const std::string &padding, bool alignCorners) {
  const int64_t n = src.dim() - 1;
  if (const int64_t order = rs::splineOrder(mode); order >= 0) {
    // A spline record's inverse: the voxel map itself at the output's indices (align_corners
    // does not move a voxel map), as MONAI resamples with the inverted matrix.
    std::vector<at::Tensor> axes;
    for (int64_t s : dstSize)
      axes.push_back(at::arange(s, at::kDouble));
    std::vector<at::Tensor> mesh = at::meshgrid(axes, "ij");
    mesh.push_back(at::ones_like(mesh[0]));
    at::Tensor index = at::stack(mesh).reshape({n + 1, -1});
    std::vector<int64_t> cshape{n};
    cshape.insert(cshape.end(), dstSize.begin(), dstSize.end());
    at::Tensor coords = at::matmul(xform.to(at::kDouble).slice(0, 0, n), index).reshape(cshape);
    return rs::splineSample(src, coords, order, padding, "resample").to(src.scalar_type());
  }
  const auto dtype = xform.scalar_type();
  std::vector<int64_t> srcSize = rs::spatialShape(src);
  // to_norm_affine: src_norm @ xform @ inv(dst_norm), then reverse_indexing (x, y, z -> W, H, D).
  at::Tensor theta = at::matmul(at::matmul(normalizeTransform(srcSize, dtype, alignCorners), xform),
                                at::linalg_inv(normalizeTransform(dstSize, dtype, alignCorners)));
  std::vector<int64_t> rev;
  for (int64_t i = n - 1; i >= 0; --i)
    rev.push_back(i);
  rev.push_back(n);
  at::Tensor idx = at::tensor(rev, at::kLong);
  theta = theta.index_select(0, idx).index_select(1, idx).slice(0, 0, n).unsqueeze(0);
  std::vector<int64_t> size{1, src.size(0)};
  size.insert(size.end(), dstSize.begin(), dstSize.end());
  at::Tensor grid = at::affine_grid_generator(theta, size, alignCorners);
  at::Tensor out =
      rs::gridSample(src.unsqueeze(0).contiguous(), grid, mode, padding, alignCorners, "resample");
  return out.squeeze(0);
}

at::Tensor interpolate(const at::Tensor &x, const std::vector<int64_t> &size,
                       const std::string &mode, std::optional<bool> alignCorners,
                       const std::string &where) {
  const int64_t n = x.dim() - 1, m = rs::interpMode(mode, where + ".mode");
  at::Tensor in = x.unsqueeze(0);
  const bool linear = m >= 2 && m <= 5;
  if (!linear && alignCorners.has_value())
    throw Error(where + ".align_corners",
                "align_corners only applies to the linear and cubic modes, not '" + mode + "'");
  const bool ac = alignCorners.value_or(false);
  auto wrongRank = [&](int64_t want) {
    throw Error(where + ".mode", "mode '" + mode + "' needs " + std::to_string(want) +
                                     " spatial axes, the image has " + std::to_string(n));
  };
  at::Tensor out;
  switch (m) {
  case 0:
    out = n == 2 ? at::upsample_nearest2d(in, size) : at::upsample_nearest3d(in, size);
    break;
  case 1:
    out =
        n == 2 ? at::_upsample_nearest_exact2d(in, size) : at::_upsample_nearest_exact3d(in, size);
    break;
  case 2:
    wrongRank(1);
    break;
  case 3:
    if (n != 2)
      wrongRank(2);
    out = at::upsample_bilinear2d(in, size, ac);
    break;
  case 4:
    if (n != 2)
      wrongRank(2);
    out = at::upsample_bicubic2d(in, size, ac);
    break;
  case 5:
    if (n != 3)
      wrongRank(3);
    out = at::upsample_trilinear3d(in, size, ac);
    break;
  default:
    out = n == 2 ? at::adaptive_avg_pool2d(in, size) : at::adaptive_avg_pool3d(in, size);
  }
  return out.squeeze(0);
}

} // namespace detail

// --- Spacing -------------------------------------------------------------------------------------

Spacing::Spacing(Options o) : o_(std::move(o)) {
  if (o_.pixdim().empty())
    throw Error("Spacing.pixdim", "expected at least one value");
  rs::gridMode(o_.mode(), "Spacing.mode");
  rs::gridPadding(o_.padding_mode(), "Spacing.padding_mode");
}

namespace {
// MONAI's zoom_affine: the new spacing `scale` with the input's direction cosines (or diagonal).
at::Tensor zoomAffine(const at::Tensor &aff, std::vector<double> scale, bool diagonal) {
  const int64_t d = aff.size(0) - 1;
  at::Tensor rzs = aff.slice(0, 0, d).slice(1, 0, d);
  at::Tensor norm = rzs.pow(2).sum(0).sqrt();
  for (int64_t i = 0; i < d; ++i) {
    const double nv = norm[i].item<double>();
    if (scale[i] <= 0) // fall_back_tuple (a zero norm counts as 1, as affine_to_spacing)
      scale[i] = nv == 0 ? 1.0 : nv;
  }
  at::Tensor s = at::tensor(scale, at::kDouble);
  at::Tensor out = at::eye(d + 1, at::kDouble);
  if (diagonal) {
    out.slice(0, 0, d).slice(1, 0, d).copy_(at::diag(s));
    return out;
  }
  at::Tensor zs = at::linalg_cholesky(at::matmul(rzs.t(), rzs)).t();
  at::Tensor rotation = at::matmul(rzs, at::linalg_inv(zs));
  at::Tensor sg = at::sign(at::diagonal(zs)) * s.abs();
  out.slice(0, 0, d).slice(1, 0, d).copy_(at::matmul(rotation, at::diag(sg)));
  return out;
}

} // namespace

namespace {
// Spacing's target grid for an image of spatial shape `shape` and voxel-to-world `affine`:
// zoom_affine for the new spacing, compute_shape_offset for the size and origin.
rs::GridTarget spacingTarget(const SpacingOptions &o, const std::vector<int64_t> &shape,
                             const rt::Affine &affine) {
  const int64_t nsp = static_cast<int64_t>(shape.size());
  std::vector<double> pix = o.pixdim();
  pix.resize(std::min<size_t>(pix.size(), nsp));
  while (static_cast<int64_t>(pix.size()) < nsp)
    pix.push_back(pix.back());
  at::Tensor src = rs::affineNd(affine, nsp);
  at::Tensor dst = zoomAffine(src, pix, o.diagonal());
  std::vector<int64_t> outShape = rs::shapeOffset(shape, src, dst, o.scale_extent());
  for (int64_t s : outShape)
    if (s <= 0)
      throw Error("Spacing.pixdim", "the output would have an empty axis");
  return rs::gridTarget(src, dst, shape, outShape);
}
} // namespace

MetaTensor Spacing::eager(const MetaTensor &img) const {
  detail::spatialRank(img.data, name());
  const std::vector<int64_t> shape = rs::spatialShape(img.data);
  const rs::GridTarget t = spacingTarget(o_, shape, img.meta.affine);
  MetaTensor out;
  if (t.unchanged) { // MONAI skips resampling; the record keeps an identity
    out = MetaTensor(img.data.to(rs::gridOutputType(img.data.scalar_type())), img.meta);
    out.meta.applied_operations.push_back(
        rs::gridRecord("Spacing", shape, t.xform, rs::gridMode(o_.mode(), ""),
                       rs::gridPadding(o_.padding_mode(), ""), o_.align_corners()));
  } else {
    out = rs::gridResample(img, t.xform, t.shape, "Spacing", o_.mode(), o_.padding_mode(),
                           o_.align_corners(), at::kDouble, true);
  }
  if (o_.recompute_affine())
    out.meta.affine = rs::compose(img.meta.affine, rs::scaleAffine(shape, t.shape));
  return out;
}

bool Spacing::traceable() const { return rs::gridTraceable(o_.mode(), o_.padding_mode()); }

void Spacing::trace(frontend::ChainSpec &chain) const {
  rs::traceGrid(*this, chain, o_.mode(), tracedPadding(o_.padding_mode(), o_.align_corners()));
}

ResamplePlan Spacing::plan(const std::vector<int64_t> &shape, const Meta &meta,
                           const double *) const {
  const rs::GridTarget t = spacingTarget(o_, shape, meta.affine);
  ResamplePlan p =
      rs::gridPlan("Spacing", shape, meta, t, o_.mode(), o_.padding_mode(), o_.align_corners());
  if (o_.recompute_affine())
    p.meta.affine = rs::compose(meta.affine, rs::scaleAffine(shape, t.shape));
  return p;
}

// --- inverse -------------------------------------------------------------------------------------

namespace detail {

bool isResampleRecord(const std::string &name) {
  return name == "Spacing" || name == "SpatialResample" || name == "Affine" || name == "Rotate" ||
         name == "Zoom" || name == "Resize";
}

MetaTensor invertResample(const rt::OpRecord &rec, const MetaTensor &cur) {
  const int64_t nsp = cur.data.dim() - 1;
  const std::vector<int64_t> shape = rs::spatialShape(cur.data);
  if (rec.name == "Zoom" || rec.name == "Resize") {
    MetaTensor z = cur;
    if (rec.name == "Zoom") { // undo the keep_size pad/crop first (a crop comes back as zeros)
      Widths pad = getWidths(rec, "padded", nsp), crop = getWidths(rec, "cropped", nsp);
      z = cropThenPad(cur, pad, crop, "constant", 0.0, "inverse");
    }
    const auto m = static_cast<int64_t>(recordParam(rec, "mode"));
    const double ac = recordParam(rec, "align_corners");
    if (m < 0 || m > 6)
      throw Error("inverse", "the record of '" + rec.name + "' has an invalid mode");
    std::optional<bool> align;
    if (ac >= 0)
      align = ac != 0;
    const std::vector<int64_t> zs = rs::spatialShape(z.data);
    at::Tensor data =
        interpolate(z.data.to(at::kFloat), rec.orig_size, rs::kInterpModes[m], align, "inverse");
    MetaTensor out(data.to(cur.data.scalar_type()), z.meta);
    out.meta.affine = rs::compose(z.meta.affine, rs::scaleAffine(zs, rec.orig_size));
    return out;
  }
  std::vector<double> m((nsp + 1) * (nsp + 1));
  for (size_t i = 0; i < m.size(); ++i)
    m[i] = recordParam(rec, "m" + std::to_string(i));
  const auto mode = static_cast<int64_t>(recordParam(rec, "mode"));
  const auto pad = static_cast<int64_t>(recordParam(rec, "padding_mode"));
  if (mode < 0 || mode > 6 || pad < 0 || pad > 10 || (mode <= 2 && pad > 2))
    throw Error("inverse", "the record of '" + rec.name + "' has an invalid mode");
  at::Tensor inv = at::linalg_inv(at::tensor(m, at::kDouble).reshape({nsp + 1, nsp + 1}));
  at::Tensor data =
      affineTransform(cur.data.to(at::kDouble), inv, rec.orig_size, rs::kGridModes[mode],
                      rs::kGridPaddings[pad], recordParam(rec, "align_corners") != 0);
  MetaTensor out(data.to(cur.data.scalar_type()), cur.meta);
  out.meta.affine = rs::compose(cur.meta.affine, inv);
  return out;
}

} // namespace detail

} // namespace med::transforms
