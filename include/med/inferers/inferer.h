// Inferers: objects that turn a network (any Predictor) and an input batch into a prediction, so
// that engines and evaluation code can switch between whole-image and windowed inference by
// configuration (MONAI's Inferer, SimpleInferer, SlidingWindowInferer).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>

#include "med/inferers/sliding_window.h"

namespace med::inferers {

/// The common interface: `inferer(inputs, predictor)` returns the prediction for `inputs`.
class Inferer {
public:
  virtual ~Inferer() = default;
  virtual at::Tensor operator()(const at::Tensor &inputs, const Predictor &predictor) const = 0;
};

/// Runs the predictor on the whole batch at once (for inputs that fit the network).
///
///   SimpleInferer()(batch, [&](const at::Tensor &x) { return net(x); });
class SimpleInferer : public Inferer {
public:
  at::Tensor operator()(const at::Tensor &inputs, const Predictor &predictor) const override;
};

/// Options of SlidingWindowInferer (MONAI's names and defaults; see sliding_window_inference).
struct SlidingWindowInfererOptions {
  SlidingWindowInfererOptions(std::vector<int64_t> roi_size) : roi_size_(std::move(roi_size)) {}
  TORCH_ARG(std::vector<int64_t>, roi_size);
  TORCH_ARG(int64_t, sw_batch_size) = 1;
  TORCH_ARG(double, overlap) = 0.25;
  TORCH_ARG(std::string, mode) = "constant";
  TORCH_ARG(std::vector<double>, sigma_scale) = {0.125};
  TORCH_ARG(std::string, padding_mode) = "constant";
  TORCH_ARG(double, cval) = 0.0;
};

/// sliding_window_inference with its settings fixed once; the options are checked at
/// construction (med::Error naming SlidingWindowInferer.<parameter>).
///
///   SlidingWindowInferer inf(SlidingWindowInfererOptions({96, 96, 96}).sw_batch_size(4)
///                                .overlap(0.5).mode("gaussian"));
///   at::Tensor out = inf(img, [&](const at::Tensor &x) { return net(x); });
class SlidingWindowInferer : public Inferer {
public:
  using Options = SlidingWindowInfererOptions;
  explicit SlidingWindowInferer(Options o);
  at::Tensor operator()(const at::Tensor &inputs, const Predictor &predictor) const override;
  const Options &options() const { return o_; }

private:
  Options o_;
};

} // namespace med::inferers
