// MONAI's SwinUNETR (Hatamizadeh et al. 2022): a Swin transformer encoder (patch size 2, window
// 7, four stages) whose five feature maps feed UNETR-style residual encoder blocks and
// UnetrUpBlock decoders. 2D and 3D; `use_v2` adds a residual conv block before each Swin stage.
// Submodule names are MONAI's ("swinViT.layers1.0.blocks.0...", "encoder10", "decoder1", "out").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "med/networks/blocks/dynunet_block.h"
#include "med/networks/blocks/swin.h"
#include "med/networks/blocks/unetr_block.h"

namespace med::networks::nets {

using layers::LayerSpec;

/// Options of SwinUNETR, MONAI's arguments and defaults. `img_size` (deprecated in MONAI, optional
/// here) is only checked: every spatial size must be divisible by 32 (2^5). feature_size must be
/// divisible by 12. `downsample` is "merging" (MONAI's PatchMerging) or "mergingv2".
///
///   auto net = SwinUNETR(SwinUNETROptions(1, 2).feature_size(48).img_size({96, 96, 96}));
struct SwinUNETROptions {
  SwinUNETROptions(int64_t in_channels, int64_t out_channels)
      : in_channels_(in_channels), out_channels_(out_channels) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(std::optional<std::vector<int64_t>>, img_size) = std::nullopt;
  TORCH_ARG(std::vector<int64_t>, depths) = {2, 2, 2, 2};
  TORCH_ARG(std::vector<int64_t>, num_heads) = {3, 6, 12, 24};
  TORCH_ARG(int64_t, feature_size) = 24;
  TORCH_ARG(LayerSpec, norm_name) = LayerSpec("instance");
  TORCH_ARG(double, drop_rate) = 0.0;
  TORCH_ARG(double, attn_drop_rate) = 0.0;
  TORCH_ARG(double, dropout_path_rate) = 0.0;
  TORCH_ARG(bool, normalize) = true;
  TORCH_ARG(int64_t, spatial_dims) = 3;
  TORCH_ARG(std::string, downsample) = "merging";
  TORCH_ARG(bool, use_v2) = false;
};

/// (B, in_channels, *S) -> (B, out_channels, *S); every S divisible by 32. With an instance
/// norm the 1-voxel bottleneck of S = 32 has no statistics: MONAI raises there and so does this
/// (med::Error), so use 64 or more.
class SwinUNETRImpl : public torch::nn::Module {
public:
  explicit SwinUNETRImpl(SwinUNETROptions options);
  at::Tensor forward(const at::Tensor &x);
  SwinUNETROptions options;

private:
  void checkSize(at::IntArrayRef size, const std::string &where) const;
  blocks::SwinTransformer swinViT_{nullptr};
  blocks::UnetrBasicBlock encoder1_{nullptr}, encoder2_{nullptr}, encoder3_{nullptr},
      encoder4_{nullptr}, encoder10_{nullptr};
  blocks::UnetrUpBlock decoder5_{nullptr}, decoder4_{nullptr}, decoder3_{nullptr},
      decoder2_{nullptr}, decoder1_{nullptr};
  blocks::UnetOutBlock out_{nullptr};
};
TORCH_MODULE(SwinUNETR);

} // namespace med::networks::nets
