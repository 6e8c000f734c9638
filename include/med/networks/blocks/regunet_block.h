// The blocks of MONAI's registration U-Net (RegUNet, after DeepReg): bias-free conv blocks with
// batch norm and ReLU, a residual conv block, a halving down-sample (max pool or strided conv),
// a doubling transposed-conv block, and the extraction head that averages per-level outputs
// resized to the image. Submodule names are MONAI's ("layers", "norms", "acts", "layer", "conv",
// "adn") so state_dict keys match MONAI checkpoints.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include "med/networks/blocks/convolutions.h"

namespace med::networks::blocks {

/// A bias-free Convolution + norm + act with "same" padding (unless `padding` is given), its
/// conv weight drawn by `initializer`: "kaiming_uniform" (which, as MONAI, draws Kaiming-normal
/// values), "zeros", or none (LibTorch's default draw). RegUNet's standard conv block.
///
///   Convolution c = get_conv_block(3, 8, 16); // conv -> BatchNorm3d -> ReLU
Convolution get_conv_block(int64_t spatial_dims, int64_t in_channels, int64_t out_channels,
                           int64_t kernel_size = 3, int64_t strides = 1,
                           std::optional<int64_t> padding = std::nullopt,
                           std::optional<LayerSpec> act = LayerSpec("RELU"),
                           std::optional<LayerSpec> norm = LayerSpec("BATCH"),
                           std::optional<std::string> initializer = std::string("kaiming_uniform"));

/// A bare bias-free convolution ("conv" only) with "same" padding; the residual block's layers.
Convolution get_conv_layer(int64_t spatial_dims, int64_t in_channels, int64_t out_channels,
                           int64_t kernel_size = 3);

/// Transposed conv (kernel 3, stride 2, padding 1, output padding 1, no bias) + BatchNorm + ReLU:
/// doubles the spatial size on RegUNet's decoding path.
Convolution get_deconv_block(int64_t spatial_dims, int64_t in_channels, int64_t out_channels);

/// `num_layers` x (conv -> batch norm -> ReLU), the input added before the last ReLU; keeps the
/// spatial size. `in_channels` must equal `out_channels` for the residual sum (as MONAI uses it).
///
///   RegistrationResidualConvBlock b(3, 16, 16); // b->forward(x) has x's shape
class RegistrationResidualConvBlockImpl : public torch::nn::Module {
public:
  RegistrationResidualConvBlockImpl(int64_t spatial_dims, int64_t in_channels, int64_t out_channels,
                                    int64_t num_layers = 2, int64_t kernel_size = 3);
  at::Tensor forward(const at::Tensor &x);

private:
  std::vector<Convolution> convs_;
  std::vector<torch::nn::AnyModule> norms_, acts_;
};
TORCH_MODULE(RegistrationResidualConvBlock);

/// Halves every spatial axis ("layer": a 2x2 max pool when `pooling`, else a kernel-2 stride-2
/// conv block); the channel count stays. Odd spatial sizes throw med::Error.
///
///   RegistrationDownSampleBlock down(2, 8, /*pooling=*/true); // (B, 8, 16, 16) -> (B, 8, 8, 8)
class RegistrationDownSampleBlockImpl : public torch::nn::Module {
public:
  RegistrationDownSampleBlockImpl(int64_t spatial_dims, int64_t channels, bool pooling);
  at::Tensor forward(const at::Tensor &x);

private:
  torch::nn::AnyModule layer_;
};
TORCH_MODULE(RegistrationDownSampleBlock);

/// RegUNet's output head: for each extract level l, a conv block (no norm, activation
/// `activation`, weights by `kernel_initializer`) on that level's feature map, resized
/// (nearest) to the image size; the result is the mean over levels.
///
///   RegistrationExtractionBlock head(2, {1, 2}, {4, 8, 16}, 2);
///   at::Tensor y = head->forward({bottom, level1}, {32, 32});
class RegistrationExtractionBlockImpl : public torch::nn::Module {
public:
  RegistrationExtractionBlockImpl(
      int64_t spatial_dims, std::vector<int64_t> extract_levels,
      const std::vector<int64_t> &num_channels, int64_t out_channels,
      std::optional<std::string> kernel_initializer = std::string("kaiming_uniform"),
      std::optional<LayerSpec> activation = std::nullopt);
  /// `x` holds the decoded maps from the deepest level (max extract level) upwards, one per
  /// level; `image_size` is the output's spatial size.
  at::Tensor forward(const std::vector<at::Tensor> &x, at::IntArrayRef image_size);

private:
  std::vector<int64_t> extract_levels_;
  int64_t max_level_ = 0;
  std::vector<Convolution> convs_;
};
TORCH_MODULE(RegistrationExtractionBlock);

/// LocalNet's up-sampling: get_deconv_block(x) plus x resized x2 (`mode`: "nearest", "linear",
/// "bilinear", "trilinear", "bicubic"; `align_corners` only for the interpolating modes) with its
/// channel halves summed, so in_channels must be 2 * out_channels. Submodule "deconv".
///
///   AdditiveUpSampleBlock up(3, 16, 8); // (B, 16, 4, 4, 4) -> (B, 8, 8, 8, 8)
class AdditiveUpSampleBlockImpl : public torch::nn::Module {
public:
  AdditiveUpSampleBlockImpl(int64_t spatial_dims, int64_t in_channels, int64_t out_channels,
                            std::string mode = "nearest",
                            std::optional<bool> align_corners = std::nullopt);
  at::Tensor forward(const at::Tensor &x);

private:
  std::string mode_;
  std::optional<bool> align_corners_;
  Convolution deconv_{nullptr};
};
TORCH_MODULE(AdditiveUpSampleBlock);

/// F.interpolate(x, size, mode, align_corners) for the modes AdditiveUpSampleBlock accepts;
/// med::Error(`where`) for others.
at::Tensor regInterpolate(const at::Tensor &x, at::IntArrayRef size, const std::string &mode,
                          std::optional<bool> align_corners, const std::string &where);

} // namespace med::networks::blocks
