// Sums of an overlap loss and a voxel-wise loss, as MONAI combines them: DiceCELoss,
// DiceFocalLoss and GeneralizedDiceFocalLoss.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "med/losses/dice.h"
#include "med/losses/focal.h"

namespace med::losses {

/// DiceCELoss's parameters. `weight` (empty = None) is the cross-entropy class weight and, with
/// the background dropped when include_background is false, Dice's class weight.
struct DiceCELossOptions {
  TORCH_ARG(bool, include_background) = true;
  TORCH_ARG(bool, to_onehot_y) = false;
  TORCH_ARG(bool, sigmoid) = false;
  TORCH_ARG(bool, softmax) = false;
  TORCH_ARG(Activation, other_act) = nullptr;
  TORCH_ARG(bool, squared_pred) = false;
  TORCH_ARG(bool, jaccard) = false;
  TORCH_ARG(std::string, reduction) = "mean";
  TORCH_ARG(double, smooth_nr) = 1e-5;
  TORCH_ARG(double, smooth_dr) = 1e-5;
  TORCH_ARG(bool, batch) = false;
  TORCH_ARG(std::vector<double>, weight) = {};
  TORCH_ARG(double, lambda_dice) = 1.0;
  TORCH_ARG(double, lambda_ce) = 1.0;
  TORCH_ARG(double, label_smoothing) = 0.0;
};

/// lambda_dice * DiceLoss + lambda_ce * cross-entropy on the raw logits (class indices when the
/// target has one channel, class probabilities otherwise; binary cross-entropy with logits when
/// the input has one channel). Cross-entropy always includes the background. Reduction "mean" or
/// "sum" only.
///
///   med::losses::DiceCELoss
///   loss(med::losses::DiceCELossOptions().to_onehot_y(true).softmax(true));
class DiceCELossImpl : public torch::nn::Module {
public:
  explicit DiceCELossImpl(DiceCELossOptions options = {});
  at::Tensor forward(const at::Tensor &input, const at::Tensor &target);
  DiceCELossOptions options;

private:
  DiceLoss dice_{nullptr};
};
TORCH_MODULE(DiceCELoss);

/// DiceFocalLoss's parameters (MONAI names; `weight` is shared by both terms, `focal_weight`
/// overrides it when given).
struct DiceFocalLossOptions {
  TORCH_ARG(bool, include_background) = true;
  TORCH_ARG(bool, to_onehot_y) = false;
  TORCH_ARG(bool, sigmoid) = false;
  TORCH_ARG(bool, softmax) = false;
  TORCH_ARG(Activation, other_act) = nullptr;
  TORCH_ARG(bool, squared_pred) = false;
  TORCH_ARG(bool, jaccard) = false;
  TORCH_ARG(std::string, reduction) = "mean";
  TORCH_ARG(double, smooth_nr) = 1e-5;
  TORCH_ARG(double, smooth_dr) = 1e-5;
  TORCH_ARG(bool, batch) = false;
  TORCH_ARG(double, gamma) = 2.0;
  TORCH_ARG(std::vector<double>, focal_weight) = {};
  TORCH_ARG(std::vector<double>, weight) = {};
  TORCH_ARG(double, lambda_dice) = 1.0;
  TORCH_ARG(double, lambda_focal) = 1.0;
  TORCH_ARG(std::optional<double>, alpha) = std::nullopt;
};

/// lambda_dice * DiceLoss + lambda_focal * FocalLoss. The focal term always uses the sigmoid
/// form on the raw logits (MONAI 1.4.0 does not pass softmax to it); the target is one-hot
/// encoded once, before both terms.
///
///   med::losses::DiceFocalLoss loss(med::losses::DiceFocalLossOptions().sigmoid(true));
class DiceFocalLossImpl : public torch::nn::Module {
public:
  explicit DiceFocalLossImpl(DiceFocalLossOptions options = {});
  at::Tensor forward(const at::Tensor &input, const at::Tensor &target);
  DiceFocalLossOptions options;

private:
  DiceLoss dice_{nullptr};
  FocalLoss focal_{nullptr};
};
TORCH_MODULE(DiceFocalLoss);

/// GeneralizedDiceFocalLoss's parameters.
struct GeneralizedDiceFocalLossOptions {
  TORCH_ARG(bool, include_background) = true;
  TORCH_ARG(bool, to_onehot_y) = false;
  TORCH_ARG(bool, sigmoid) = false;
  TORCH_ARG(bool, softmax) = false;
  TORCH_ARG(Activation, other_act) = nullptr;
  TORCH_ARG(std::string, w_type) = "square";
  TORCH_ARG(std::string, reduction) = "mean";
  TORCH_ARG(double, smooth_nr) = 1e-5;
  TORCH_ARG(double, smooth_dr) = 1e-5;
  TORCH_ARG(bool, batch) = false;
  TORCH_ARG(double, gamma) = 2.0;
  TORCH_ARG(std::vector<double>, focal_weight) = {};
  TORCH_ARG(std::vector<double>, weight) = {};
  TORCH_ARG(double, lambda_gdl) = 1.0;
  TORCH_ARG(double, lambda_focal) = 1.0;
};

/// lambda_gdl * GeneralizedDiceLoss + lambda_focal * FocalLoss (sigmoid form on the logits).
///
///   med::losses::GeneralizedDiceFocalLoss loss(
///       med::losses::GeneralizedDiceFocalLossOptions().softmax(true).to_onehot_y(true));
class GeneralizedDiceFocalLossImpl : public torch::nn::Module {
public:
  explicit GeneralizedDiceFocalLossImpl(GeneralizedDiceFocalLossOptions options = {});
  at::Tensor forward(const at::Tensor &input, const at::Tensor &target);
  GeneralizedDiceFocalLossOptions options;

private:
  GeneralizedDiceLoss gdl_{nullptr};
  FocalLoss focal_{nullptr};
};
TORCH_MODULE(GeneralizedDiceFocalLoss);

} // namespace med::losses
