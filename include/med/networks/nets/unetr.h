// MONAI's UNETR (Hatamizadeh et al. 2022): a 12-layer ViT encoder on 16^3 patches whose hidden
// states 3, 6, 9 and output are turned back into feature maps by UnetrPrUpBlocks and decoded,
// U-Net style, with UnetrUpBlocks down to a UnetOutBlock. Submodule names are MONAI's ("vit",
// "encoder1".."encoder4", "decoder5".."decoder2", "out").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "med/networks/blocks/dynunet_block.h"
#include "med/networks/blocks/unetr_block.h"
#include "med/networks/nets/vit.h"

namespace med::networks::nets {

using layers::LayerSpec;

/// Options of UNETR, MONAI's arguments and defaults. Every img_size entry must be a multiple of
/// 16 (the patch size); `norm_name` is a norm spec such as "instance" or ("group", {...}).
///
///   auto net = UNETR(UNETROptions(1, 2, {96, 96, 96}).feature_size(16));
struct UNETROptions {
  UNETROptions(int64_t in_channels, int64_t out_channels, std::vector<int64_t> img_size)
      : in_channels_(in_channels), out_channels_(out_channels), img_size_(std::move(img_size)) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(std::vector<int64_t>, img_size);
  TORCH_ARG(int64_t, feature_size) = 16;
  TORCH_ARG(int64_t, hidden_size) = 768;
  TORCH_ARG(int64_t, mlp_dim) = 3072;
  TORCH_ARG(int64_t, num_heads) = 12;
  TORCH_ARG(std::string, proj_type) = "conv";
  TORCH_ARG(LayerSpec, norm_name) = LayerSpec("instance");
  TORCH_ARG(bool, conv_block) = true;
  TORCH_ARG(bool, res_block) = true;
  TORCH_ARG(double, dropout_rate) = 0.0;
  TORCH_ARG(int64_t, spatial_dims) = 3;
  TORCH_ARG(bool, qkv_bias) = false;
  TORCH_ARG(bool, save_attn) = false;
};

/// (B, in_channels, *img_size) -> (B, out_channels, *img_size).
class UNETRImpl : public torch::nn::Module {
public:
  explicit UNETRImpl(UNETROptions options);
  at::Tensor forward(const at::Tensor &x);
  UNETROptions options;

private:
  /// (B, n_patches, hidden) tokens -> (B, hidden, *feat_size) feature map.
  at::Tensor projFeat(const at::Tensor &tokens) const;
  std::vector<int64_t> feat_size_;
  ViT vit_{nullptr};
  blocks::UnetrBasicBlock encoder1_{nullptr};
  blocks::UnetrPrUpBlock encoder2_{nullptr}, encoder3_{nullptr}, encoder4_{nullptr};
  blocks::UnetrUpBlock decoder5_{nullptr}, decoder4_{nullptr}, decoder3_{nullptr},
      decoder2_{nullptr};
  blocks::UnetOutBlock out_{nullptr};
};
TORCH_MODULE(UNETR);

} // namespace med::networks::nets
