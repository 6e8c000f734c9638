// The nnU-Net style blocks of MONAI's dynunet_block module: UnetBasicBlock (conv-norm-act twice),
// UnetResBlock (the same with a residual path), UnetUpBlock (transposed conv, concatenation
// with the skip, UnetBasicBlock) and UnetOutBlock (1x1 conv). DynUNet and the UNETR / SwinUNETR
// decoders are built from them. Submodule names are MONAI's ("conv1.conv", "norm1",
// "transp_conv.conv", "conv_block.conv1.conv", ...), so state_dict keys match MONAI checkpoints.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/pimpl.h>

#include "med/networks/blocks/convolutions.h"
#include "med/networks/layers/factories.h"

namespace med::networks::blocks {

/// MONAI's default activation of the dynunet blocks: leaky ReLU with slope 0.01, in place.
LayerSpec dynunetDefaultAct();

/// MONAI's get_padding: (kernel_size - stride + 1) / 2 per axis (floored), the padding that
/// makes a strided conv map n to ceil(n / stride). Negative values throw med::Error naming `where`.
std::vector<int64_t> dynunetPadding(const std::vector<int64_t> &kernel_size,
                                    const std::vector<int64_t> &stride, const std::string &where);

/// MONAI's get_output_padding: 2 * padding + stride - kernel_size per axis, so a transposed conv
/// undoes the matching strided conv. Negative values throw med::Error naming `where`.
std::vector<int64_t> dynunetOutputPadding(const std::vector<int64_t> &kernel_size,
                                          const std::vector<int64_t> &stride,
                                          const std::vector<int64_t> &padding,
                                          const std::string &where);

/// MONAI's dynunet get_conv_layer: a Convolution without norm and activation (an ADN holding
/// only the dropout, when given), "dynunet" padding, and bias off by default.
///
///   Convolution c = dynunetConv(3, 16, 32, {3}, {2}, std::nullopt, /*bias=*/false);
Convolution dynunetConv(int64_t spatial_dims, int64_t in_channels, int64_t out_channels,
                        const std::vector<int64_t> &kernel_size, const std::vector<int64_t> &stride,
                        const std::optional<LayerSpec> &dropout, bool bias = false,
                        bool is_transposed = false);

/// Options shared by UnetBasicBlock and UnetResBlock (MONAI's names). `kernel_size` and `stride`
/// take one value or one per spatial axis; `norm_name` is a norm spec such as "instance" or
/// ("group", {"num_groups": 4}); `dropout` None means no dropout layer.
///
///   UnetResBlock(UnetBlockOptions(3, 16, 32, {3}, {2}, "instance"))
struct UnetBlockOptions {
  UnetBlockOptions(int64_t spatial_dims, int64_t in_channels, int64_t out_channels,
                   std::vector<int64_t> kernel_size, std::vector<int64_t> stride,
                   LayerSpec norm_name)
      : spatial_dims_(spatial_dims), in_channels_(in_channels), out_channels_(out_channels),
        kernel_size_(std::move(kernel_size)), stride_(std::move(stride)),
        norm_name_(std::move(norm_name)) {}
  TORCH_ARG(int64_t, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(std::vector<int64_t>, kernel_size);
  TORCH_ARG(std::vector<int64_t>, stride);
  TORCH_ARG(LayerSpec, norm_name);
  TORCH_ARG(LayerSpec, act_name) = dynunetDefaultAct();
  TORCH_ARG(std::optional<LayerSpec>, dropout) = std::nullopt;
};

namespace detail {
/// The layers UnetBasicBlock and UnetResBlock share, registered on `owner` in MONAI's order
/// (conv1 with the block's stride, conv2, lrelu, norm1, norm2).
struct UnetConvLayers {
  UnetConvLayers(torch::nn::Module &owner, const UnetBlockOptions &o);
  /// act(norm1(conv1(x))) then norm2(conv2(.)): the block before its last activation.
  at::Tensor beforeLastAct(const at::Tensor &x);
  Convolution conv1{nullptr}, conv2{nullptr};
  torch::nn::AnyModule lrelu, norm1, norm2;
};
} // namespace detail

/// conv1 (stride) -> norm1 -> act -> conv2 -> norm2 -> act: one nnU-Net encoder/decoder stage.
class UnetBasicBlockImpl : public torch::nn::Module {
public:
  explicit UnetBasicBlockImpl(UnetBlockOptions options);
  at::Tensor forward(const at::Tensor &x);
  UnetBlockOptions options;

private:
  detail::UnetConvLayers layers_;
};
TORCH_MODULE(UnetBasicBlock);

/// UnetBasicBlock with a residual path added before the last activation; the residual is a
/// strided 1x1 conv ("conv3") + norm ("norm3") when the stride or the channel count changes.
class UnetResBlockImpl : public torch::nn::Module {
public:
  explicit UnetResBlockImpl(UnetBlockOptions options);
  at::Tensor forward(const at::Tensor &x);
  UnetBlockOptions options;

private:
  detail::UnetConvLayers layers_;
  Convolution conv3_{nullptr};
  torch::nn::AnyModule norm3_;
};
TORCH_MODULE(UnetResBlock);

/// Options of UnetUpBlock: the transposed conv has kernel and stride `upsample_kernel_size`
/// and bias `trans_bias`; the conv block after the concatenation has `kernel_size`, stride 1.
///
///   UnetUpBlock(UnetUpBlockOptions(3, 64, 32, {3}, {2}, "instance"))
struct UnetUpBlockOptions {
  UnetUpBlockOptions(int64_t spatial_dims, int64_t in_channels, int64_t out_channels,
                     std::vector<int64_t> kernel_size, std::vector<int64_t> upsample_kernel_size,
                     LayerSpec norm_name)
      : spatial_dims_(spatial_dims), in_channels_(in_channels), out_channels_(out_channels),
        kernel_size_(std::move(kernel_size)),
        upsample_kernel_size_(std::move(upsample_kernel_size)), norm_name_(std::move(norm_name)) {}
  TORCH_ARG(int64_t, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(std::vector<int64_t>, kernel_size);
  TORCH_ARG(std::vector<int64_t>, upsample_kernel_size);
  TORCH_ARG(LayerSpec, norm_name);
  TORCH_ARG(LayerSpec, act_name) = dynunetDefaultAct();
  TORCH_ARG(std::optional<LayerSpec>, dropout) = std::nullopt;
  TORCH_ARG(bool, trans_bias) = false;
};

/// forward(x, skip): transp_conv(x) concatenated with `skip` on channels -> conv_block.
/// `skip` must have out_channels channels and the up-sampled spatial size.
class UnetUpBlockImpl : public torch::nn::Module {
public:
  explicit UnetUpBlockImpl(UnetUpBlockOptions options);
  at::Tensor forward(const at::Tensor &x, const at::Tensor &skip);
  UnetUpBlockOptions options;

private:
  Convolution transp_conv_{nullptr};
  UnetBasicBlock conv_block_{nullptr};
};
TORCH_MODULE(UnetUpBlock);

/// A 1x1 conv with bias ("conv.conv"): the segmentation head mapping features to classes.
///
///   UnetOutBlock(3, 16, 2)
class UnetOutBlockImpl : public torch::nn::Module {
public:
  UnetOutBlockImpl(int64_t spatial_dims, int64_t in_channels, int64_t out_channels,
                   std::optional<LayerSpec> dropout = std::nullopt);
  at::Tensor forward(const at::Tensor &x);

private:
  Convolution conv_{nullptr};
};
TORCH_MODULE(UnetOutBlock);

} // namespace med::networks::blocks
