// Rand2DElastic and Rand3DElastic (MONAI semantics): a dense sampling grid in centred voxel
// coordinates (random displacement + the random affine), resampled once through grid_sample;
// compiled, a displaced med.resample (the deformation as its field, the rest as its matrix).
#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <ATen/TensorOperators.h>

#include <algorithm>
#include <cmath>

#include "med/core/error.h"
#include "med/runtime/launcher.h"
#include "med/runtime/memory.h"
#include "med/runtime/rng.h"
#include "med/transforms/resample_random.h"
#include "med/transforms/spatial.h"
#include "resample_impl.h"

namespace med::transforms {
namespace {

void checkPair(const std::vector<double> &r, bool positive, const std::string &where) {
  if (r.size() != 2 || !std::isfinite(r[0]) || !std::isfinite(r[1]) || r[0] > r[1] ||
      (positive && !(r[0] > 0)))
    throw Error(where, std::string("expected (min, max) with min <= max") +
                           (positive ? " and min > 0" : "") + ", got " + std::to_string(r.size()) +
                           " values");
}

// The RandAffine of an elastic transform (always fires once the elastic one does); its option
// errors name the elastic transform ("Rand2DElastic.rotate_range").
template <class O> RandAffine affinePart(const O &o, const std::string &name, int64_t rank) {
  if (o.spatial_size().size() > size_t(rank))
    throw Error(name + ".spatial_size", "expected at most " + std::to_string(rank) + " values");
  try {
    return RandAffine(RandAffineOptions()
                          .prob(1.0)
                          .rotate_range(o.rotate_range())
                          .shear_range(o.shear_range())
                          .translate_range(o.translate_range())
                          .scale_range(o.scale_range())
                          .mode(o.mode())
                          .padding_mode(o.padding_mode()));
  } catch (const Error &e) {
    std::string w = e.where(), msg = e.what();
    if (msg.rfind(w + ": ", 0) == 0)
      msg = msg.substr(w.size() + 2);
    throw Error(name + w.substr(w.find('.')), msg);
  }
}

// MONAI's create_grid (torch backend): centred coordinates times spacing, homogeneous, float32.
at::Tensor createGrid(const std::vector<int64_t> &size, const std::vector<double> &spacing) {
  std::vector<at::Tensor> axes;
  for (size_t d = 0; d < size.size(); ++d) {
    const double h = (size[d] - 1.0) / 2.0 * spacing[d];
    axes.push_back(at::linspace(-h, h, size[d], at::kFloat));
  }
  std::vector<at::Tensor> mesh = at::meshgrid(axes, "ij");
  mesh.push_back(at::ones_like(mesh[0]));
  return at::stack(mesh);
}

std::vector<int64_t> outSize(const std::vector<int64_t> &want, const std::vector<int64_t> &in) {
  std::vector<int64_t> out = in;
  for (size_t d = 0; d < want.size() && d < out.size(); ++d)
    if (want[d] > 0)
      out[d] = want[d];
  return out;
}

// The random affine (RandAffineGrid with a given grid): matrix @ grid, float32.
at::Tensor applyAffine(const RandAffine &a, const double *params, const at::Tensor &grid) {
  const int64_t n = grid.size(0) - 1;
  at::Tensor m = Affine(a.affineOptions(params)).matrix(n).to(at::kFloat);
  return at::matmul(m, grid.reshape({n + 1, -1})).reshape(grid.sizes());
}

std::array<uint32_t, 2> keyOf(const double *params) {
  return {static_cast<uint32_t>(params[1]), static_cast<uint32_t>(params[2])};
}

// The one rank error of both transforms, eager, traced or planned.
void checkAxes(int64_t got, int64_t want, const std::string &where) {
  if (got != want)
    throw Error(where, "expects an image with " + std::to_string(want) + " spatial axes, got " +
                           std::to_string(got));
}

void checkRank(const MetaTensor &img, int64_t want, const std::string &where) {
  checkAxes(detail::spatialRank(img.data, where), want, where);
}

// The plan of sampling the grid G(o) = A (o - c + f(o), 1) as sampleGrid does (A: an (n+1) x
// (n+1) affine in centred coordinates, c: the output's centre, f: `field`, (n, *out)). With
// grid_sample's align_corners false a grid value g along axis d reads input position
// g in / max(in, 2) + (in - 1) / 2, so the matrix is that scale and shift after A and c.
ResamplePlan gridPlan(const std::vector<int64_t> &in, const std::vector<int64_t> &out,
                      const at::Tensor &affine, at::Tensor field, const Meta &meta) {
  const int64_t n = static_cast<int64_t>(in.size());
  at::Tensor a = affine.to(at::kDouble).contiguous();
  const double *m = a.data_ptr<double>();
  ResamplePlan p{out, std::vector<double>(n * (n + 1)), meta};
  for (int64_t d = 0; d < n; ++d) {
    const double scale = double(in[d]) / double(std::max<int64_t>(in[d], 2));
    double shift = m[d * (n + 1) + n];
    for (int64_t k = 0; k < n; ++k) {
      p.matrix[d * (n + 1) + k] = scale * m[d * (n + 1) + k];
      shift -= m[d * (n + 1) + k] * (double(out[k]) - 1.0) / 2.0;
    }
    p.matrix[d * (n + 1) + n] = scale * shift + (double(in[d]) - 1.0) / 2.0;
  }
  p.field = std::move(field);
  return p;
}

// The output size of a plan for an input of spatial shape `in`, which must have `rank` axes.
std::vector<int64_t> plannedSize(const std::vector<int64_t> &want, const std::vector<int64_t> &in,
                                 size_t rank, const std::string &where) {
  checkAxes(static_cast<int64_t>(in.size()), static_cast<int64_t>(rank), where);
  return outSize(want, in);
}

// Both elastic transforms trace their draws, then a displaced resample (the plan that follows
// the draws fills its operands and its field).
void traceElastic(const RandomTransform &t, frontend::ChainSpec &chain, int64_t rank,
                  const std::string &mode, const std::string &padding) {
  if (chain.spatialRank != 0) // 0 while validating parameters
    checkAxes(chain.spatialRank, rank, t.name());
  chain.numParams += t.numParams();
  traceResample(t, chain, mode, padding, rt::DType::Float32, false, false, /*displaced=*/true);
}

// One pass of the zero-padded 1-D filter `k` (2 tail + 1 taps) along the middle axis of a
// float32 volume viewed as (outer, len, inner), `in` to `out`: conv3d's result up to the order
// of the float32 sums, which is fixed per voxel (taps in order), so it does not depend on the
// threads. Rows along the axis are accumulated whole, in strips of the contiguous axis that
// stay in cache while the taps reread them (conv3d's unfolded copy is taps times the volume).
// It runs on the launcher's pool with ATen's thread count: ATen's own (OpenMP) workers spin
// after a region and would take the cores from the kernel launched next.
void filterAxis(const float *in, float *out, int64_t outer, int64_t len, int64_t inner,
                const std::vector<float> &k) {
  const int64_t tail = static_cast<int64_t>(k.size() - 1) / 2;
  const int64_t strip = std::min<int64_t>(inner, 1024);
  const int64_t strips = (inner + strip - 1) / strip;
  rt::parallelFor(outer * strips, at::get_num_threads(), 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t o = b / strips, e0 = (b % strips) * strip, e1 = std::min(inner, e0 + strip);
      const float *src = in + o * len * inner;
      float *dst = out + o * len * inner;
      if (inner == 1) { // the innermost axis: taps outside, positions inside (vectorised)
        std::fill(dst, dst + len, 0.0f);
        for (int64_t j = 0; j <= 2 * tail; ++j) {
          const int64_t s = j - tail, lo = std::max<int64_t>(0, -s);
          const int64_t hi = std::min(len, len - s);
          for (int64_t i = lo; i < hi; ++i)
            dst[i] += k[j] * src[i + s];
        }
        continue;
      }
      for (int64_t i = 0; i < len; ++i) {
        float *row = dst + i * inner;
        std::fill(row + e0, row + e1, 0.0f);
        for (int64_t j = std::max<int64_t>(0, tail - i); j <= 2 * tail && i + j - tail < len; ++j) {
          const float *from = src + (i + j - tail) * inner, w = k[j];
          for (int64_t e = e0; e < e1; ++e)
            row[e] += w * from[e];
        }
      }
    }
  });
}

void putKey(rt::Rng &rng, std::vector<double> &params, size_t base) {
  const std::array<uint32_t, 2> k = rng.child(0).key();
  params[base + 1] = k[0];
  params[base + 2] = k[1];
}

} // namespace

namespace detail {

at::Tensor sampleGrid(const at::Tensor &img, const at::Tensor &grid, const std::string &mode,
                      const std::string &padding, const std::string &where) {
  const int64_t n = img.dim() - 1;
  const std::vector<int64_t> in = rs::spatialShape(img);
  at::Tensor g = grid.to(at::kFloat);
  at::Tensor last = g[n];
  last = at::where(last != 0, last, at::ones_like(last));
  if (const int64_t order = rs::splineOrder(mode); order >= 0)
    return rs::splineResample(img.to(at::kFloat), g.slice(0, 0, n) / last, order, padding, false,
                              where);
  std::vector<at::Tensor> rows; // norm_coords, reversed to (W, H, D)
  for (int64_t d = n - 1; d >= 0; --d)
    rows.push_back(g[d] / last * float(2.0 / double(std::max<int64_t>(in[d], 2))));
  std::vector<int64_t> gshape{1};
  gshape.insert(gshape.end(), grid.sizes().begin() + 1, grid.sizes().end());
  gshape.push_back(n);
  at::Tensor ng = at::stack(rows, -1).reshape(gshape);
  return rs::gridSample(img.to(at::kFloat).unsqueeze(0), ng, mode, padding, false, where)
      .squeeze(0);
}

} // namespace detail

// --- Rand2DElastic -------------------------------------------------------------------------------

Rand2DElastic::Rand2DElastic(Options o)
    : o_(std::move(o)), affine_(affinePart(o_, "Rand2DElastic", 2)) {
  if (!(o_.prob() >= 0.0 && o_.prob() <= 1.0))
    throw Error("Rand2DElastic.prob", "expected a probability in [0, 1]");
  if (o_.spacing().empty() || o_.spacing().size() > 2)
    throw Error("Rand2DElastic.spacing", "expected 1 or 2 values");
  for (double s : o_.spacing())
    if (!(s > 0) || !std::isfinite(s))
      throw Error("Rand2DElastic.spacing", "spacing must be positive and finite");
  checkPair(o_.magnitude_range(), false, "Rand2DElastic.magnitude_range");
}

void Rand2DElastic::sample(rt::Rng &rng, std::vector<double> &params) const {
  const size_t base = params.size();
  if (!(rng.uniform() < o_.prob())) {
    params.resize(base + 21, 0.0);
    return;
  }
  params.resize(base + 5, 0.0);
  params[base] = 1.0;
  putKey(rng, params, base); // RandDeformGrid: normals per control point, then the magnitude
  params[base + 3] = rng.uniform(o_.magnitude_range()[0], o_.magnitude_range()[1]);
  affine_.sample(rng, params);
}

bool Rand2DElastic::traceable() const { return resampleSupports(o_.mode(), o_.padding_mode()); }

void Rand2DElastic::trace(frontend::ChainSpec &chain) const {
  traceElastic(*this, chain, 2, o_.mode(), o_.padding_mode());
}

ResamplePlan Rand2DElastic::plan(const std::vector<int64_t> &in, const Meta &meta,
                                 const double *params) const {
  const std::vector<int64_t> sp = plannedSize(o_.spatial_size(), in, 2, name());
  // The grid less the identity: what each pixel adds to its index (the affine is in the grid).
  at::Tensor g = grid(sp, params);
  at::Tensor last = g[2];
  last = at::where(last != 0, last, at::ones_like(last));
  at::Tensor field = g.slice(0, 0, 2) / last - createGrid(sp, {1.0, 1.0}).slice(0, 0, 2);
  return gridPlan(in, sp, at::eye(3, at::kDouble), field, meta);
}

MetaTensor Rand2DElastic::eager(const MetaTensor &img, const double *params) const {
  checkRank(img, 2, name());
  const std::vector<int64_t> sp = outSize(o_.spatial_size(), rs::spatialShape(img.data));
  return MetaTensor(
      detail::sampleGrid(img.data, grid(sp, params), o_.mode(), o_.padding_mode(), name()),
      img.meta);
}

at::Tensor Rand2DElastic::grid(const std::vector<int64_t> &sp, const double *params) const {
  at::Tensor grid;
  if (params[0] == 0.0) {
    grid = createGrid(sp, {1.0, 1.0});
  } else {
    std::vector<double> s = o_.spacing();
    s.resize(2, s[0]);
    std::vector<int64_t> cs(2); // create_control_grid
    for (int d = 0; d < 2; ++d)
      cs[d] = sp[d] % 2 == 0 ? int64_t(std::ceil((sp[d] - 1.0) / (2.0 * s[d]) + 0.5) * 2 + 2)
                             : int64_t(std::ceil((sp[d] - 1.0) / (2.0 * s[d])) * 2 + 3);
    at::Tensor cg = createGrid(cs, s);
    const int64_t np = 2 * cs[0] * cs[1];
    std::vector<float> off(np);
    const double mag = params[3];
    for (int64_t i = 0; i < np; ++i)
      off[i] = float(mag * float(rt::voxelNormal(keyOf(params), uint64_t(i))));
    cg.slice(0, 0, 2).add_(at::tensor(off, at::kFloat).reshape({2, cs[0], cs[1]}));
    cg = applyAffine(affine_, params + 5, cg);
    const std::vector<int64_t> up = {int64_t(std::floor(cs[0] * s[0])),
                                     int64_t(std::floor(cs[1] * s[1]))};
    cg = at::upsample_bicubic2d(cg.unsqueeze(0), up, false).squeeze(0);
    for (int d = 0; d < 2; ++d) // CenterSpatialCrop(sp)
      cg = cg.narrow(1 + d, up[d] / 2 - sp[d] / 2, sp[d]);
    grid = cg;
  }
  return grid;
}

// --- Rand3DElastic -------------------------------------------------------------------------------

Rand3DElastic::Rand3DElastic(Options o)
    : o_(std::move(o)), affine_(affinePart(o_, "Rand3DElastic", 3)) {
  if (!(o_.prob() >= 0.0 && o_.prob() <= 1.0))
    throw Error("Rand3DElastic.prob", "expected a probability in [0, 1]");
  checkPair(o_.sigma_range(), true, "Rand3DElastic.sigma_range");
  checkPair(o_.magnitude_range(), false, "Rand3DElastic.magnitude_range");
}

void Rand3DElastic::sample(rt::Rng &rng, std::vector<double> &params) const {
  const size_t base = params.size();
  if (!(rng.uniform() < o_.prob())) {
    params.resize(base + 21, 0.0);
    return;
  }
  params.resize(base + 5, 0.0);
  params[base] = 1.0;
  putKey(rng, params, base); // per-voxel offsets, then magnitude, sigma, the affine
  params[base + 3] = rng.uniform(o_.magnitude_range()[0], o_.magnitude_range()[1]);
  params[base + 4] = rng.uniform(o_.sigma_range()[0], o_.sigma_range()[1]);
  affine_.sample(rng, params);
}

bool Rand3DElastic::traceable() const { return resampleSupports(o_.mode(), o_.padding_mode()); }

void Rand3DElastic::trace(frontend::ChainSpec &chain) const {
  traceElastic(*this, chain, 3, o_.mode(), o_.padding_mode());
}

ResamplePlan Rand3DElastic::plan(const std::vector<int64_t> &in, const Meta &meta,
                                 const double *params) const {
  const std::vector<int64_t> sp = plannedSize(o_.spatial_size(), in, 3, name());
  if (params[0] == 0.0)
    return gridPlan(in, sp, at::eye(4, at::kDouble), at::zeros({3, sp[0], sp[1], sp[2]}), meta);
  // The kernel adds the displacement to the voxel index and applies the affine itself.
  return gridPlan(in, sp, Affine(affine_.affineOptions(params + 5)).matrix(3),
                  displacement(sp, params, /*direct=*/true), meta);
}

MetaTensor Rand3DElastic::eager(const MetaTensor &img, const double *params) const {
  checkRank(img, 3, name());
  const std::vector<int64_t> sp = outSize(o_.spatial_size(), rs::spatialShape(img.data));
  at::Tensor grid = createGrid(sp, {1.0, 1.0, 1.0});
  if (params[0] != 0.0) {
    grid.slice(0, 0, 3).add_(displacement(sp, params, /*direct=*/false));
    grid = applyAffine(affine_, params + 5, grid);
  }
  return MetaTensor(detail::sampleGrid(img.data, grid, o_.mode(), o_.padding_mode(), name()),
                    img.meta);
}

at::Tensor Rand3DElastic::displacement(const std::vector<int64_t> &sp, const double *params,
                                       bool direct) const {
  const int64_t nv = 3 * sp[0] * sp[1] * sp[2];
  at::Tensor y = at::empty({3, 1, sp[0], sp[1], sp[2]}, at::kFloat);
  rt::preferHugePages(y.data_ptr(), y.nbytes()); // a fresh buffer per call: fewer page faults
  float *off = y.data_ptr<float>();
  rt::parallelFor((nv + 3) / 4, at::get_num_threads(), 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) { // U(-1, 1), four per Philox block
      const auto w =
          rt::philox4x32({uint32_t(b), uint32_t(uint64_t(b) >> 32), 0, 0}, keyOf(params));
      for (int64_t j = 0; j < 4 && 4 * b + j < nv; ++j)
        off[4 * b + j] = float(2.0 * rt::uniformFromBits(w[j]) - 1.0);
    }
  });
  // GaussianFilter(3, sigma, truncated=3.0): separable erf kernel, zero padding.
  const double sigma = params[4];
  const auto tail = static_cast<int64_t>(std::max(sigma * 3.0, 0.5) + 0.5);
  at::Tensor x = at::arange(-tail, tail + 1, at::kFloat);
  const float t = 0.70710678f / std::fabs(float(sigma));
  at::Tensor k = (0.5f * (at::erf(t * (x + 0.5f)) - at::erf(t * (x - 0.5f)))).clamp_min(0);
  if (!direct) {
    for (int64_t d = 0; d < 3; ++d) {
      std::vector<int64_t> ws(5, 1), pad(3, 0);
      ws[2 + d] = k.numel();
      pad[d] = tail;
      y = at::conv3d(y, k.reshape(ws), {}, 1, pad);
    }
    return y.squeeze(1) * float(params[3]);
  }
  // The magnitude rides on the last pass's taps (one rounding apart from eager's product).
  std::vector<float> taps(k.data_ptr<float>(), k.data_ptr<float>() + k.numel());
  at::Tensor other = at::empty_like(y);
  rt::preferHugePages(other.data_ptr(), other.nbytes());
  for (int64_t d = 0; d < 3; ++d) {
    int64_t outer = 3, inner = 1;
    for (int64_t a = 0; a < 3; ++a)
      (a < d ? outer : inner) *= a == d ? 1 : sp[a];
    if (d == 2)
      for (float &w : taps)
        w *= float(params[3]);
    filterAxis(y.data_ptr<float>(), other.data_ptr<float>(), outer, sp[d], inner, taps);
    std::swap(y, other);
  }
  return y.squeeze(1);
}

} // namespace med::transforms
