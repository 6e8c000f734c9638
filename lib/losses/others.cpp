// GeneralizedWassersteinDiceLoss, ContrastiveLoss and MultiScaleLoss.
#include "med/losses/contrastive.h"
#include "med/losses/reduction.h"
#include "med/losses/registration.h"
#include "med/losses/wasserstein.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <ATen/ATen.h>

#include "med/core/error.h"
#include "wasserstein_generated.h"

namespace med::losses {

namespace {
std::string shapeOf(const at::Tensor &t) {
  std::ostringstream s;
  if (t.defined())
    s << t.sizes();
  else
    s << "undefined";
  return s.str();
}
} // namespace

GeneralizedWassersteinDiceLossImpl::GeneralizedWassersteinDiceLossImpl(
    GeneralizedWassersteinDiceLossOptions o)
    : options(std::move(o)) {
  const std::string owner = "GeneralizedWassersteinDiceLoss";
  const at::Tensor &m = options.dist_matrix();
  if (!m.defined() || m.dim() != 2 || m.size(0) != m.size(1) || m.size(0) < 2)
    throw Error(owner + ".dist_matrix",
                "expected a square (C, C) matrix with C >= 2, got " + shapeOf(m));
  if (options.weighting_mode() != "default" && options.weighting_mode() != "GDL")
    throw Error(owner + ".weighting_mode",
                "expected default or GDL, got '" + options.weighting_mode() + "'");
  check_reduction(owner, options.reduction());
  m_ = m.detach().to(at::kFloat);
  double mx = m_.max().item<double>();
  if (!(mx > 0))
    throw Error(owner + ".dist_matrix", "expected a positive largest distance");
  if (mx != 1.0)
    m_ = m_ / mx;
}

at::Tensor GeneralizedWassersteinDiceLossImpl::forward(const at::Tensor &input,
                                                       const at::Tensor &target) {
  const std::string owner = "GeneralizedWassersteinDiceLoss";
  const int64_t C = m_.size(0);
  if (!input.defined() || input.dim() < 3 || input.size(1) != C)
    throw Error(owner + ".input",
                "expected (B, " + std::to_string(C) + ", *spatial) logits, got " + shapeOf(input));
  const int64_t B = input.size(0);
  const int64_t N = input.numel() / std::max<int64_t>(B * C, 1);
  if (!target.defined() || target.numel() != B * N)
    throw Error(owner + ".target", "expected labels of shape (B, [1,] *spatial) matching " +
                                       shapeOf(input) + ", got " + shapeOf(target));
  const detail::WassersteinPlan plan{m_, options.weighting_mode() == "GDL", options.smooth_nr(),
                                     options.smooth_dr()};
  at::Tensor loss = detail::wasserstein_dice_generated(plan, input, target);
  if (!loss.defined()) { // the ATen form: other dtypes and devices, a target with a gradient
    at::Tensor y = target.reshape({B, N}).detach().to(at::kLong);
    if (y.numel() > 0 && (y.min().item<int64_t>() < 0 || y.max().item<int64_t>() >= C))
      throw Error(owner + ".target", "labels must lie in [0, " + std::to_string(C) + ")");
    loss = detail::wasserstein_dice_eager(plan, input, y);
  }
  return reduce(loss, options.reduction());
}

ContrastiveLossImpl::ContrastiveLossImpl(ContrastiveLossOptions o) : options(std::move(o)) {
  if (!(options.temperature() > 0))
    throw Error("ContrastiveLoss.temperature", "expected a value > 0");
}

void ContrastiveLossImpl::check(const at::Tensor &input, const at::Tensor &target) const {
  if (!input.defined() || !target.defined() || input.dim() != 2 || target.dim() != 2)
    throw Error("ContrastiveLoss.input", "expected (B, F) features, got input " + shapeOf(input) +
                                             " and target " + shapeOf(target));
  if (!input.sizes().equals(target.sizes()))
    throw Error("ContrastiveLoss.target",
                "expected the input's shape " + shapeOf(input) + ", got " + shapeOf(target));
}

/// MONAI's NT-Xent from the (2B, 2B) similarity matrix: minus the log of each row's positive
/// over its negatives, exponentials of similarity / temperature, averaged over the 2B rows.
static at::Tensor ntXent(const at::Tensor &sim, int64_t B, double temperature) {
  at::Tensor pos = at::cat({at::diag(sim, B), at::diag(sim, -B)}, 0);
  at::Tensor negMask = 1.0 - at::eye(2 * B, sim.options().requires_grad(false));
  at::Tensor denom = (negMask * at::exp(sim / temperature)).sum(1);
  at::Tensor partial = -at::log(at::exp(pos / temperature) / denom);
  return partial.sum() / double(2 * B);
}

at::Tensor ContrastiveLossImpl::forward(const at::Tensor &input, const at::Tensor &target) {
  check(input, target);
  // Cosine similarities as one matrix product of the rows scaled to unit length (norms held at
  // cosine_similarity's eps): the same matrix as MONAI's (2B, 2B, F) broadcast product.
  at::Tensor reps = at::cat({input, target}, 0);
  at::Tensor unit = reps / at::clamp_min(at::linalg_vector_norm(reps, 2, {1}, true), 1e-8);
  return ntXent(at::mm(unit, unit.t()), input.size(0), options.temperature());
}

at::Tensor ContrastiveLossImpl::forward_eager(const at::Tensor &input, const at::Tensor &target) {
  check(input, target);
  at::Tensor reps = at::cat({input, target}, 0);
  at::Tensor sim = at::cosine_similarity(reps.unsqueeze(1), reps.unsqueeze(0), 2);
  return ntXent(sim, input.size(0), options.temperature());
}

at::Tensor multi_scale_kernel(const std::string &kernel, double sigma) {
  if (!(sigma > 0))
    throw Error("MultiScaleLoss.scales", "kernel sigmas must be > 0 (0 means no smoothing)");
  std::vector<double> k;
  if (kernel == "gaussian") {
    int64_t tail = int64_t(std::max(sigma * 3.0, 0.5) + 0.5);
    for (int64_t x = -tail; x <= tail; ++x)
      k.push_back(std::exp(-0.5 * double(x * x) / (sigma * sigma)));
  } else if (kernel == "cauchy") {
    int64_t tail = int64_t(sigma * 5);
    for (int64_t x = -tail; x <= tail; ++x)
      k.push_back(1.0 / ((double(x) / sigma) * (double(x) / sigma) + 1.0));
  } else {
    throw Error("MultiScaleLoss.kernel", "expected gaussian or cauchy, got '" + kernel + "'");
  }
  at::Tensor t = at::tensor(k, at::kDouble);
  return (t / t.sum()).to(at::kFloat);
}

MultiScaleLossImpl::MultiScaleLossImpl(MultiScaleLossOptions o) : options(std::move(o)) {
  if (!options.loss())
    throw Error("MultiScaleLoss.loss", "expected a loss function");
  if (options.kernel() != "gaussian" && options.kernel() != "cauchy")
    throw Error("MultiScaleLoss.kernel",
                "expected gaussian or cauchy, got '" + options.kernel() + "'");
  check_reduction("MultiScaleLoss", options.reduction());
  for (double s : options.scales())
    if (s < 0)
      throw Error("MultiScaleLoss.scales", "expected sigmas >= 0");
}

at::Tensor MultiScaleLossImpl::forward(const at::Tensor &y_true, const at::Tensor &y_pred) {
  if (options.scales().empty())
    return reduce(options.loss()(y_pred, y_true), options.reduction());
  std::vector<at::Tensor> values;
  for (double s : options.scales()) {
    if (s == 0) {
      values.push_back(options.loss()(y_pred, y_true));
      continue;
    }
    at::Tensor k = multi_scale_kernel(options.kernel(), s).to(y_pred.scalar_type());
    values.push_back(
        options.loss()(separable_filtering(y_pred, k), separable_filtering(y_true, k)));
  }
  return reduce(at::stack(values, 0), options.reduction());
}

} // namespace med::losses
