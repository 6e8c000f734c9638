// The decoder blocks of MONAI's UNETR and SwinUNETR: UnetrBasicBlock (one UnetBasicBlock or
// UnetResBlock), UnetrPrUpBlock (transposed convs that bring transformer tokens back to image
// resolution) and UnetrUpBlock (up-sample, concatenate the skip, conv block). Submodule names
// are MONAI's ("layer", "transp_conv_init", "blocks.0.0", "transp_conv", "conv_block").
#pragma once

#include <cstdint>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include "med/networks/blocks/convolutions.h"
#include "med/networks/blocks/dynunet_block.h"

namespace med::networks::blocks {

/// Options shared by the UNETR blocks (MONAI's names); `kernel_size`, `stride`,
/// `upsample_kernel_size` take one value or one per axis.
///
///   UnetrBasicBlock(UnetrBlockOptions(3, 1, 16).res_block(true))
struct UnetrBlockOptions {
  UnetrBlockOptions(int64_t spatial_dims, int64_t in_channels, int64_t out_channels)
      : spatial_dims_(spatial_dims), in_channels_(in_channels), out_channels_(out_channels) {}
  TORCH_ARG(int64_t, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(std::vector<int64_t>, kernel_size) = {3};
  TORCH_ARG(std::vector<int64_t>, stride) = {1};
  TORCH_ARG(std::vector<int64_t>, upsample_kernel_size) = {2};
  TORCH_ARG(LayerSpec, norm_name) = LayerSpec("instance");
  /// UnetrPrUpBlock: the number of extra up-sampling stages after transp_conv_init.
  TORCH_ARG(int64_t, num_layer) = 0;
  /// UnetrPrUpBlock: each extra stage is a transposed conv followed by a conv block.
  TORCH_ARG(bool, conv_block) = false;
  TORCH_ARG(bool, res_block) = false;
};

/// An encoder stage at image resolution: UnetResBlock when res_block, else UnetBasicBlock.
class UnetrBasicBlockImpl : public torch::nn::Module {
public:
  explicit UnetrBasicBlockImpl(UnetrBlockOptions options);
  at::Tensor forward(const at::Tensor &x);
  UnetrBlockOptions options;

private:
  torch::nn::AnyModule layer_;
};
TORCH_MODULE(UnetrBasicBlock);

/// transp_conv_init, then num_layer x (transposed conv [+ conv block when conv_block]): each
/// stage multiplies the spatial size by upsample_kernel_size.
class UnetrPrUpBlockImpl : public torch::nn::Module {
public:
  explicit UnetrPrUpBlockImpl(UnetrBlockOptions options);
  at::Tensor forward(const at::Tensor &x);
  UnetrBlockOptions options;

private:
  Convolution transp_conv_init_{nullptr};
  torch::nn::ModuleList blocks_{nullptr};
  std::vector<torch::nn::AnyModule> stages_;
};
TORCH_MODULE(UnetrPrUpBlock);

/// forward(x, skip): transp_conv(x), concatenated with skip (out_channels channels), then a
/// UnetResBlock / UnetBasicBlock back to out_channels.
class UnetrUpBlockImpl : public torch::nn::Module {
public:
  explicit UnetrUpBlockImpl(UnetrBlockOptions options);
  at::Tensor forward(const at::Tensor &x, const at::Tensor &skip);
  UnetrBlockOptions options;

private:
  Convolution transp_conv_{nullptr};
  torch::nn::AnyModule conv_block_;
};
TORCH_MODULE(UnetrUpBlock);

} // namespace med::networks::blocks
