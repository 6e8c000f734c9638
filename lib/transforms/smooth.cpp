// Gaussian smoothing and sharpening (MONAI semantics): MONAI's GaussianFilter kernels (erf,
// sampled, scalespace) in float32 and its separable zero-padded convolution.
#include "med/transforms/smooth.h"

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

#include "med/core/error.h"
#include "med/transforms/spatial.h"

namespace med::transforms {
namespace {

std::string lower(std::string s) {
  for (char &c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void checkProb(const std::string &t, double p) {
  if (!(p >= 0.0 && p <= 1.0))
    throw Error(t + ".prob", "expected a probability in [0, 1], got " + std::to_string(p));
}

void checkSigmaRange(const std::string &where, SigmaRange r) {
  if (!std::isfinite(r.first) || !std::isfinite(r.second) || r.first > r.second || r.first <= 0.0) {
    std::ostringstream os;
    os << "expected finite (low, high) with 0 < low <= high, got (" << r.first << ", " << r.second
       << ")";
    throw Error(where, os.str());
  }
}

// MONAI's polyval in float32: Horner from the highest coefficient.
float polyval(std::initializer_list<float> coef, float x) {
  float ans = *coef.begin();
  for (auto it = coef.begin() + 1; it != coef.end(); ++it)
    ans = ans * x + *it;
  return ans;
}

// MONAI's _modified_bessel_0 / _1 / _i (Numerical Recipes approximations, float32).
float besselI0(float x) {
  float ax = std::fabs(x);
  if (ax < 3.75f) {
    float y = x * x / 14.0625f;
    return polyval(
        {0.45813e-2f, 0.360768e-1f, 0.2659732f, 1.2067492f, 3.0899424f, 3.5156229f, 1.0f}, y);
  }
  float y = 3.75f / ax;
  return polyval({0.392377e-2f, -0.1647633e-1f, 0.2635537e-1f, -0.2057706e-1f, 0.916281e-2f,
                  -0.157565e-2f, 0.225319e-2f, 0.1328592e-1f, 0.39894228f},
                 y) *
         std::exp(ax) / std::sqrt(ax);
}

float besselI1(float x) {
  float ax = std::fabs(x);
  if (ax < 3.75f) {
    float y = x * x / 14.0625f;
    return ax * polyval({0.32411e-3f, 0.301532e-2f, 0.2658733e-1f, 0.15084934f, 0.51498869f,
                         0.87890594f, 0.5f},
                        y);
  }
  float y = 3.75f / ax;
  float ans = polyval({-0.420059e-2f, 0.1787654e-1f, -0.2895312e-1f, 0.2282967e-1f, -0.1031555e-1f,
                       0.163801e-2f, -0.362018e-2f, -0.3988024e-1f, 0.39894228f},
                      y) *
              std::exp(ax) / std::sqrt(ax);
  return x < 0.0f ? -ans : ans;
}

float besselIn(int n, float x) {
  if (x == 0.0f)
    return x;
  float tox = 2.0f / std::fabs(x);
  float ans = 0.0f, bip = 0.0f, bi = 1.0f;
  int m = static_cast<int>(2 * (n + std::floor(std::sqrt(40.0 * n))));
  for (int j = m; j > 0; --j) {
    float bim = bip + static_cast<float>(j) * tox * bi;
    bip = bi;
    bi = bim;
    if (std::fabs(bi) > 1.0e10f) {
      ans *= 1.0e-10f;
      bi *= 1.0e-10f;
      bip *= 1.0e-10f;
    }
    if (j == n)
      ans = bip;
  }
  ans = ans * besselI0(x) / bi;
  return (x < 0.0f && n % 2 == 1) ? -ans : ans;
}

// Filters axis `axis` (a dim of `x`, a float tensor) with the 1-D kernel `k`, zero padding.
at::Tensor filterAxis(const at::Tensor &x, const at::Tensor &k, int64_t axis) {
  if (k.numel() == 1 && k.item<float>() == 1.0f) // MONAI skips unit kernels
    return x;
  at::Tensor moved = x.movedim(axis, -1).contiguous();
  std::vector<int64_t> shape(moved.sizes().begin(), moved.sizes().end());
  at::Tensor rows = moved.reshape({-1, 1, shape.back()});
  at::Tensor out = at::conv1d(rows, k.view({1, 1, -1}), {}, 1, (k.numel() - 1) / 2);
  return out.reshape(shape).movedim(-1, axis);
}

} // namespace

namespace detail {

void checkGaussian(const std::vector<double> &sigma, const std::string &approx,
                   const std::string &where) {
  const std::string a = lower(approx);
  if (a != "erf" && a != "sampled" && a != "scalespace")
    throw Error(where + ".approx",
                "expected \"erf\", \"sampled\" or \"scalespace\", got \"" + approx + "\"");
  if (sigma.empty() || sigma.size() > 3)
    throw Error(where, "expected one sigma or one per spatial axis (2 or 3), got " +
                           std::to_string(sigma.size()));
  for (double s : sigma)
    if (!std::isfinite(s) || s <= 0.0)
      throw Error(where, "expected finite sigma values > 0, got " + std::to_string(s));
}

at::Tensor gaussianKernel1d(double sigma, const std::string &approx) {
  const float s = static_cast<float>(sigma);
  const int64_t tail = static_cast<int64_t>(std::max(static_cast<double>(s) * 4.0, 0.5) + 0.5);
  const std::string a = lower(approx);
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  if (a == "scalespace") {
    const float s2 = s * s;
    std::vector<float> pos(tail + 1);
    pos[0] = besselI0(s2);
    if (tail >= 1)
      pos[1] = besselI1(s2);
    for (int64_t k = 2; k <= tail; ++k)
      pos[k] = besselIn(static_cast<int>(k), s2);
    at::Tensor out = at::empty({2 * tail + 1}, f32);
    float *o = out.data_ptr<float>();
    for (int64_t i = -tail; i <= tail; ++i)
      o[i + tail] = pos[std::abs(i)];
    return out * at::exp(at::scalar_tensor(-s2, f32));
  }
  at::Tensor x = at::arange(-tail, tail + 1, f32);
  at::Tensor sig = at::scalar_tensor(s, f32);
  if (a == "sampled")
    return at::exp(-0.5 / (sig * sig) * x.pow(2)) / (2.5066282 * sig);
  at::Tensor t = 0.70710678 / at::abs(sig);
  at::Tensor out = 0.5 * (at::erf(t * (x + 0.5)) - at::erf(t * (x - 0.5)));
  return out.clamp_min(0);
}

at::Tensor gaussianFilter(const at::Tensor &img, const std::vector<double> &sigma,
                          const std::string &approx, const std::string &where) {
  const int64_t nsp = spatialRank(img, where);
  if (sigma.size() != 1 && static_cast<int64_t>(sigma.size()) != nsp)
    throw Error(where + ".sigma", "got " + std::to_string(sigma.size()) +
                                      " values for an image with " + std::to_string(nsp) +
                                      " spatial axes");
  at::Tensor x = img.to(at::kFloat);
  for (int64_t d = 0; d < nsp; ++d)
    x = filterAxis(x, gaussianKernel1d(sigma.size() == 1 ? sigma[0] : sigma[d], approx), d + 1);
  return x.contiguous();
}

} // namespace detail

// --- GaussianSmooth / GaussianSharpen ------------------------------------------------------------

GaussianSmooth::GaussianSmooth(Options o) : o_(std::move(o)) {
  detail::checkGaussian(o_.sigma(), o_.approx(), name() + ".sigma");
}

MetaTensor GaussianSmooth::eager(const MetaTensor &img) const {
  return img.withData(detail::gaussianFilter(img.data, o_.sigma(), o_.approx(), name()));
}

namespace {
// Sigma of spatial axis d from one value for all or one per axis (med::Error otherwise).
double sigmaOf(const std::vector<double> &sigma, int64_t d, int64_t rank,
               const std::string &where) {
  if (sigma.size() != 1 && static_cast<int64_t>(sigma.size()) != rank)
    throw Error(where, "got " + std::to_string(sigma.size()) + " values for an image with " +
                           std::to_string(rank) + " spatial axes");
  return sigma.size() == 1 ? sigma[0] : sigma[d];
}

// Appends one pass's operands: the shape, then `kernel` centred among `taps` slots.
void appendPass(const std::string &where, const std::vector<int64_t> &shape,
                const at::Tensor &kernel, int64_t taps, std::vector<double> &params) {
  for (int64_t s : shape)
    params.push_back(static_cast<double>(s));
  const int64_t k = kernel.numel(), pad = (taps - k) / 2;
  if (k > taps || (taps - k) % 2 != 0)
    throw Error(where, "internal: a kernel of " + std::to_string(k) + " taps does not fit the " +
                           std::to_string(taps) + " traced");
  at::Tensor w = kernel.to(at::kFloat).contiguous();
  const float *v = w.data_ptr<float>();
  for (int64_t t = 0; t < taps; ++t)
    params.push_back(t < pad || t >= pad + k ? 0.0 : static_cast<double>(v[t - pad]));
}
} // namespace

void GaussianSmooth::trace(frontend::ChainSpec &chain) const {
  const int64_t n = chain.spatialRank;
  for (int64_t d = 0; d < n; ++d) {
    const double s = sigmaOf(o_.sigma(), d, n, name() + ".sigma");
    tracePass(*this, chain, d, detail::gaussianKernel1d(s, o_.approx()).numel());
  }
}

void GaussianSmooth::shapeOperands(const std::vector<int64_t> &shape, const double *,
                                   std::vector<double> &params) const {
  const int64_t n = static_cast<int64_t>(shape.size());
  for (int64_t d = 0; d < n; ++d) {
    at::Tensor k =
        detail::gaussianKernel1d(sigmaOf(o_.sigma(), d, n, name() + ".sigma"), o_.approx());
    appendPass(name(), shape, k, k.numel(), params);
  }
}

namespace {
at::Tensor sharpen(const at::Tensor &x, const std::vector<double> &s1,
                   const std::vector<double> &s2, double alpha, const std::string &approx,
                   const std::string &where) {
  at::Tensor blurred = detail::gaussianFilter(x, s1, approx, where);
  at::Tensor twice = detail::gaussianFilter(blurred, s2, approx, where);
  return blurred + alpha * (blurred - twice);
}
} // namespace

GaussianSharpen::GaussianSharpen(Options o) : o_(std::move(o)) {
  detail::checkGaussian(o_.sigma1(), o_.approx(), name() + ".sigma1");
  detail::checkGaussian(o_.sigma2(), o_.approx(), name() + ".sigma2");
  if (!std::isfinite(o_.alpha()))
    throw Error(name() + ".alpha", "expected a finite number");
}

MetaTensor GaussianSharpen::eager(const MetaTensor &img) const {
  return img.withData(sharpen(img.data, o_.sigma1(), o_.sigma2(), o_.alpha(), o_.approx(), name()));
}

// --- RandGaussianSmooth --------------------------------------------------------------------------

RandGaussianSmooth::RandGaussianSmooth(Options o) : o_(std::move(o)) {
  checkProb(name(), o_.prob());
  checkSigmaRange(name() + ".sigma_x", o_.sigma_x());
  checkSigmaRange(name() + ".sigma_y", o_.sigma_y());
  checkSigmaRange(name() + ".sigma_z", o_.sigma_z());
  detail::checkGaussian({1.0}, o_.approx(), name());
}

namespace {
const SigmaRange &axisRange(const RandGaussianSmoothOptions &o, int64_t d) {
  return d == 0 ? o.sigma_x() : d == 1 ? o.sigma_y() : o.sigma_z();
}
} // namespace

void RandGaussianSmooth::trace(frontend::ChainSpec &chain) const {
  chain.numParams += numParams();                 // the draws; the passes' operands follow them
  for (int64_t d = 0; d < chain.spatialRank; ++d) // the widest kernel the range can draw
    tracePass(*this, chain, d,
              detail::gaussianKernel1d(axisRange(o_, d).second, o_.approx()).numel());
}

void RandGaussianSmooth::shapeOperands(const std::vector<int64_t> &shape, const double *draws,
                                       std::vector<double> &params) const {
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    const int64_t taps = detail::gaussianKernel1d(axisRange(o_, d).second, o_.approx()).numel();
    const at::Tensor unit = at::ones({1}, at::kFloat);
    appendPass(name(), shape,
               draws[0] == 0.0 ? unit : detail::gaussianKernel1d(draws[1 + d], o_.approx()), taps,
               params);
  }
}

void RandGaussianSmooth::sample(rt::Rng &rng, std::vector<double> &p) const {
  p.push_back(rng.uniform() < o_.prob() ? 1.0 : 0.0);
  p.push_back(rng.uniform(o_.sigma_x().first, o_.sigma_x().second));
  p.push_back(rng.uniform(o_.sigma_y().first, o_.sigma_y().second));
  p.push_back(rng.uniform(o_.sigma_z().first, o_.sigma_z().second));
}

MetaTensor RandGaussianSmooth::eager(const MetaTensor &img, const double *p) const {
  const int64_t nsp = detail::spatialRank(img.data, name());
  if (p[0] == 0.0)
    return img.withData(img.data.to(at::kFloat));
  std::vector<double> sigma(p + 1, p + 1 + nsp);
  return img.withData(detail::gaussianFilter(img.data, sigma, o_.approx(), name()));
}

// --- RandGaussianSharpen -------------------------------------------------------------------------

RandGaussianSharpen::RandGaussianSharpen(Options o) : o_(std::move(o)) {
  checkProb(name(), o_.prob());
  checkSigmaRange(name() + ".sigma1_x", o_.sigma1_x());
  checkSigmaRange(name() + ".sigma1_y", o_.sigma1_y());
  checkSigmaRange(name() + ".sigma1_z", o_.sigma1_z());
  const std::pair<const char *, Sigma2Range> s2[] = {
      {"sigma2_x", o_.sigma2_x()}, {"sigma2_y", o_.sigma2_y()}, {"sigma2_z", o_.sigma2_z()}};
  for (const auto &[n, r] : s2)
    checkSigmaRange(name() + "." + n, {r.low, r.high.value_or(r.low)});
  const SigmaRange a = o_.alpha();
  if (!std::isfinite(a.first) || !std::isfinite(a.second) || a.first > a.second)
    throw Error(name() + ".alpha", "expected finite (low, high) with low <= high");
  detail::checkGaussian({1.0}, o_.approx(), name());
}

void RandGaussianSharpen::trace(frontend::ChainSpec &) const {
  throw Error(name(), "has no med lowering; it runs through its ATen implementation");
}

void RandGaussianSharpen::sample(rt::Rng &rng, std::vector<double> &p) const {
  p.push_back(rng.uniform() < o_.prob() ? 1.0 : 0.0);
  const SigmaRange s1[] = {o_.sigma1_x(), o_.sigma1_y(), o_.sigma1_z()};
  const Sigma2Range s2[] = {o_.sigma2_x(), o_.sigma2_y(), o_.sigma2_z()};
  double first[3];
  for (int i = 0; i < 3; ++i)
    p.push_back(first[i] = rng.uniform(s1[i].first, s1[i].second));
  // MONAI: a single sigma2 value v means U(v, sigma1 drawn for that axis).
  for (int i = 0; i < 3; ++i)
    p.push_back(rng.uniform(s2[i].low, s2[i].high.value_or(first[i])));
  p.push_back(rng.uniform(o_.alpha().first, o_.alpha().second));
}

MetaTensor RandGaussianSharpen::eager(const MetaTensor &img, const double *p) const {
  const int64_t nsp = detail::spatialRank(img.data, name());
  if (p[0] == 0.0)
    return img.withData(img.data.to(at::kFloat));
  std::vector<double> s1(p + 1, p + 1 + nsp), s2(p + 4, p + 4 + nsp);
  return img.withData(sharpen(img.data, s1, s2, p[7], o_.approx(), name()));
}

} // namespace med::transforms
