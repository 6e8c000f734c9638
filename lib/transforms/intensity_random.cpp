// Random intensity transforms: host-side draws, the ATen reference with those draws, and the trace
// (deterministic med ops whose random parameters are kernel operands).
#include "med/transforms/intensity_random.h"

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <cmath>
#include <sstream>

#include "med/core/error.h"

namespace med::transforms {
namespace {

void checkProb(const std::string &t, double p) {
  if (!(p >= 0.0 && p <= 1.0))
    throw Error(t + ".prob", "expected a probability in [0, 1], got " + std::to_string(p));
}

void checkRange(const std::string &where, std::pair<double, double> r) {
  if (!std::isfinite(r.first) || !std::isfinite(r.second) || r.first > r.second) {
    std::ostringstream os;
    os << "expected finite (low, high) with low <= high, got (" << r.first << ", " << r.second
       << ")";
    throw Error(where, os.str());
  }
}

at::Tensor asFloat(const at::Tensor &x) {
  return at::isFloatingType(x.scalar_type()) ? x : x.to(at::kFloat);
}

// The first parameter of every random transform: does it fire this call?
double fires(rt::Rng &rng, double prob) { return rng.uniform() < prob ? 1.0 : 0.0; }

} // namespace

// --- RandShiftIntensity -------------------------------------------------------------------------

RandShiftIntensity::RandShiftIntensity(Options o) : o_(o) {
  checkProb(name(), o_.prob());
  checkRange(name() + ".offsets", o_.offsets());
  validateByTrace(*this);
}

void RandShiftIntensity::sample(rt::Rng &rng, std::vector<double> &p) const {
  p.push_back(fires(rng, o_.prob()));
  p.push_back(rng.uniform(o_.offsets().first, o_.offsets().second));
}

MetaTensor RandShiftIntensity::eager(const MetaTensor &img, const double *p) const {
  if (p[0] == 0.0)
    return img;
  return img.withData((asFloat(img.data) + p[1]).to(img.data.scalar_type()));
}

void RandShiftIntensity::trace(frontend::ChainSpec &chain) const {
  chain.ops.push_back(opWithParams(*this, chain, "shift_by", chain.output(), 2));
}

// --- RandScaleIntensity -------------------------------------------------------------------------

RandScaleIntensity::RandScaleIntensity(Options o) : o_(o) {
  checkProb(name(), o_.prob());
  checkRange(name() + ".factors", o_.factors());
  validateByTrace(*this);
}

void RandScaleIntensity::sample(rt::Rng &rng, std::vector<double> &p) const {
  p.push_back(fires(rng, o_.prob()));
  p.push_back(rng.uniform(o_.factors().first, o_.factors().second));
}

MetaTensor RandScaleIntensity::eager(const MetaTensor &img, const double *p) const {
  at::Tensor x = asFloat(img.data);
  if (p[0] == 0.0)
    return img.withData(x.to(at::kFloat));
  return img.withData((x * (1.0 + p[1])).to(at::kFloat));
}

void RandScaleIntensity::trace(frontend::ChainSpec &chain) const {
  chain.ops.push_back(opWithParams(*this, chain, "scale_by", rt::DType::Float32, 2));
}

// --- RandAdjustContrast -------------------------------------------------------------------------

RandAdjustContrast::RandAdjustContrast(Options o) : o_(o) {
  checkProb(name(), o_.prob());
  checkRange(name() + ".gamma", o_.gamma());
  if (o_.gamma().first <= 0)
    throw Error(name() + ".gamma", "expected gamma values > 0");
  validateByTrace(*this);
}

void RandAdjustContrast::sample(rt::Rng &rng, std::vector<double> &p) const {
  p.push_back(fires(rng, o_.prob()));
  p.push_back(rng.uniform(o_.gamma().first, o_.gamma().second));
}

void RandAdjustContrast::inputStats(const at::Tensor &input, std::vector<double> &p) const {
  // In the compute type (float32 for integer images), exactly as the kernel sees the values.
  at::Tensor x = asFloat(input);
  p.push_back(x.min().item<double>());
  p.push_back(x.max().item<double>());
}

MetaTensor RandAdjustContrast::eager(const MetaTensor &img, const double *p) const {
  at::Tensor x = asFloat(img.data);
  if (p[0] == 0.0)
    return img.withData(x);
  // MONAI: ((x - min) / (range + 1e-7))^gamma * range + min, in the image's float type.
  at::Tensor mn = at::scalar_tensor(p[2], x.options()), mx = at::scalar_tensor(p[3], x.options());
  at::Tensor range = mx - mn;
  at::Tensor out = at::pow((x - mn) / (range + 1e-7), p[1]) * range + mn;
  return img.withData(out);
}

void RandAdjustContrast::trace(frontend::ChainSpec &chain) const {
  rt::DType in = chain.output();
  rt::DType out = rt::isFloat(in) ? in : rt::DType::Float32;
  frontend::OpSpec s = opWithParams(*this, chain, "adjust_contrast", out, 4);
  s.cheap = false; // exp and log per voxel
  chain.ops.push_back(s);
}

// --- RandGaussianNoise --------------------------------------------------------------------------

RandGaussianNoise::RandGaussianNoise(Options o) : o_(o) {
  checkProb(name(), o_.prob());
  if (!std::isfinite(o_.mean()))
    throw Error(name() + ".mean", "expected a finite number");
  if (!(o_.std() >= 0.0) || !std::isfinite(o_.std()))
    throw Error(name() + ".std", "expected a finite number >= 0, got " + std::to_string(o_.std()));
  validateByTrace(*this);
}

void RandGaussianNoise::sample(rt::Rng &rng, std::vector<double> &p) const {
  p.push_back(fires(rng, o_.prob()));
  p.push_back(o_.mean());
  p.push_back(o_.sample_std() ? rng.uniform(0.0, o_.std()) : o_.std());
  p.push_back(rng.key()[0]); // the per-voxel stream: same key, counters with last word 0
  p.push_back(rng.key()[1]);
}

MetaTensor RandGaussianNoise::eager(const MetaTensor &img, const double *p) const {
  at::Tensor x = img.data.contiguous();
  at::Tensor xf = asFloat(x);
  if (p[0] == 0.0)
    return img.withData(xf.to(at::kFloat));
  std::array<uint32_t, 2> key{static_cast<uint32_t>(p[3]), static_cast<uint32_t>(p[4])};
  at::Tensor noise = at::empty(x.sizes(), at::TensorOptions().dtype(at::kDouble));
  double *n = noise.data_ptr<double>();
  for (int64_t i = 0, e = noise.numel(); i < e; ++i)
    n[i] = p[1] + p[2] * rt::voxelNormal(key, static_cast<uint64_t>(i));
  if (xf.scalar_type() == at::kDouble)
    return img.withData((xf + noise).to(at::kFloat));
  return img.withData(xf + noise.to(at::kFloat));
}

void RandGaussianNoise::trace(frontend::ChainSpec &chain) const {
  frontend::OpSpec s = opWithParams(*this, chain, "gaussian_noise", rt::DType::Float32, 5);
  s.operands.push_back(frontend::OpSpec::kIndexBase);
  s.cheap = false; // Philox and Box-Muller per voxel
  chain.ops.push_back(s);
}

} // namespace med::transforms
