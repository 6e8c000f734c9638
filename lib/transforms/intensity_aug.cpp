// MaskIntensity, RandCoarseDropout and RandHistogramShift (MONAI semantics), and the host-random
// base: (fires, sub-stream key) drawn in sample(), everything else drawn in eager() from it.
#include "med/transforms/intensity_aug.h"

#include "med/transforms/croppad.h"

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "med/core/error.h"
#include "med/transforms/spatial.h"

namespace med::transforms {
namespace {

void checkProb(const std::string &t, double p) {
  if (!(p >= 0.0 && p <= 1.0))
    throw Error(t + ".prob", "expected a probability in [0, 1], got " + std::to_string(p));
}

// numpy's RandomState.randint(lo, hi): an integer in [lo, hi), from one uniform draw.
int64_t randint(rt::Rng &rng, int64_t lo, int64_t hi) {
  if (hi <= lo + 1)
    return lo;
  auto k = static_cast<int64_t>(std::floor(rng.uniform() * static_cast<double>(hi - lo)));
  return lo + std::min(k, hi - lo - 1);
}

void checkSizes(const std::vector<int64_t> &v, const std::string &where) {
  if (v.empty() || v.size() > 3)
    throw Error(where, "expected one size or one per spatial axis, got " +
                           std::to_string(v.size()) + " values");
}

} // namespace

namespace detail {

at::Tensor isPositive(const at::Tensor &m) { return m > 0; }

rt::RandomKey subStream(const double *p, uint32_t part) {
  const uint64_t seed = (static_cast<uint64_t>(p[1]) << 32) | static_cast<uint64_t>(p[2]);
  return rt::RandomKey{seed, part, 0, 0};
}

void sampleSubStream(rt::Rng &rng, double prob, std::vector<double> &p) {
  p.push_back(rng.uniform() < prob ? 1.0 : 0.0);
  p.push_back(rng.key()[0]);
  p.push_back(rng.key()[1]);
}

} // namespace detail

// --- SubStreamTransform -------------------------------------------------------------------------

void SubStreamTransform::sample(rt::Rng &rng, std::vector<double> &p) const {
  detail::sampleSubStream(rng, prob(), p);
}

// --- MaskIntensity -------------------------------------------------------------------------------

MaskIntensity::MaskIntensity(Options o) : o_(std::move(o)) {
  if (!o_.mask_data().defined() || o_.mask_data().dim() < 3 || o_.mask_data().dim() > 4)
    throw Error(name() + ".mask_data", "expected a channel-first mask (C, X, Y) or (C, X, Y, Z)");
  if (!o_.select_fn())
    throw Error(name() + ".select_fn", "is empty");
}

MetaTensor MaskIntensity::eager(const MetaTensor &img) const {
  detail::spatialRank(img.data, name());
  const at::Tensor &m = o_.mask_data();
  if (m.dim() != img.data.dim() || m.sizes().slice(1) != img.data.sizes().slice(1) ||
      (m.size(0) != 1 && m.size(0) != img.data.size(0))) {
    std::ostringstream os;
    os << "mask of shape " << m.sizes() << " does not fit an image of shape " << img.data.sizes()
       << " (expected 1 or " << img.data.size(0) << " channels and the same spatial shape)";
    throw Error(name() + ".mask_data", os.str());
  }
  at::Tensor sel = o_.select_fn()(m.to(img.data.scalar_type()));
  return img.withData(img.data * sel.to(img.data.scalar_type()));
}

// --- RandCoarseDropout ---------------------------------------------------------------------------

RandCoarseDropout::RandCoarseDropout(Options o) : o_(std::move(o)) {
  checkProb(name(), o_.prob());
  if (o_.holes() < 1)
    throw Error(name() + ".holes",
                "expected a number of holes >= 1, got " + std::to_string(o_.holes()));
  if (o_.max_holes() && *o_.max_holes() < o_.holes())
    throw Error(name() + ".max_holes", "expected max_holes >= holes (" +
                                           std::to_string(o_.holes()) + "), got " +
                                           std::to_string(*o_.max_holes()));
  checkSizes(o_.spatial_size(), name() + ".spatial_size");
  if (o_.max_spatial_size())
    checkSizes(*o_.max_spatial_size(), name() + ".max_spatial_size");
  if (o_.fill_value() &&
      (!std::isfinite(o_.fill_value()->low) || !std::isfinite(o_.fill_value()->high) ||
       o_.fill_value()->low > o_.fill_value()->high))
    throw Error(name() + ".fill_value", "expected a finite value or (low, high) with low <= high");
}

std::vector<std::vector<std::pair<int64_t, int64_t>>>
RandCoarseDropout::holes(const at::Tensor &img, const double *p) const {
  detail::spatialRank(img, name());
  return holes(std::vector<int64_t>(img.sizes().begin() + 1, img.sizes().end()), p);
}

std::vector<std::vector<std::pair<int64_t, int64_t>>>
RandCoarseDropout::holes(const std::vector<int64_t> &shape, const double *p) const {
  const int64_t nsp = static_cast<int64_t>(shape.size());
  rt::Rng rng(detail::subStream(p));
  std::vector<int64_t> size =
      detail::fallBackTuple(o_.spatial_size(), shape, name() + ".spatial_size");
  const int64_t n = o_.max_holes() ? randint(rng, o_.holes(), *o_.max_holes() + 1) : o_.holes();
  std::vector<std::vector<std::pair<int64_t, int64_t>>> out;
  for (int64_t h = 0; h < n; ++h) {
    if (o_.max_spatial_size()) {
      // As MONAI, `size` is overwritten: a hole's minimum size is the previous hole's size.
      auto mx = detail::fallBackTuple(*o_.max_spatial_size(), shape, name() + ".max_spatial_size");
      for (int64_t d = 0; d < nsp; ++d)
        size[d] = randint(rng, size[d], mx[d] + 1);
    }
    std::vector<std::pair<int64_t, int64_t>> box(nsp);
    for (int64_t d = 0; d < nsp; ++d) {
      const int64_t ps = std::min(size[d], shape[d]);
      box[d] = {shape[d] > ps ? randint(rng, 0, shape[d] - ps + 1) : 0, ps};
    }
    out.push_back(std::move(box));
  }
  return out;
}

void RandCoarseDropout::sample(rt::Rng &rng, std::vector<double> &p) const {
  detail::sampleSubStream(rng, o_.prob(), p);
}

void RandCoarseDropout::inputStats(const at::Tensor &input, std::vector<double> &p) const {
  p.push_back(input.min().item<double>());
  p.push_back(input.max().item<double>());
}

void RandCoarseDropout::trace(frontend::ChainSpec &chain) const {
  const int n = chain.spatialRank;
  if (n != 2 && n != 3)
    throw Error(name(),
                "only 2D and 3D images are supported, got " + std::to_string(n) + " spatial axes");
  const int fires = chain.numParams;
  chain.numParams += numParams() + (needsInputStats() ? 2 : 0); // the draws, then min and max
  const int operands = 5 + n + static_cast<int>(maxHoles()) * 2 * n;
  frontend::OpSpec op = opWithParams(*this, chain, "coarse_dropout", chain.output(), operands);
  op.operands.insert(op.operands.begin(), fires);
  op.operands.push_back(frontend::OpSpec::kIndexBase);
  op.attrs = {{"spatial_rank", double(n)}};
  op.cheap = false; // every voxel against every box in generated code
  if (o_.dropout_holes())
    op.flags.push_back("dropout_holes");
  if (!o_.fill_value() || o_.fill_value()->range)
    op.flags.push_back("fill_range");
  chain.ops.push_back(std::move(op));
}

void RandCoarseDropout::shapeOperands(const std::vector<int64_t> &shape, const double *draws,
                                      std::vector<double> &params) const {
  const FillValue fill = o_.fill_value() ? *o_.fill_value() : FillValue(draws[3], draws[4]);
  params.push_back(fill.low);
  params.push_back(fill.high);
  const auto key = rt::streamKey(detail::subStream(draws, 3));
  params.push_back(key[0]);
  params.push_back(key[1]);
  // A call that does not fire draws no boxes (the kernel copies its input).
  const auto boxes = draws[0] != 0.0 ? holes(shape, draws)
                                     : std::vector<std::vector<std::pair<int64_t, int64_t>>>{};
  params.push_back(static_cast<double>(boxes.size()));
  for (int64_t s : shape)
    params.push_back(static_cast<double>(s));
  for (int64_t h = 0; h < maxHoles(); ++h)
    for (size_t d = 0; d < shape.size(); ++d) {
      const bool used = h < static_cast<int64_t>(boxes.size());
      params.push_back(used ? static_cast<double>(boxes[h][d].first) : 0.0);
      params.push_back(used ? static_cast<double>(boxes[h][d].second) : 0.0);
    }
}

MetaTensor RandCoarseDropout::eager(const MetaTensor &img, const double *p) const {
  if (p[0] == 0.0)
    return img;
  const at::Tensor x = img.data;
  const auto boxes = holes(x, p);
  double lo, hi;
  bool range;
  if (o_.fill_value()) {
    lo = o_.fill_value()->low, hi = o_.fill_value()->high, range = o_.fill_value()->range;
  } else {
    lo = x.min().item<double>(), hi = x.max().item<double>(), range = true;
  }
  // Fill values from a stream of their own (part 3), one uniform per voxel by its flat index,
  // so a voxel's value does not depend on the boxes or their order.
  at::Tensor fill = at::empty(x.sizes(), at::TensorOptions().dtype(at::kDouble));
  double *f = fill.data_ptr<double>();
  const auto key = rt::streamKey(detail::subStream(p, 3));
  for (int64_t i = 0, e = fill.numel(); i < e; ++i)
    f[i] = range ? lo + (hi - lo) * rt::voxelUniform(key, static_cast<uint64_t>(i)) : lo;
  at::Tensor mask = at::zeros(x.sizes(), at::TensorOptions().dtype(at::kBool));
  for (const auto &box : boxes) {
    at::Tensor r = mask;
    for (size_t d = 0; d < box.size(); ++d)
      r = r.narrow(static_cast<int64_t>(d) + 1, box[d].first, box[d].second);
    r.fill_(true);
  }
  const at::Tensor filled = fill.to(x.scalar_type());
  return img.withData(o_.dropout_holes() ? at::where(mask, filled, x) : at::where(mask, x, filled));
}

// --- RandHistogramShift --------------------------------------------------------------------------

RandHistogramShift::RandHistogramShift(Options o) : o_(std::move(o)) {
  checkProb(name(), o_.prob());
  auto [lo, hi] = o_.num_control_points();
  if (lo > hi)
    std::swap(lo, hi); // MONAI takes (min, max)
  if (lo <= 2)
    throw Error(name() + ".num_control_points",
                "expected at least 3 control points, got " + std::to_string(lo));
  o_.num_control_points({lo, hi});
  if (traceable())
    validateByTrace(*this);
}

std::pair<std::vector<double>, std::vector<double>>
RandHistogramShift::controlPoints(const double *p) const {
  rt::Rng rng(detail::subStream(p));
  const int64_t n = randint(rng, o_.num_control_points().first, o_.num_control_points().second + 1);
  std::vector<double> ref(n);
  for (int64_t i = 0; i < n; ++i) // np.linspace(0, 1, n)
    ref[i] = i == n - 1 ? 1.0 : static_cast<double>(i) * (1.0 / static_cast<double>(n - 1));
  std::vector<double> flt = ref;
  for (int64_t i = 1; i < n - 1; ++i)
    flt[i] = rng.uniform(flt[i - 1], flt[i + 1]);
  return {ref, flt};
}

int RandHistogramShift::numParams() const {
  return 4 + static_cast<int>(o_.num_control_points().second);
}

void RandHistogramShift::sample(rt::Rng &rng, std::vector<double> &p) const {
  const size_t first = p.size();
  detail::sampleSubStream(rng, o_.prob(), p);
  const std::vector<double> flt = controlPoints(p.data() + first).second;
  p.push_back(static_cast<double>(flt.size()));
  for (int64_t i = 0; i < o_.num_control_points().second; ++i) // unused past the count
    p.push_back(i < static_cast<int64_t>(flt.size()) ? flt[i] : 1.0);
}

void RandHistogramShift::inputStats(const at::Tensor &input, std::vector<double> &p) const {
  // In the compute type (float32 for integer images), as the map sees the values.
  const at::Tensor x = at::isFloatingType(input.scalar_type()) ? input : input.to(at::kFloat);
  p.push_back(x.min().item<double>());
  p.push_back(x.max().item<double>());
}

void RandHistogramShift::trace(frontend::ChainSpec &chain) const {
  const int hi = static_cast<int>(o_.num_control_points().second);
  frontend::OpSpec s = opWithParams(*this, chain, "histogram_shift", chain.output(), 6 + hi);
  s.operands.erase(s.operands.begin() + 1, s.operands.begin() + 3); // k0, k1: host only
  chain.ops.push_back(std::move(s));
}

MetaTensor RandHistogramShift::eager(const MetaTensor &img, const double *p) const {
  if (p[0] == 0.0)
    return img;
  const at::Tensor x0 = img.data;
  // MONAI computes in the image's dtype; integer images are mapped in float32 and cast back.
  const at::Tensor x = at::isFloatingType(x0.scalar_type()) ? x0 : x0.to(at::kFloat);
  at::Tensor mn = x.min(), mx = x.max();
  if (at::equal(mn, mx))
    return img;
  auto [ref, flt] = controlPoints(p);
  const auto opts = at::TensorOptions().dtype(at::kDouble);
  at::Tensor xp = at::tensor(ref, opts).to(x.scalar_type()) * (mx - mn) + mn;
  at::Tensor fp = at::tensor(flt, opts).to(x.scalar_type()) * (mx - mn) + mn;
  const int64_t n = xp.numel();
  // MONAI's torch interp: slopes and intercepts per segment, searchsorted for the segment.
  at::Tensor m =
      (fp.slice(0, 1) - fp.slice(0, 0, n - 1)) / (xp.slice(0, 1) - xp.slice(0, 0, n - 1));
  at::Tensor b = fp.slice(0, 0, n - 1) - m * xp.slice(0, 0, n - 1);
  at::Tensor flat = x.reshape(-1);
  at::Tensor idx = (at::searchsorted(xp, flat) - 1).clamp(0, n - 2);
  at::Tensor f = (m.index_select(0, idx) * flat + b.index_select(0, idx)).reshape(x.sizes());
  f = at::where(x < xp[0], fp[0], f);
  f = at::where(x > xp[n - 1], fp[n - 1], f);
  return img.withData(f.to(x0.scalar_type()));
}

} // namespace med::transforms
