// TverskyLoss (Salehi et al. 2017): Dice with separate weights for false positives/negatives.
#pragma once

#include <string>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "med/losses/reduction.h"

namespace med::losses {

/// TverskyLoss's parameters (MONAI names and defaults).
struct TverskyLossOptions {
  TORCH_ARG(bool, include_background) = true;
  TORCH_ARG(bool, to_onehot_y) = false;
  TORCH_ARG(bool, sigmoid) = false;
  TORCH_ARG(bool, softmax) = false;
  TORCH_ARG(Activation, other_act) = nullptr;
  TORCH_ARG(double, alpha) = 0.5;
  TORCH_ARG(double, beta) = 0.5;
  TORCH_ARG(std::string, reduction) = "mean";
  TORCH_ARG(double, smooth_nr) = 1e-5;
  TORCH_ARG(double, smooth_dr) = 1e-5;
  TORCH_ARG(bool, batch) = false;
};

/// 1 - (TP + smooth_nr) / (TP + alpha FP + beta FN + smooth_dr) per (sample, class) (per class
/// with `batch`); alpha = beta = 0.5 is Dice. Reduction "none" returns the (B, C) scores.
///
///   med::losses::TverskyLoss loss(
///       med::losses::TverskyLossOptions().softmax(true).to_onehot_y(true).alpha(0.3).beta(0.7));
class TverskyLossImpl : public torch::nn::Module {
public:
  explicit TverskyLossImpl(TverskyLossOptions options = {});
  at::Tensor forward(const at::Tensor &input, const at::Tensor &target);
  TverskyLossOptions options;
};
TORCH_MODULE(TverskyLoss);

} // namespace med::losses
