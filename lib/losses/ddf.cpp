// Regularisers of a dense displacement field: BendingEnergyLoss and DiffusionLoss.
#include "med/losses/reduction.h"
#include "med/losses/registration.h"

#include <sstream>

#include <ATen/ATen.h>

#include "med/core/error.h"

namespace med::losses {

at::Tensor spatial_gradient(const at::Tensor &x, int64_t dim) {
  at::Tensor hi = x, lo = x;
  for (int64_t d = 2; d < x.dim(); ++d) {
    int64_t n = x.size(d);
    if (d == dim) {
      hi = hi.slice(d, 2, n);
      lo = lo.slice(d, 0, n - 2);
    } else {
      hi = hi.slice(d, 1, n - 1);
      lo = lo.slice(d, 1, n - 1);
    }
  }
  return (hi - lo) / 2;
}

namespace {

/// Checks a DDF (B, ndim, *spatial) whose spatial sizes all exceed `minSize`.
void checkDdf(const std::string &owner, const at::Tensor &pred, int64_t minSize) {
  std::ostringstream shape;
  if (pred.defined())
    shape << pred.sizes();
  if (!pred.defined() || pred.dim() < 3 || pred.dim() > 5)
    throw Error(owner + ".pred", "expected a 3-d, 4-d or 5-d DDF, got shape " + shape.str());
  for (int64_t d = 2; d < pred.dim(); ++d)
    if (pred.size(d) <= minSize)
      throw Error(owner + ".pred", "all spatial sizes must be > " + std::to_string(minSize) +
                                       ", got shape " + shape.str());
  if (pred.size(1) != pred.dim() - 2)
    throw Error(owner + ".pred", "the DDF needs one channel per spatial axis (" +
                                     std::to_string(pred.dim() - 2) + "), got shape " +
                                     shape.str());
}

/// MONAI's normalisation factor for the derivative along `dim`: size(dim) / size(2 + c) for
/// vector component c, as a (1, ndim, 1, ...) float32 tensor.
at::Tensor sizeRatio(const at::Tensor &pred, int64_t dim) {
  int64_t nd = pred.dim() - 2;
  std::vector<float> r;
  for (int64_t c = 0; c < nd; ++c)
    r.push_back(float(double(pred.size(dim)) / double(pred.size(2 + c))));
  std::vector<int64_t> shape(pred.dim(), 1);
  shape[1] = nd;
  return at::tensor(r, pred.options().dtype(at::kFloat).requires_grad(false)).view(shape);
}

} // namespace

BendingEnergyLossImpl::BendingEnergyLossImpl(BendingEnergyLossOptions o) : options(std::move(o)) {
  check_reduction("BendingEnergyLoss", options.reduction());
}

at::Tensor BendingEnergyLossImpl::forward(const at::Tensor &pred) {
  checkDdf("BendingEnergyLoss", pred, 4);
  at::Tensor energy;
  auto add = [&](const at::Tensor &t) { energy = energy.defined() ? energy + t : t; };
  for (int64_t d1 = 2; d1 < pred.dim(); ++d1) {
    at::Tensor g = spatial_gradient(pred, d1);
    if (options.normalize())
      g = g * sizeRatio(pred, d1);
    double s1 = options.normalize() ? double(pred.size(d1)) : 1.0;
    add(at::pow(spatial_gradient(g, d1) * s1, 2));
    for (int64_t d2 = d1 + 1; d2 < pred.dim(); ++d2) {
      double s2 = options.normalize() ? double(pred.size(d2)) : 1.0;
      add(2 * at::pow(spatial_gradient(g, d2) * s2, 2));
    }
  }
  return reduce(energy, options.reduction());
}

DiffusionLossImpl::DiffusionLossImpl(DiffusionLossOptions o) : options(std::move(o)) {
  check_reduction("DiffusionLoss", options.reduction());
}

at::Tensor DiffusionLossImpl::forward(const at::Tensor &pred) {
  checkDdf("DiffusionLoss", pred, 2);
  at::Tensor diffusion;
  for (int64_t d = 2; d < pred.dim(); ++d) {
    at::Tensor g = spatial_gradient(pred, d);
    if (options.normalize())
      g = g * sizeRatio(pred, d);
    at::Tensor sq = g * g;
    diffusion = diffusion.defined() ? diffusion + sq : sq;
  }
  return reduce(diffusion, options.reduction());
}

} // namespace med::losses
