// The cumulative buffer, the reductions and the input checks shared by all metrics.
#include "med/metrics/metric.h"

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <type_traits>

#include "med/core/error.h"
#include "med/kernels/reductions.h"

namespace med::metrics {

namespace {
const std::vector<std::string> kReductions = {
    "none", "mean", "sum", "mean_batch", "sum_batch", "mean_channel", "sum_channel"};
} // namespace

void check_reduction(const std::string &reduction, const std::string &owner) {
  if (std::find(kReductions.begin(), kReductions.end(), reduction) == kReductions.end())
    throw Error(owner + ".reduction", "expected one of none, mean, sum, mean_batch, sum_batch, "
                                      "mean_channel, sum_channel; got '" +
                                          reduction + "'");
}

std::pair<at::Tensor, at::Tensor> do_metric_reduction(const at::Tensor &f_in,
                                                      const std::string &reduction,
                                                      const std::string &owner) {
  check_reduction(reduction, owner);
  at::Tensor nans = at::isnan(f_in);
  at::Tensor not_nans = at::logical_not(nans).to(at::kFloat);
  at::Tensor f = at::where(nans, at::zeros({}, f_in.options()), f_in);
  if (reduction == "none")
    return {f_in.clone(), not_nans};
  if (f.dim() < 2 && reduction != "sum")
    throw Error(owner + ".reduction", "reduction '" + reduction +
                                          "' needs a (batch, class, ...) buffer, got " +
                                          std::to_string(f.dim()) + " dimensions");
  // torch.where against a shape-(1) zero, as MONAI does, so "mean" yields shape (1).
  at::Tensor zero = at::zeros({1}, f.options());
  auto safeDiv = [&](const at::Tensor &num, const at::Tensor &den) {
    return at::where(den > 0, num / den.to(num.scalar_type()), zero);
  };
  if (reduction == "mean") {
    at::Tensor n1 = not_nans.sum(1);
    at::Tensor f1 = safeDiv(f.sum(1), n1);
    at::Tensor n0 = (n1 > 0).to(at::kFloat).sum(0);
    return {safeDiv(f1.sum(0), n0), n0};
  }
  if (reduction == "sum") {
    if (f.dim() < 2)
      return {f.sum(), not_nans.sum()};
    return {f.sum(at::IntArrayRef{0, 1}), not_nans.sum(at::IntArrayRef{0, 1})};
  }
  if (reduction == "mean_batch") {
    at::Tensor n0 = not_nans.sum(0);
    return {safeDiv(f.sum(0), n0), n0};
  }
  if (reduction == "sum_batch")
    return {f.sum(0), not_nans.sum(0)};
  if (reduction == "mean_channel") {
    at::Tensor n1 = not_nans.sum(1);
    return {safeDiv(f.sum(1), n1), n1};
  }
  return {f.sum(1), not_nans.sum(1)}; // sum_channel
}

at::Tensor CumulativeIterationMetric::operator()(const at::Tensor &y_pred, const at::Tensor &y) {
  return append(compute(y_pred, y));
}

at::Tensor CumulativeIterationMetric::append(std::vector<at::Tensor> parts) {
  if (buffers_.empty())
    buffers_.resize(parts.size());
  if (buffers_.size() != parts.size())
    throw Error(name_, "internal: inconsistent number of buffers");
  for (size_t i = 0; i < parts.size(); ++i)
    buffers_[i].push_back(parts[i].detach());
  return parts.front();
}

void CumulativeIterationMetric::reset() { buffers_.clear(); }

void CumulativeIterationMetric::set_buffers(std::vector<std::vector<at::Tensor>> buffers) {
  buffers_ = std::move(buffers);
}

std::vector<at::Tensor> CumulativeIterationMetric::get_buffers() const {
  if (buffers_.empty() || buffers_.front().empty())
    throw Error(name_ + ".aggregate", "nothing accumulated yet: call the metric on a batch first");
  std::vector<at::Tensor> out;
  for (const auto &parts : buffers_)
    out.push_back(at::cat(parts, 0));
  return out;
}

at::Tensor CumulativeIterationMetric::get_buffer() const { return get_buffers().front(); }

ReducedMetric::ReducedMetric(std::string name, std::string reduction)
    : CumulativeIterationMetric(std::move(name)), reduction_(std::move(reduction)) {
  check_reduction(reduction_, name_);
}

at::Tensor ReducedMetric::aggregate(const std::string &reduction) const {
  return aggregate_with_not_nans(reduction).first;
}

std::pair<at::Tensor, at::Tensor>
ReducedMetric::aggregate_with_not_nans(const std::string &reduction) const {
  return do_metric_reduction(get_buffer(), reduction.empty() ? reduction_ : reduction, name_);
}

namespace detail {

void check_finite_input(const at::Tensor &t, const std::string &owner, const std::string &what) {
  if (!t.defined())
    throw Error(owner + "." + what, "expected a tensor, got an undefined one");
  if (!at::isFloatingType(t.scalar_type()))
    return;
  bool nan = false;
  if (t.device().is_cpu() && t.scalar_type() == at::kFloat && t.is_contiguous()) {
    // One pass without a temporary mask (the metrics call this on every input).
    const float *p = t.data_ptr<float>();
    int64_t count = 0; // a count, not a flag, so that the loop vectorises
    for (int64_t i = 0, n = t.numel(); i < n; ++i)
      count += p[i] != p[i];
    nan = count > 0;
  } else {
    nan = at::isnan(t).any().item<bool>();
  }
  if (nan)
    throw Error(owner + "." + what, "contains nan; expected finite values");
}

void check_binary(const at::Tensor &t, const std::string &owner, const std::string &what) {
  if (t.scalar_type() == at::kBool)
    return;
  bool binary = true;
  if (t.device().is_cpu() && t.scalar_type() == at::kFloat && t.is_contiguous()) {
    const float *p = t.data_ptr<float>();
    int64_t other = 0;
    for (int64_t i = 0, n = t.numel(); i < n; ++i)
      other += (p[i] != 0.0f) & (p[i] != 1.0f);
    binary = other == 0;
  } else {
    binary = at::logical_or(t == 0, t == 1).all().item<bool>();
  }
  if (!binary)
    throw Error(owner + "." + what,
                "expected a binarized tensor (values 0 or 1, e.g. one-hot after argmax or "
                "threshold), got other values");
}

void check_same_shape(const at::Tensor &y_pred, const at::Tensor &y, const std::string &owner,
                      int64_t min_dims) {
  if (!y_pred.sizes().equals(y.sizes()))
    throw Error(owner + ".y", "expected the shape of y_pred " +
                                  std::string(c10::str(y_pred.sizes())) + ", got " +
                                  std::string(c10::str(y.sizes())));
  if (y_pred.dim() < min_dims)
    throw Error(owner + ".y_pred", "expected at least " + std::to_string(min_dims) +
                                       " dimensions (batch, channel, spatial...), got " +
                                       std::to_string(y_pred.dim()));
}

namespace {
template <typename T> bool isNan(T v) {
  if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, at::Half>)
    return v != v;
  return false;
}
template <typename T> bool notBinary(T v) { return !(v == T(0) || v == T(1)); }
} // namespace

namespace {
/// The problem of the first offending element of a slab: 1 nan in y_pred, 2 non-binary y_pred,
/// 3 nan in y, 4 non-binary y, 0 none.
int firstProblem(const at::Tensor &yp, const at::Tensor &y, int64_t slab, bool binary) {
  int code = 0;
  AT_DISPATCH_ALL_TYPES_AND2(at::kBool, at::kHalf, yp.scalar_type(), "overlap_counts", [&] {
    const int64_t len = yp.numel() / (yp.size(0) * yp.size(1));
    const scalar_t *a = yp.data_ptr<scalar_t>() + slab * len,
                   *b = y.data_ptr<scalar_t>() + slab * len;
    for (int64_t i = 0; i < len && !code; ++i)
      code = isNan(a[i])                   ? 1
             : (binary && notBinary(a[i])) ? 2
             : isNan(b[i])                 ? 3
             : (binary && notBinary(b[i])) ? 4
                                           : 0;
  });
  return code;
}

/// The tensor the counting kernel reads: bool as its bytes (0 or 1), half-precision as float32.
at::Tensor kernelView(const at::Tensor &t) {
  if (t.scalar_type() == at::kBool)
    return t.view(at::kByte);
  if (t.scalar_type() == at::kHalf || t.scalar_type() == at::kBFloat16)
    return t.to(at::kFloat);
  return t;
}
} // namespace

at::Tensor overlap_counts(const at::Tensor &y_pred_in, const at::Tensor &y_in,
                          const std::string &owner, bool binary) {
  if (!y_pred_in.defined() || !y_in.defined())
    throw Error(owner + ".y_pred", "expected defined tensors");
  if (y_pred_in.dim() < 2)
    throw Error(owner + ".y_pred", "expected at least (batch, channel) dimensions");
  at::Tensor yp = y_pred_in.cpu().contiguous(), y = y_in.cpu().contiguous();
  if (y.scalar_type() != yp.scalar_type()) { // compare in a type that keeps both values
    auto common = at::promote_types(y.scalar_type(), yp.scalar_type());
    yp = yp.to(common);
    y = y.to(common);
  }
  const int64_t slabs = yp.size(0) * yp.size(1);
  // One generated med.overlap_counts kernel over fixed blocks of each (item, class) slab.
  at::Tensor k = kernels::overlap_counts(kernelView(yp), kernelView(y), slabs, binary,
                                         at::get_num_threads(), owner);
  const double *flags = k.data_ptr<double>();
  for (int64_t s = 0; s < slabs; ++s) {
    if (flags[4 * s + 3] == 0.0)
      continue;
    const int code = firstProblem(yp, y, s, binary);
    switch (code) {
    case 1:
      throw Error(owner + ".y_pred", "contains nan; expected finite values");
    case 3:
      throw Error(owner + ".y", "contains nan; expected finite values");
    case 2:
    case 4:
      throw Error(owner + (code == 2 ? ".y_pred" : ".y"),
                  "expected a binarized tensor (values 0 or 1, e.g. one-hot after argmax or "
                  "threshold), got other values");
    default:
      break;
    }
  }
  return k.narrow(1, 0, 3).reshape({yp.size(0), yp.size(1), 3});
}

at::Tensor drop_background(const at::Tensor &t, bool include_background) {
  if (include_background || t.size(1) <= 1)
    return t;
  return t.slice(1, 1);
}

} // namespace detail
} // namespace med::metrics
