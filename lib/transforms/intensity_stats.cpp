// Intensity transforms split at a reduction: host statistics (stats), the ATen reference with
// those statistics (apply), and the trace (med ops whose statistics are kernel operands).
#include "med/transforms/intensity_stats.h"

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "med/core/error.h"

namespace med::transforms {

MetaTensor StatsTransform::eager(const MetaTensor &img) const {
  // Contiguous, as Compose materialises a kernel's input: float sums depend on memory order.
  at::Tensor x = img.data.contiguous();
  std::vector<double> p;
  if (!channelWise()) {
    stats(x, 0, p);
    return img.withData(apply(x, p.data()));
  }
  std::vector<at::Tensor> out;
  for (int64_t c = 0; c < x.size(0); ++c) {
    p.clear();
    stats(x[c], c, p);
    out.push_back(apply(x[c], p.data()));
  }
  return img.withData(at::stack(out));
}

namespace {

at::Tensor asFloat(const at::Tensor &x) {
  return at::isFloatingType(x.scalar_type()) ? x : x.to(at::kFloat);
}

void checkPercentile(const std::string &where, double q) {
  if (!(q >= 0.0 && q <= 100.0))
    throw Error(where, "expected a percentile in [0, 100], got " + std::to_string(q));
}

void checkOrder(const std::string &t, double lower, double upper) {
  if (lower > upper) {
    std::ostringstream os;
    os << "expected lower <= upper, got lower " << lower << " and upper " << upper;
    throw Error(t + ".upper", os.str());
  }
}

// torch.quantile's 'linear' interpolation (np.percentile's default), in the image's float type
// (float32 for integers), as MONAI's percentile() computes it. NaN anywhere gives NaN.
template <class T> double quantileAs(const at::Tensor &flat, double q) {
  int64_t n = flat.numel();
  T rank = static_cast<T>(q / 100.0) * static_cast<T>(n - 1);
  int64_t below = std::min<int64_t>(static_cast<int64_t>(rank), n - 1);
  int64_t above = std::min<int64_t>(static_cast<int64_t>(std::ceil(rank)), n - 1);
  T w = rank - static_cast<T>(below);
  T a = std::get<0>(at::kthvalue(flat, below + 1)).item<T>();
  T b = above == below ? a : std::get<0>(at::kthvalue(flat, above + 1)).item<T>();
  return w < T(0.5) ? a + w * (b - a) : b - (b - a) * (T(1) - w);
}

double percentile(const at::Tensor &x, double q, const std::string &where) {
  at::Tensor flat = asFloat(x).reshape({-1});
  if (flat.numel() == 0)
    throw Error(where, "cannot take a percentile of an empty image");
  if (at::isnan(flat).any().item<bool>())
    return std::numeric_limits<double>::quiet_NaN();
  if (flat.scalar_type() == at::kDouble)
    return quantileAs<double>(flat, q);
  return quantileAs<float>(flat.to(at::kFloat), q);
}

// The voxels statistics are taken over: all, or the non-zero ones (MONAI's `nonzero`), as float32.
at::Tensor statsVoxels(const at::Tensor &x, bool nonzero) {
  at::Tensor f = x.to(at::kFloat);
  return nonzero ? f.masked_select(f != 0) : f.reshape({-1});
}

// An explicit per-image or per-channel value: one value, or one per channel when channel-wise.
double pick(const std::vector<double> &v, int64_t channel, bool channelWise,
            const std::string &where) {
  if (channelWise && v.size() != 1 && channel >= static_cast<int64_t>(v.size()))
    throw Error(where, "has " + std::to_string(v.size()) +
                           " values but the image has more channels (channel " +
                           std::to_string(channel) + ")");
  return v.size() == 1 ? v[0] : v[channel];
}

} // namespace

// --- NormalizeIntensity -------------------------------------------------------------------------

NormalizeIntensity::NormalizeIntensity(Options o) : o_(std::move(o)) {
  for (auto [what, v] : {std::pair{"subtrahend", &o_.subtrahend()}, {"divisor", &o_.divisor()}}) {
    if (!o_.channel_wise() && v->size() > 1)
      throw Error(name() + "." + what,
                  "expected one value (or channel_wise=true), got " + std::to_string(v->size()));
    for (double d : *v)
      if (!std::isfinite(d))
        throw Error(name() + "." + what, "expected finite values");
  }
  validateByTrace(*this);
}

void NormalizeIntensity::stats(const at::Tensor &x, int64_t c, std::vector<double> &p) const {
  at::Tensor v = statsVoxels(x, o_.nonzero());
  if (o_.nonzero() && v.numel() == 0) { // MONAI leaves an all-zero image unchanged
    p.insert(p.end(), {0.0, 1.0});
    return;
  }
  double sub = o_.subtrahend().empty()
                   ? at::mean(v).item<double>()
                   : pick(o_.subtrahend(), c, o_.channel_wise(), name() + ".subtrahend");
  double div = o_.divisor().empty() ? at::std(v, /*unbiased=*/false).item<double>()
                                    : pick(o_.divisor(), c, o_.channel_wise(), name() + ".divisor");
  p.insert(p.end(), {sub, div == 0.0 ? 1.0 : div});
}

bool NormalizeIntensity::statsAreMoments(bool *nonzeroOnly) const {
  *nonzeroOnly = o_.nonzero();
  return o_.subtrahend().empty() || o_.divisor().empty();
}

void NormalizeIntensity::statsFromMoments(const std::array<double, 3> &m, int64_t c,
                                          std::vector<double> &p) const {
  const double n = m[0];
  if (o_.nonzero() && n == 0) { // MONAI leaves an all-zero image unchanged
    p.insert(p.end(), {0.0, 1.0});
    return;
  }
  const double mean = m[1] / n;
  // The population variance; rounding can take E[v^2] - mean^2 a hair below zero.
  const double var = std::max(m[2] / n - mean * mean, 0.0);
  double sub = o_.subtrahend().empty()
                   ? mean
                   : pick(o_.subtrahend(), c, o_.channel_wise(), name() + ".subtrahend");
  double div = o_.divisor().empty() ? std::sqrt(var)
                                    : pick(o_.divisor(), c, o_.channel_wise(), name() + ".divisor");
  p.insert(p.end(), {sub, div == 0.0 ? 1.0 : div});
}

at::Tensor NormalizeIntensity::apply(const at::Tensor &x, const double *p) const {
  at::Tensor f = x.to(at::kFloat);
  at::Tensor y = (f - p[0]) / p[1];
  return o_.nonzero() ? at::where(f != 0, y, f) : y;
}

void NormalizeIntensity::trace(frontend::ChainSpec &chain) const {
  frontend::OpSpec s = opWithParams(*this, chain, "normalize", rt::DType::Float32, 2);
  if (o_.nonzero())
    s.flags.push_back("nonzero");
  chain.ops.push_back(s);
}

// --- ScaleIntensityRangePercentiles -------------------------------------------------------------

ScaleIntensityRangePercentiles::ScaleIntensityRangePercentiles(Options o) : o_(o) {
  checkPercentile(name() + ".lower", o_.lower());
  checkPercentile(name() + ".upper", o_.upper());
  checkOrder(name(), o_.lower(), o_.upper());
  bool both = o_.b_min() && o_.b_max();
  if ((o_.relative() || o_.clip()) && !both)
    throw Error(name() + (o_.relative() ? ".relative" : ".clip"), "needs both b_min and b_max");
  bMin_ = o_.b_min();
  bMax_ = o_.b_max();
  if (o_.relative()) {
    double span = *o_.b_max() - *o_.b_min();
    bMin_ = span * (o_.lower() / 100.0) + *o_.b_min();
    bMax_ = span * (o_.upper() / 100.0) + *o_.b_min();
  }
  validateByTrace(*this);
}

void ScaleIntensityRangePercentiles::stats(const at::Tensor &x, int64_t,
                                           std::vector<double> &p) const {
  p.push_back(percentile(x, o_.lower(), name()));
  p.push_back(percentile(x, o_.upper(), name()));
}

at::Tensor ScaleIntensityRangePercentiles::apply(const at::Tensor &x, const double *p) const {
  // MONAI's percentiles are 0-d tensors of the image's type; so are a_min, a_max and their range.
  at::Tensor f = asFloat(x);
  at::Tensor aMin = at::scalar_tensor(p[0], f.options()),
             aMax = at::scalar_tensor(p[1], f.options());
  at::Tensor range = aMax - aMin;
  at::Tensor t = f - aMin;
  if (range.item<double>() == 0.0) // ScaleIntensityRange warns and only shifts
    return (bMin_ ? t + *bMin_ : t).to(at::kFloat);
  t = t / range;
  if (bMin_ && bMax_)
    t = t * (*bMax_ - *bMin_) + *bMin_;
  if (o_.clip())
    t = at::clamp(t, *bMin_, *bMax_);
  return t.to(at::kFloat);
}

void ScaleIntensityRangePercentiles::trace(frontend::ChainSpec &chain) const {
  frontend::OpSpec s = opWithParams(*this, chain, "scale_range_by", rt::DType::Float32, 2);
  if (bMin_ && bMax_)
    s.attrs = {{"b_min", *bMin_}, {"b_max", *bMax_}};
  if (o_.clip())
    s.flags.push_back("clip");
  chain.ops.push_back(s);
}

// --- ClipIntensityPercentiles -------------------------------------------------------------------

ClipIntensityPercentiles::ClipIntensityPercentiles(Options o) : o_(o) {
  if (!o_.lower() && !o_.upper())
    throw Error(name() + ".lower", "lower or upper percentile must be given");
  if (o_.lower())
    checkPercentile(name() + ".lower", *o_.lower());
  if (o_.upper())
    checkPercentile(name() + ".upper", *o_.upper());
  if (o_.lower() && o_.upper())
    checkOrder(name(), *o_.lower(), *o_.upper());
  validateByTrace(*this);
}

void ClipIntensityPercentiles::stats(const at::Tensor &x, int64_t, std::vector<double> &p) const {
  double inf = std::numeric_limits<double>::infinity();
  p.push_back(o_.lower() ? percentile(x, *o_.lower(), name()) : -inf);
  p.push_back(o_.upper() ? percentile(x, *o_.upper(), name()) : inf);
}

at::Tensor ClipIntensityPercentiles::apply(const at::Tensor &x, const double *p) const {
  c10::optional<at::Scalar> lo, hi;
  if (o_.lower())
    lo = p[0];
  if (o_.upper())
    hi = p[1];
  return at::clamp(asFloat(x), lo, hi).to(x.scalar_type());
}

void ClipIntensityPercentiles::trace(frontend::ChainSpec &chain) const {
  chain.ops.push_back(opWithParams(*this, chain, "clip_by", chain.output(), 2));
}

// --- StdShiftIntensity --------------------------------------------------------------------------

StdShiftIntensity::StdShiftIntensity(Options o) : o_(o) {
  if (!std::isfinite(o_.factor()))
    throw Error(name() + ".factor", "expected a finite number");
  validateByTrace(*this);
}

void StdShiftIntensity::stats(const at::Tensor &x, int64_t, std::vector<double> &p) const {
  at::Tensor v = statsVoxels(x, o_.nonzero());
  // offset = factor * std in float32, as MONAI; passed as (x - (-offset)) / 1 to med.normalize.
  double offset =
      v.numel() == 0 ? 0.0 : (at::std(v, /*unbiased=*/false) * o_.factor()).item<double>();
  p.insert(p.end(), {-offset, 1.0});
}

bool StdShiftIntensity::statsAreMoments(bool *nonzeroOnly) const {
  *nonzeroOnly = o_.nonzero();
  return true;
}

void StdShiftIntensity::statsFromMoments(const std::array<double, 3> &m, int64_t,
                                         std::vector<double> &p) const {
  const double n = m[0];
  const double mean = n == 0 ? 0.0 : m[1] / n;
  const double var = n == 0 ? 0.0 : std::max(m[2] / n - mean * mean, 0.0);
  const double offset = std::sqrt(var) * o_.factor();
  p.insert(p.end(), {-offset, 1.0});
}

at::Tensor StdShiftIntensity::apply(const at::Tensor &x, const double *p) const {
  at::Tensor f = x.to(at::kFloat);
  at::Tensor y = f + (-p[0]);
  if (o_.nonzero())
    y = at::where(f != 0, y, f);
  return y.to(x.scalar_type());
}

void StdShiftIntensity::trace(frontend::ChainSpec &chain) const {
  frontend::OpSpec s = opWithParams(*this, chain, "normalize", chain.output(), 2);
  if (o_.nonzero())
    s.flags.push_back("nonzero");
  chain.ops.push_back(s);
}

} // namespace med::transforms
