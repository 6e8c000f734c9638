// SSIM and multi-scale SSIM with valid (unpadded) windows. Without a gradient to carry, CPU
// float32/float64 inputs run on the generated window passes (med/kernels/ssim.h: the window's
// 1-D factors one axis at a time); otherwise ATen's convolutions with the whole n-D window, as
// MONAI, which the tests compare the kernels with.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include <cmath>

#include "med/core/error.h"
#include "med/kernels/ssim.h"
#include "med/metrics/regression.h"

namespace med::metrics {

namespace {

/// A normalised 1-D Gaussian of `size` taps centred on the middle tap, float32 like MONAI.
at::Tensor gauss1d(int64_t size, double sigma) {
  at::Tensor x =
      at::arange((1.0 - double(size)) / 2.0, (1.0 + double(size)) / 2.0, 1.0, at::kFloat);
  at::Tensor g = at::exp(-(x / sigma).square() / 2.0);
  return g / g.sum();
}

std::vector<int64_t> perAxis(std::vector<int64_t> v, int64_t dims, const std::string &where) {
  if (v.size() == 1)
    v.assign(dims, v[0]);
  if (int64_t(v.size()) != dims)
    throw Error(where, "expected one value or one per spatial dimension");
  for (int64_t k : v)
    if (k < 1)
      throw Error(where, "expected window sizes >= 1");
  return v;
}

std::vector<double> perAxisD(std::vector<double> v, int64_t dims, const std::string &where) {
  if (v.size() == 1)
    v.assign(dims, v[0]);
  if (int64_t(v.size()) != dims)
    throw Error(where, "expected one value or one per spatial dimension");
  for (double s : v)
    if (!(s > 0))
      throw Error(where, "expected positive sigmas");
  return v;
}

at::Tensor conv(const at::Tensor &x, const at::Tensor &k, int64_t dims, int64_t groups) {
  const std::vector<int64_t> one(dims, 1), zero(dims, 0);
  return dims == 2 ? at::conv2d(x, k, at::Tensor(), one, zero, one, groups)
                   : at::conv3d(x, k, at::Tensor(), one, zero, one, groups);
}

void checkDims(int64_t spatial_dims, const std::string &owner) {
  if (spatial_dims != 2 && spatial_dims != 3)
    throw Error(owner + ".spatial_dims", "expected 2 or 3, got " + std::to_string(spatial_dims));
}

} // namespace

std::pair<at::Tensor, at::Tensor>
compute_ssim_and_cs(const at::Tensor &y_pred, const at::Tensor &y, int64_t spatial_dims,
                    std::vector<int64_t> kernel_size, std::vector<double> kernel_sigma,
                    double data_range, const std::string &kernel_type, double k1, double k2) {
  const std::string owner = "compute_ssim_and_cs";
  checkDims(spatial_dims, owner);
  if (!y_pred.sizes().equals(y.sizes()))
    throw Error(owner + ".y", "expected the shape of y_pred");
  if (y_pred.dim() != spatial_dims + 2)
    throw Error(owner + ".y_pred", "expected (B, C) + " + std::to_string(spatial_dims) +
                                       " spatial dimensions, got " + std::to_string(y_pred.dim()) +
                                       " dimensions");
  kernel_size = perAxis(kernel_size, spatial_dims, owner + ".kernel_size");
  for (int64_t d = 0; d < spatial_dims; ++d)
    if (y_pred.size(d + 2) < kernel_size[d])
      throw Error(owner + ".kernel_size", "window larger than the image");
  const int64_t C = y_pred.size(1);
  if (kernel_type == "gaussian")
    kernel_sigma = perAxisD(kernel_sigma, spatial_dims, owner + ".kernel_sigma");
  const double c1 = std::pow(k1 * data_range, 2), c2 = std::pow(k2 * data_range, 2);
  const at::ScalarType type = y_pred.scalar_type();
  const bool graph = at::GradMode::is_enabled() && (y_pred.requires_grad() || y.requires_grad());
  if ((type == at::kFloat || type == at::kDouble) && y.scalar_type() == type && !graph &&
      y_pred.device().is_cpu() && y.device().is_cpu() && y_pred.numel() > 0 &&
      (kernel_type == "gaussian" || kernel_type == "uniform")) {
    // The window's 1-D factors, float32 values as MONAI forms them. The uniform window is
    // MONAI's float32 1 / (K_0 ... K_(n-1)) on the first axis and ones on the others, so its
    // product is MONAI's weight exactly. The Gaussian's product is formed in the inputs' dtype,
    // where MONAI rounds it to float32 first: in float64 the weights differ from MONAI's by at
    // most 2^-24 relative (docs/metrics.md).
    int64_t taps = 1;
    for (int64_t k : kernel_size)
      taps *= k;
    std::vector<std::vector<double>> windows;
    for (int64_t d = 0; d < spatial_dims; ++d) {
      if (kernel_type == "uniform") {
        windows.emplace_back(kernel_size[d], d == 0 ? double(1.0f / float(taps)) : 1.0);
        continue;
      }
      at::Tensor w = gauss1d(kernel_size[d], kernel_sigma[d]);
      windows.emplace_back(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
    }
    return kernels::ssim_maps(y_pred.contiguous(), y.contiguous(), windows, c1, c2,
                              at::get_num_threads(), owner);
  }
  at::Tensor kernel;
  if (kernel_type == "gaussian") {
    kernel = gauss1d(kernel_size[0], kernel_sigma[0]);
    for (int64_t d = 1; d < spatial_dims; ++d)
      kernel = kernel.unsqueeze(-1) * gauss1d(kernel_size[d], kernel_sigma[d]);
  } else if (kernel_type == "uniform") {
    int64_t n = 1;
    for (int64_t k : kernel_size)
      n *= k;
    kernel = at::ones(kernel_size, at::kFloat) / double(n);
  } else {
    throw Error(owner + ".kernel_type",
                "expected 'gaussian' or 'uniform', got '" + kernel_type + "'");
  }
  std::vector<int64_t> kshape = {C, 1};
  kshape.insert(kshape.end(), kernel_size.begin(), kernel_size.end());
  kernel = kernel.expand(kshape).contiguous().to(y_pred.options());
  at::Tensor mx = conv(y_pred, kernel, spatial_dims, C), my = conv(y, kernel, spatial_dims, C);
  at::Tensor mxx = conv(y_pred * y_pred, kernel, spatial_dims, C);
  at::Tensor myy = conv(y * y, kernel, spatial_dims, C);
  at::Tensor mxy = conv(y_pred * y, kernel, spatial_dims, C);
  at::Tensor sx = mxx - mx * mx, sy = myy - my * my, sxy = mxy - mx * my;
  at::Tensor cs = (2 * sxy + c2) / (sx + sy + c2);
  at::Tensor ssim = ((2 * mx * my + c1) / (mx * mx + my * my + c1)) * cs;
  return {ssim, cs};
}

SSIMMetric::SSIMMetric(SSIMMetricOptions o)
    : RegressionMetric(
          "SSIMMetric",
          RegressionMetricOptions().reduction(o.reduction()).get_not_nans(o.get_not_nans())),
      options(std::move(o)) {
  checkDims(options.spatial_dims(), name_);
  perAxis(options.win_size(), options.spatial_dims(), name_ + ".win_size");
  if (options.kernel_type() != "gaussian" && options.kernel_type() != "uniform")
    throw Error(name_ + ".kernel_type", "expected 'gaussian' or 'uniform'");
}

at::Tensor SSIMMetric::compute_metric(const at::Tensor &y_pred, const at::Tensor &y) {
  if (y_pred.dim() != options.spatial_dims() + 2)
    throw Error(name_ + ".y_pred", "expected " + std::to_string(options.spatial_dims() + 2) +
                                       " dimensions (B, C, spatial), got " +
                                       std::to_string(y_pred.dim()));
  at::Tensor ssim = compute_ssim_and_cs(y_pred, y, options.spatial_dims(), options.win_size(),
                                        options.kernel_sigma(), options.data_range(),
                                        options.kernel_type(), options.k1(), options.k2())
                        .first;
  return ssim.reshape({ssim.size(0), -1}).mean(1, true);
}

MultiScaleSSIMMetric::MultiScaleSSIMMetric(MultiScaleSSIMMetricOptions o)
    : RegressionMetric(
          "MultiScaleSSIMMetric",
          RegressionMetricOptions().reduction(o.reduction()).get_not_nans(o.get_not_nans())),
      options(std::move(o)) {
  checkDims(options.spatial_dims(), name_);
  if (options.weights().empty())
    throw Error(name_ + ".weights", "expected at least one scale weight");
}

at::Tensor MultiScaleSSIMMetric::compute_metric(const at::Tensor &y_pred_in,
                                                const at::Tensor &y_in) {
  const int64_t dims = options.spatial_dims();
  if (y_pred_in.dim() != dims + 2)
    throw Error(name_ + ".y_pred", "expected " + std::to_string(dims + 2) + " dimensions");
  std::vector<int64_t> ks = perAxis(options.kernel_size(), dims, name_ + ".kernel_size");
  const int64_t scales = int64_t(options.weights().size());
  const int64_t div = std::max<int64_t>(1, scales - 1) * std::max<int64_t>(1, scales - 1);
  for (int64_t d = 0; d < dims; ++d)
    if (y_pred_in.size(d + 2) / div <= ks[d] - 1)
      throw Error(name_ + ".y_pred", "image too small for " + std::to_string(scales) +
                                         " scales with kernel size " + std::to_string(ks[d]));
  at::Tensor x = y_pred_in, y = y_in, ssim;
  std::vector<at::Tensor> levels;
  for (int64_t s = 0; s < scales; ++s) {
    auto [ss, cs] =
        compute_ssim_and_cs(x, y, dims, ks, options.kernel_sigma(), options.data_range(),
                            options.kernel_type(), options.k1(), options.k2());
    ssim = ss;
    levels.push_back(at::relu(cs.reshape({cs.size(0), -1}).mean(1)));
    x = dims == 2 ? at::avg_pool2d(x, 2) : at::avg_pool3d(x, 2);
    y = dims == 2 ? at::avg_pool2d(y, 2) : at::avg_pool3d(y, 2);
  }
  levels.back() = at::relu(ssim.reshape({ssim.size(0), -1}).mean(1));
  at::Tensor w = at::tensor(options.weights(), at::kDouble).to(at::kFloat).view({-1, 1});
  at::Tensor ms = at::prod(at::stack(levels).pow(w.to(y_pred_in.options())), 0);
  return ms.reshape({ms.size(0), -1}).mean(1, true);
}

} // namespace med::metrics
