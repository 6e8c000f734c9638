// Regularisers of a dense displacement field: BendingEnergyLoss and DiffusionLoss. On a CPU
// float32/float64 field they run on the generated stencil kernels: "mean" and "sum" as per
// channel energy sums forward and med.ddf_energy_grad backward, "none" as the energy map forward
// and med.ddf_energy_weighted_grad backward. Other devices and dtypes, and a backward that must
// itself be differentiable, use the ATen formula below, which is also the kernels' reference in
// the tests.
#include "med/losses/reduction.h"
#include "med/losses/registration.h"

#include <sstream>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include "med/core/error.h"
#include "med/kernels/ddf.h"
#include "stencil_generated.h"

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

/// MONAI's energy map of order 1 (DiffusionLoss) or 2 (BendingEnergyLoss) in ATen: (B, n,
/// *interior).
at::Tensor eagerEnergy(const at::Tensor &pred, int64_t order, bool normalize) {
  at::Tensor energy;
  auto add = [&](const at::Tensor &t) { energy = energy.defined() ? energy + t : t; };
  for (int64_t d1 = 2; d1 < pred.dim(); ++d1) {
    at::Tensor g = spatial_gradient(pred, d1);
    if (normalize)
      g = g * sizeRatio(pred, d1);
    if (order == 1) {
      add(g * g);
      continue;
    }
    double s1 = normalize ? double(pred.size(d1)) : 1.0;
    add(at::pow(spatial_gradient(g, d1) * s1, 2));
    for (int64_t d2 = d1 + 1; d2 < pred.dim(); ++d2) {
      double s2 = normalize ? double(pred.size(d2)) : 1.0;
      add(2 * at::pow(spatial_gradient(g, d2) * s2, 2));
    }
  }
  return energy;
}

} // namespace

at::Tensor detail::ddf_energy_map_eager(const at::Tensor &pred, int64_t order, bool normalize) {
  return eagerEnergy(pred, order, normalize);
}

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// Keeps the field (contiguous, returned) and the loss's settings for a Function's backward.
at::Tensor saveField(AutogradContext *ctx, const at::Tensor &pred, int64_t order, bool normalize,
                     const std::string &owner) {
  at::Tensor p = pred.contiguous();
  ctx->saved_data["pred"] = p;
  ctx->saved_data["order"] = order;
  ctx->saved_data["normalize"] = normalize;
  ctx->saved_data["owner"] = owner;
  ctx->save_for_backward({pred});
  return p;
}

/// Per channel (b, c) the summed energy, (B, n) float64, through med.ddf_energy; the backward
/// through med.ddf_energy_grad with the incoming gradient per channel as its coefficient.
struct DdfEnergyFunction : public torch::autograd::Function<DdfEnergyFunction> {
  static at::Tensor forward(AutogradContext *ctx, const at::Tensor &pred, int64_t order,
                            bool normalize, const std::string &owner) {
    at::Tensor p = saveField(ctx, pred, order, normalize, owner);
    return kernels::ddf_energy(p, order, normalize, at::get_num_threads(), owner)
        .view({p.size(0), p.size(1)});
  }

  static variable_list backward(AutogradContext *ctx, variable_list go) {
    const int64_t order = ctx->saved_data["order"].toInt();
    const bool normalize = ctx->saved_data["normalize"].toBool();
    variable_list none = {at::Tensor(), at::Tensor(), at::Tensor()};
    if (at::GradMode::is_enabled()) { // create_graph: a gradient that has a graph itself
      at::Tensor pred = ctx->get_saved_variables()[0];
      none.insert(none.begin(), detail::channelSumsGradWithGraph(
                                    eagerEnergy(pred, order, normalize), pred, go[0]));
      return none;
    }
    at::Tensor pred = ctx->saved_data["pred"].toTensor();
    at::Tensor coeff = go[0].to(at::kDouble).cpu().contiguous().view(-1);
    none.insert(none.begin(),
                kernels::ddf_energy_grad(pred, coeff, order, normalize, at::get_num_threads(),
                                         ctx->saved_data["owner"].toStringRef()));
    return none;
  }
};

/// Reduction "none": the energy map (B, n, *interior) through med.ddf_energy; the backward
/// through med.ddf_energy_weighted_grad with the incoming gradient map as its weights.
struct DdfEnergyMapFunction : public torch::autograd::Function<DdfEnergyMapFunction> {
  static at::Tensor forward(AutogradContext *ctx, const at::Tensor &pred, int64_t order,
                            bool normalize, const std::string &owner) {
    at::Tensor p = saveField(ctx, pred, order, normalize, owner);
    return kernels::ddf_energy_map(p, order, normalize, at::get_num_threads(), owner);
  }

  static variable_list backward(AutogradContext *ctx, variable_list go) {
    const int64_t order = ctx->saved_data["order"].toInt();
    const bool normalize = ctx->saved_data["normalize"].toBool();
    variable_list none = {at::Tensor(), at::Tensor(), at::Tensor()};
    if (at::GradMode::is_enabled()) { // create_graph: a gradient that has a graph itself
      at::Tensor pred = ctx->get_saved_variables()[0];
      none.insert(none.begin(), torch::autograd::grad({eagerEnergy(pred, order, normalize)}, {pred},
                                                      {go[0]}, true, true)[0]);
      return none;
    }
    at::Tensor pred = ctx->saved_data["pred"].toTensor();
    none.insert(none.begin(), kernels::ddf_energy_map_grad(
                                  pred, go[0].to(pred.scalar_type()).contiguous(), order, normalize,
                                  at::get_num_threads(), ctx->saved_data["owner"].toStringRef()));
    return none;
  }
};

/// The loss: on the kernels where they apply (see the file comment), else MONAI's formula.
at::Tensor ddfLoss(const at::Tensor &pred, int64_t order, bool normalize,
                   const std::string &reduction, const std::string &owner) {
  const at::ScalarType type = pred.scalar_type();
  if ((type == at::kFloat || type == at::kDouble) && pred.device().is_cpu() &&
      (reduction == "mean" || reduction == "sum")) {
    at::Tensor total = DdfEnergyFunction::apply(pred, order, normalize, owner).sum();
    if (reduction == "mean") {
      int64_t count = pred.size(0) * pred.size(1);
      for (int64_t d = 2; d < pred.dim(); ++d)
        count *= pred.size(d) - 2 * order;
      total = total / double(count);
    }
    return total.to(type);
  }
  if ((type == at::kFloat || type == at::kDouble) && pred.device().is_cpu() && reduction == "none")
    return DdfEnergyMapFunction::apply(pred, order, normalize, owner);
  return reduce(eagerEnergy(pred, order, normalize), reduction);
}

} // namespace

BendingEnergyLossImpl::BendingEnergyLossImpl(BendingEnergyLossOptions o) : options(std::move(o)) {
  check_reduction("BendingEnergyLoss", options.reduction());
}

at::Tensor BendingEnergyLossImpl::forward(const at::Tensor &pred) {
  checkDdf("BendingEnergyLoss", pred, 4);
  return ddfLoss(pred, 2, options.normalize(), options.reduction(), "BendingEnergyLoss");
}

DiffusionLossImpl::DiffusionLossImpl(DiffusionLossOptions o) : options(std::move(o)) {
  check_reduction("DiffusionLoss", options.reduction());
}

at::Tensor DiffusionLossImpl::forward(const at::Tensor &pred) {
  checkDdf("DiffusionLoss", pred, 2);
  return ddfLoss(pred, 1, options.normalize(), options.reduction(), "DiffusionLoss");
}

} // namespace med::losses
