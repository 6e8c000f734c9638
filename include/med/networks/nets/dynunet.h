// MONAI's DynUNet: the self-configuring nnU-Net architecture. Every level is a UnetBasicBlock (or
// UnetResBlock) with its own kernel size and stride, the decoder is UnetUpBlocks (transposed conv +
// skip concatenation), and optional deep-supervision heads (UnetOutBlocks on the upper decoder
// levels) add low-resolution predictions during training. Submodule names are MONAI's
// ("input_block", "downsamples.N", "bottleneck", "upsamples.N", "output_block",
// "deep_supervision_heads.N", and the "skip_layers.*" view of the same weights), so state_dict
// keys match MONAI checkpoints.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/pimpl.h>

#include "med/networks/blocks/dynunet_block.h"
#include "med/networks/layers/factories.h"

namespace med::networks::nets {

using layers::LayerSpec;

/// Options of DynUNet, MONAI's arguments and defaults. `kernel_size` and `strides` have one entry
/// per level (at least 3, the same count); each entry is one value (all axes) or one per spatial
/// axis. `upsample_kernel_size` has one entry per up-sampling level (len(strides) - 1) and is
/// also the transposed conv's stride, so it should equal strides[1:]. `filters` defaults to
/// min(2^(5+i), 320 in 3D / 512 otherwise) for level i. `dropout` None means no dropout layer.
///
///   auto net = DynUNet(DynUNetOptions(3, 1, 2, {{3}, {3}, {3}, {3}}, {{1}, {2}, {2}, {2}},
///                                     {{2}, {2}, {2}}).deep_supervision(true));
struct DynUNetOptions {
  using PerLevel = std::vector<std::vector<int64_t>>;
  DynUNetOptions(int64_t spatial_dims, int64_t in_channels, int64_t out_channels,
                 PerLevel kernel_size, PerLevel strides, PerLevel upsample_kernel_size)
      : spatial_dims_(spatial_dims), in_channels_(in_channels), out_channels_(out_channels),
        kernel_size_(std::move(kernel_size)), strides_(std::move(strides)),
        upsample_kernel_size_(std::move(upsample_kernel_size)) {}
  TORCH_ARG(int64_t, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(PerLevel, kernel_size);
  TORCH_ARG(PerLevel, strides);
  TORCH_ARG(PerLevel, upsample_kernel_size);
  TORCH_ARG(std::optional<std::vector<int64_t>>, filters) = std::nullopt;
  TORCH_ARG(std::optional<LayerSpec>, dropout) = std::nullopt;
  TORCH_ARG(LayerSpec, norm_name) = LayerSpec("INSTANCE", {{"affine", true}});
  TORCH_ARG(LayerSpec, act_name) = LayerSpec("leakyrelu",
                                             {{"inplace", true}, {"negative_slope", 0.01}});
  TORCH_ARG(bool, deep_supervision) = false;
  TORCH_ARG(int64_t, deep_supr_num) = 1;
  TORCH_ARG(bool, res_block) = false;
  TORCH_ARG(bool, trans_bias) = false;
};

/// (B, in_channels, *S) -> (B, out_channels, *S'); S' = S / prod(strides) * prod(strides) when
/// the sizes divide evenly. With deep_supervision in training mode the result is
/// (B, 1 + deep_supr_num, out_channels, *S'): the main head followed by each supervision head
/// up-sampled (nearest) to S'. In eval mode (or without deep supervision) only the main head.
class DynUNetImpl : public torch::nn::Module {
public:
  explicit DynUNetImpl(DynUNetOptions options);
  at::Tensor forward(const at::Tensor &x);
  DynUNetOptions options;
  /// The channel count of each level (MONAI's `filters`, after defaults and truncation).
  const std::vector<int64_t> &filters() const { return filters_; }

private:
  at::Tensor level(size_t i, const at::Tensor &x, std::vector<at::Tensor> &heads);
  std::vector<int64_t> filters_;
  torch::nn::AnyModule input_block_, bottleneck_;
  std::vector<torch::nn::AnyModule> down_;
  std::vector<blocks::UnetUpBlock> up_;
  blocks::UnetOutBlock output_block_{nullptr};
  std::vector<blocks::UnetOutBlock> heads_;
};
TORCH_MODULE(DynUNet);

} // namespace med::networks::nets
