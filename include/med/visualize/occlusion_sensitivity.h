// Occlusion sensitivity: how a classifier's output changes when parts of the image are hidden
// (Zeiler & Fergus), as MONAI's OcclusionSensitivity.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/module.h>

namespace med::visualize {

/// OcclusionSensitivity's parameters (MONAI's names and defaults). `mask_size`: one entry for
/// all spatial axes or one per axis. `mode`: "gaussian" (the patch is multiplied by 1 - a
/// Gaussian centred on it, so the centre is hidden and the edges kept; overlapping windows are
/// blended with Gaussian weights), "mean_patch" (replaced by the patch's mean), "mean_img"
/// (replaced by the image's mean). `activate`: sigmoid when the *image* has one channel, else
/// softmax over classes (MONAI's rule); `activation` overrides it with any callable.
struct OcclusionSensitivityOptions {
  TORCH_ARG(std::vector<int64_t>, mask_size) = {16};
  TORCH_ARG(int64_t, n_batch) = 16;
  TORCH_ARG(std::string, mode) = "gaussian";
  TORCH_ARG(double, overlap) = 0.25;
  TORCH_ARG(bool, activate) = true;
  TORCH_ARG(std::function<at::Tensor(const at::Tensor &)>, activation) = nullptr;
};

/// Slides an occluding window (mask_size, `overlap`) over a single image, runs the classifier on
/// batches of `n_batch` occluded copies and spreads each copy's (activated) class scores over the
/// window; overlapping windows are averaged. Returns (sensitivity map (1, num_classes,
/// *spatial), most probable class (1, 1, *spatial) int64): low values mark regions the class
/// depends on.
///
///   med::visualize::OcclusionSensitivity occ(
///       [&](const at::Tensor &x) { return net(x); },
///       med::visualize::OcclusionSensitivityOptions().mask_size({8}).mode("mean_img"));
///   auto [sens, cls] = occ(img);   // img: (1, C, H, W)
class OcclusionSensitivity {
public:
  using Model = std::function<at::Tensor(const at::Tensor &)>;
  /// `module`, when given, is in eval mode while the map is computed.
  explicit OcclusionSensitivity(Model model, OcclusionSensitivityOptions options = {},
                                std::shared_ptr<torch::nn::Module> module = nullptr);

  std::pair<at::Tensor, at::Tensor> operator()(const at::Tensor &x) const;

  /// The multiplicative factor of the "gaussian" mode for a window (channels, *mask_size):
  /// 1 - a Gaussian bump (sigma = mask_size / 4) scaled to [0, 1], 0 at the centre voxel.
  static at::Tensor gaussian_occlusion(int64_t channels, const std::vector<int64_t> &mask_size,
                                       at::TensorOptions options);

private:
  Model model_;
  OcclusionSensitivityOptions options_;
  std::shared_ptr<torch::nn::Module> module_;
};

} // namespace med::visualize
