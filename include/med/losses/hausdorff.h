// HausdorffDTLoss and LogHausdorffDTLoss (Karimi & Salcudean 2019): a squared error weighted by
// distance fields, so that errors far from the object boundaries cost more, which approximates
// the Hausdorff distance in a differentiable way (MONAI 1.4.0 semantics).
#pragma once

#include <string>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "med/losses/reduction.h"

namespace med::losses {

/// HausdorffDTLoss's parameters (MONAI names and defaults; note include_background=false here).
struct HausdorffDTLossOptions {
  TORCH_ARG(double, alpha) = 2.0;
  TORCH_ARG(bool, include_background) = false;
  TORCH_ARG(bool, to_onehot_y) = false;
  TORCH_ARG(bool, sigmoid) = false;
  TORCH_ARG(bool, softmax) = false;
  TORCH_ARG(Activation, other_act) = nullptr;
  TORCH_ARG(std::string, reduction) = "mean";
  TORCH_ARG(bool, batch) = false;
};

/// The distance field MONAI's HausdorffDTLoss weights errors with: for one (B, C, *spatial)
/// prediction or target, per (sample, channel), binarize with `> 0.5` and add the Euclidean
/// distance of each foreground voxel to the background and of each background voxel to the
/// foreground (the distance to the boundary, from either side). Masks that are empty or all
/// foreground get a zero field, as in MONAI. Returns float32 on `img`'s device, without gradient.
///
///   at::Tensor f = med::losses::hausdorff_distance_field(target); // (2, 1, 16, 16)
at::Tensor hausdorff_distance_field(const at::Tensor &img);

/// Per channel, mean over the spatial axes (and the batch with `batch`) of
/// (input - target)^2 * (field(input)^alpha + field(target)^alpha), with the fields from
/// hausdorff_distance_field (not differentiated). Reduction "none" returns (B, C, 1, ...)
/// ((1, C, 1, ...) with `batch`). Only 2-D (B, C, H, W) and 3-D (B, C, H, W, D) inputs.
///
///   med::losses::HausdorffDTLoss loss(
///       med::losses::HausdorffDTLossOptions().softmax(true).to_onehot_y(true));
///   at::Tensor l = loss(logits, labels); // logits (2, 3, 32, 32), labels (2, 1, 32, 32)
class HausdorffDTLossImpl : public torch::nn::Module {
public:
  explicit HausdorffDTLossImpl(HausdorffDTLossOptions options = {});
  at::Tensor forward(const at::Tensor &input, const at::Tensor &target);
  HausdorffDTLossOptions options;

protected:
  /// Lets LogHausdorffDTLoss check the options and report errors under its own name.
  HausdorffDTLossImpl(HausdorffDTLossOptions options, std::string name);
  std::string name_;
};
TORCH_MODULE(HausdorffDTLoss);

/// log(HausdorffDTLoss + 1): same options, compresses the large values that distance weighting
/// produces early in training. With reduction "none" the log is taken per (sample, channel).
///
///   med::losses::LogHausdorffDTLoss loss(med::losses::HausdorffDTLossOptions().sigmoid(true));
class LogHausdorffDTLossImpl : public HausdorffDTLossImpl {
public:
  explicit LogHausdorffDTLossImpl(HausdorffDTLossOptions options = {});
  at::Tensor forward(const at::Tensor &input, const at::Tensor &target);
};
TORCH_MODULE(LogHausdorffDTLoss);

} // namespace med::losses
