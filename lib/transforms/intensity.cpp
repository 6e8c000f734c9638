// Intensity transforms: the eager ATen reference (MONAI's computation) and the med trace.
#include "med/transforms/intensity.h"

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "med/core/dtype.h"
#include "med/core/error.h"

namespace med::transforms {
namespace {

// MONAI computes integer images in float32 (torch's type promotion with Python floats).
at::Tensor asFloat(const at::Tensor &x) {
  return at::isFloatingType(x.scalar_type()) ? x : x.to(at::kFloat);
}

// Range of an integer storage type, for checks of parameters that must be representable.
bool intRange(rt::DType t, double &lo, double &hi) {
  switch (t) {
  case rt::DType::UInt8:
    lo = 0;
    hi = 255;
    return true;
  case rt::DType::Int8:
    lo = -128;
    hi = 127;
    return true;
  case rt::DType::UInt16:
    lo = 0;
    hi = 65535;
    return true;
  case rt::DType::Int16:
    lo = -32768;
    hi = 32767;
    return true;
  case rt::DType::Int32:
    lo = -2147483648.0;
    hi = 2147483647.0;
    return true;
  case rt::DType::Int64:
    lo = -9.2e18;
    hi = 9.2e18;
    return true;
  default:
    return false;
  }
}

// Throws when `value` cannot be stored in integer type `t` (floats always pass).
void checkRepresentable(rt::DType t, double value, const std::string &where) {
  double lo, hi;
  if (intRange(t, lo, hi) && (value < lo || value > hi)) {
    std::ostringstream os;
    os << "value " << value << " does not fit the image's " << rt::dtypeName(t) << " range [" << lo
       << ", " << hi << "]; cast the image to float32 first";
    throw Error(where, os.str());
  }
}

frontend::OpSpec spec(const Transform &t, std::string op, rt::DType result) {
  frontend::OpSpec s;
  s.op = std::move(op);
  s.result = result;
  s.origin = t.name();
  return s;
}

} // namespace

// --- ScaleIntensityRange ------------------------------------------------------------------------

ScaleIntensityRange::ScaleIntensityRange(Options o) : o_(o) { validateByTrace(*this); }

MetaTensor ScaleIntensityRange::eager(const MetaTensor &img) const {
  at::Tensor t = asFloat(img.data);
  if (o_.a_max() - o_.a_min() == 0.0) {
    t = t - o_.a_min();
    if (o_.b_min())
      t = t + *o_.b_min();
    return img.withData(t.to(at::kFloat));
  }
  t = (t - o_.a_min()) / (o_.a_max() - o_.a_min());
  if (o_.b_min() && o_.b_max())
    t = t * (*o_.b_max() - *o_.b_min()) + *o_.b_min();
  if (o_.clip())
    t = at::clamp(t, *o_.b_min(), *o_.b_max());
  return img.withData(t.to(at::kFloat));
}

void ScaleIntensityRange::trace(frontend::ChainSpec &chain) const {
  frontend::OpSpec s = spec(*this, "scale_intensity_range", rt::DType::Float32);
  s.attrs = {{"a_min", o_.a_min()}, {"a_max", o_.a_max()}};
  if (o_.b_min())
    s.attrs.push_back({"b_min", *o_.b_min()});
  if (o_.b_max())
    s.attrs.push_back({"b_max", *o_.b_max()});
  if (o_.clip())
    s.flags.push_back("clip");
  chain.ops.push_back(s);
}

// --- ShiftIntensity -----------------------------------------------------------------------------

ShiftIntensity::ShiftIntensity(Options o) : o_(o) { validateByTrace(*this); }

MetaTensor ShiftIntensity::eager(const MetaTensor &img) const {
  at::Tensor out = asFloat(img.data) + o_.offset();
  return img.withData(out.to(img.data.scalar_type()));
}

void ShiftIntensity::trace(frontend::ChainSpec &chain) const {
  frontend::OpSpec s = spec(*this, "shift_intensity", chain.output());
  s.attrs = {{"offset", o_.offset()}};
  chain.ops.push_back(s);
}

// --- ScaleIntensity -----------------------------------------------------------------------------

ScaleIntensity::ScaleIntensity(Options o) : o_(o) { validateByTrace(*this); }

MetaTensor ScaleIntensity::eager(const MetaTensor &img) const {
  if (!rescales())
    return img.withData(apply(img.data, nullptr));
  return StatsTransform::eager(img);
}

void ScaleIntensity::stats(const at::Tensor &input, int64_t, std::vector<double> &params) const {
  at::Tensor x = asFloat(input);
  params.push_back(x.min().item<double>());
  params.push_back(x.max().item<double>());
}

at::Tensor ScaleIntensity::apply(const at::Tensor &input, const double *params) const {
  at::Tensor x = asFloat(input);
  if (!rescales())
    return (x * (1.0 + o_.factor().value_or(0.0))).to(at::kFloat);
  // MONAI's rescale_array, with the extrema as tensors of the image's float type.
  at::Tensor mina = at::scalar_tensor(params[0], x.options());
  at::Tensor maxa = at::scalar_tensor(params[1], x.options());
  if (params[0] == params[1])
    return (x * *o_.minv()).to(at::kFloat);
  at::Tensor norm = (x - mina) / (maxa - mina);
  return (norm * (*o_.maxv() - *o_.minv()) + *o_.minv()).to(at::kFloat);
}

void ScaleIntensity::trace(frontend::ChainSpec &chain) const {
  if (rescales()) { // split at the reduction: the extrema arrive as call parameters
    frontend::OpSpec s = opWithParams(*this, chain, "rescale_by", rt::DType::Float32, 2);
    s.attrs.push_back({"minv", *o_.minv()});
    s.attrs.push_back({"maxv", *o_.maxv()});
    chain.ops.push_back(s);
    return;
  }
  frontend::OpSpec s = spec(*this, "scale_intensity", rt::DType::Float32);
  if (o_.minv())
    s.attrs.push_back({"minv", *o_.minv()});
  if (o_.maxv())
    s.attrs.push_back({"maxv", *o_.maxv()});
  // As in MONAI, `factor` only applies when minv and maxv are both unset.
  if (o_.factor() && !o_.minv() && !o_.maxv())
    s.attrs.push_back({"factor", *o_.factor()});
  s.elementwise = s.attrs.size() == 1 && s.attrs[0].first == "factor";
  chain.ops.push_back(s);
}

// --- ThresholdIntensity -------------------------------------------------------------------------

ThresholdIntensity::ThresholdIntensity(Options o) : o_(o) { validateByTrace(*this); }

MetaTensor ThresholdIntensity::eager(const MetaTensor &img) const {
  const at::Tensor &x = img.data;
  at::Tensor mask = o_.above() ? (x > o_.threshold()) : (x < o_.threshold());
  // MONAI's `where` casts cval to the image's dtype first.
  at::Tensor cval =
      at::scalar_tensor(o_.cval(), x.options().dtype(at::kDouble)).to(x.scalar_type());
  return img.withData(at::where(mask, x, cval));
}

void ThresholdIntensity::trace(frontend::ChainSpec &chain) const {
  checkRepresentable(chain.output(), o_.cval(), name() + ".cval");
  frontend::OpSpec s = spec(*this, "threshold_intensity", chain.output());
  s.attrs = {{"threshold", o_.threshold()}, {"cval", o_.cval()}};
  if (o_.above())
    s.flags.push_back("above");
  chain.ops.push_back(s);
}

// --- ClipIntensity ------------------------------------------------------------------------------

ClipIntensity::ClipIntensity(Options o) : o_(o) { validateByTrace(*this); }

MetaTensor ClipIntensity::eager(const MetaTensor &img) const {
  at::Tensor x = asFloat(img.data);
  c10::optional<at::Scalar> lo, hi;
  if (o_.min())
    lo = *o_.min();
  if (o_.max())
    hi = *o_.max();
  return img.withData(at::clamp(x, lo, hi).to(img.data.scalar_type()));
}

void ClipIntensity::trace(frontend::ChainSpec &chain) const {
  double lo, hi;
  if (intRange(chain.output(), lo, hi)) {
    if (o_.min() && *o_.min() > hi)
      checkRepresentable(chain.output(), *o_.min(), name() + ".min");
    if (o_.max() && *o_.max() < lo)
      checkRepresentable(chain.output(), *o_.max(), name() + ".max");
  }
  frontend::OpSpec s = spec(*this, "clip", chain.output());
  if (o_.min())
    s.attrs.push_back({"min", *o_.min()});
  if (o_.max())
    s.attrs.push_back({"max", *o_.max()});
  chain.ops.push_back(s);
}

} // namespace med::transforms
