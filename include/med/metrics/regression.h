// Regression and image-similarity metrics (MONAI 1.4.0): MSEMetric, MAEMetric, RMSEMetric,
// PSNRMetric, SSIMMetric and MultiScaleSSIMMetric. Each keeps a (B, 1) buffer.
#pragma once

#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>

#include "med/metrics/metric.h"

namespace med::metrics {

struct RegressionMetricOptions {
  TORCH_ARG(std::string, reduction) = "mean";
  TORCH_ARG(bool, get_not_nans) = false;
};

/// The shared per-item mean error: y_pred and y of the same shape (B, ...), at least 2-D.
class RegressionMetric : public ReducedMetric {
protected:
  RegressionMetric(std::string name, const RegressionMetricOptions &o);
  std::vector<at::Tensor> compute(const at::Tensor &y_pred, const at::Tensor &y) override;
  virtual at::Tensor compute_metric(const at::Tensor &y_pred, const at::Tensor &y) = 0;
  /// Whether compute() scans both inputs for NaN before compute_metric. False for the metrics on
  /// the med.error_sums kernel: a NaN input makes its sums NaN, and only then are the inputs
  /// scanned, to name the one at fault.
  bool scanInputs_ = true;
};

/// Mean squared error per item.   med::metrics::MSEMetric mse;  mse(pred, target);
class MSEMetric : public RegressionMetric {
public:
  explicit MSEMetric(RegressionMetricOptions options = {});

protected:
  at::Tensor compute_metric(const at::Tensor &y_pred, const at::Tensor &y) override;
};

/// Mean absolute error per item.   med::metrics::MAEMetric mae;
class MAEMetric : public RegressionMetric {
public:
  explicit MAEMetric(RegressionMetricOptions options = {});

protected:
  at::Tensor compute_metric(const at::Tensor &y_pred, const at::Tensor &y) override;
};

/// Root mean squared error per item (the root of each item's MSE).
class RMSEMetric : public RegressionMetric {
public:
  explicit RMSEMetric(RegressionMetricOptions options = {});

protected:
  at::Tensor compute_metric(const at::Tensor &y_pred, const at::Tensor &y) override;
};

struct PSNRMetricOptions {
  explicit PSNRMetricOptions(double max_val) : max_val_(max_val) {}
  TORCH_ARG(double, max_val);
  TORCH_ARG(std::string, reduction) = "mean";
  TORCH_ARG(bool, get_not_nans) = false;
};

/// Peak signal-to-noise ratio per item: 20 log10(max_val) - 10 log10(MSE).
///
///   med::metrics::PSNRMetric psnr(med::metrics::PSNRMetricOptions(1.0));
class PSNRMetric : public RegressionMetric {
public:
  explicit PSNRMetric(PSNRMetricOptions options);
  PSNRMetricOptions options;

protected:
  at::Tensor compute_metric(const at::Tensor &y_pred, const at::Tensor &y) override;
};

/// The SSIM and contrast-sensitivity maps of (B, C, *spatial) images with valid (unpadded)
/// windows: kernel "gaussian" (separable, sigma per axis) or "uniform".
std::pair<at::Tensor, at::Tensor>
compute_ssim_and_cs(const at::Tensor &y_pred, const at::Tensor &y, int64_t spatial_dims,
                    std::vector<int64_t> kernel_size, std::vector<double> kernel_sigma,
                    double data_range = 1.0, const std::string &kernel_type = "gaussian",
                    double k1 = 0.01, double k2 = 0.03);

struct SSIMMetricOptions {
  explicit SSIMMetricOptions(int64_t spatial_dims) : spatial_dims_(spatial_dims) {}
  TORCH_ARG(int64_t, spatial_dims);
  TORCH_ARG(double, data_range) = 1.0;
  TORCH_ARG(std::string, kernel_type) = "gaussian";
  TORCH_ARG(std::vector<int64_t>, win_size) = {11};
  TORCH_ARG(std::vector<double>, kernel_sigma) = {1.5};
  TORCH_ARG(double, k1) = 0.01;
  TORCH_ARG(double, k2) = 0.03;
  TORCH_ARG(std::string, reduction) = "mean";
  TORCH_ARG(bool, get_not_nans) = false;
};

/// Structural similarity per item (mean of the SSIM map), 2D or 3D.
///
///   med::metrics::SSIMMetric ssim(med::metrics::SSIMMetricOptions(3).win_size({7}));
class SSIMMetric : public RegressionMetric {
public:
  explicit SSIMMetric(SSIMMetricOptions options);
  SSIMMetricOptions options;

protected:
  at::Tensor compute_metric(const at::Tensor &y_pred, const at::Tensor &y) override;
};

struct MultiScaleSSIMMetricOptions {
  explicit MultiScaleSSIMMetricOptions(int64_t spatial_dims) : spatial_dims_(spatial_dims) {}
  TORCH_ARG(int64_t, spatial_dims);
  TORCH_ARG(double, data_range) = 1.0;
  TORCH_ARG(std::string, kernel_type) = "gaussian";
  TORCH_ARG(std::vector<int64_t>, kernel_size) = {11};
  TORCH_ARG(std::vector<double>, kernel_sigma) = {1.5};
  TORCH_ARG(double, k1) = 0.01;
  TORCH_ARG(double, k2) = 0.03;
  TORCH_ARG(std::vector<double>, weights) = {0.0448, 0.2856, 0.3001, 0.2363, 0.1333};
  TORCH_ARG(std::string, reduction) = "mean";
  TORCH_ARG(bool, get_not_nans) = false;
};

/// Multi-scale SSIM per item: contrast sensitivity at each scale (2x average pooling between
/// scales) and SSIM at the last, combined with `weights` as exponents.
class MultiScaleSSIMMetric : public RegressionMetric {
public:
  explicit MultiScaleSSIMMetric(MultiScaleSSIMMetricOptions options);
  MultiScaleSSIMMetricOptions options;

protected:
  at::Tensor compute_metric(const at::Tensor &y_pred, const at::Tensor &y) override;
};

} // namespace med::metrics
