// MONAI's ViTAutoEnc: a ViT encoder (patch embedding, TransformerBlocks, final LayerNorm) whose
// tokens are put back on the patch grid and up-sampled to the input size by two transposed
// convolutions of kernel = stride = sqrt(patch_size), e.g. for self-supervised reconstruction.
// State-dict keys are MONAI's ("patch_embedding.patch_embeddings.weight",
// "blocks.0.attn.qkv.weight", "norm.weight", "conv3d_transpose.weight", "conv3d_transpose_1.bias";
// the "3d" names are kept in 2D too, as MONAI does for checkpoint compatibility).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "med/networks/blocks/patch_embedding.h"
#include "med/networks/blocks/transformer.h"

namespace med::networks::nets {

/// Options of ViTAutoEnc, MONAI's arguments and defaults. `img_size` / `patch_size` take one
/// value or one per spatial axis; every patch size must be a perfect square (each transposed
/// conv up-samples by its square root) and divide the image size. `deconv_chns` is the width
/// between the two transposed convs.
///
///   auto net = ViTAutoEnc(ViTAutoEncOptions(1, {96, 96, 96}, {16, 16, 16}));
///   auto [recon, hidden] = net->forward(x);   // recon: (B, out_channels, 96, 96, 96)
struct ViTAutoEncOptions {
  ViTAutoEncOptions(int64_t in_channels, std::vector<int64_t> img_size,
                    std::vector<int64_t> patch_size)
      : in_channels_(in_channels), img_size_(std::move(img_size)),
        patch_size_(std::move(patch_size)) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(std::vector<int64_t>, img_size);
  TORCH_ARG(std::vector<int64_t>, patch_size);
  TORCH_ARG(int64_t, out_channels) = 1;
  TORCH_ARG(int64_t, deconv_chns) = 16;
  TORCH_ARG(int64_t, hidden_size) = 768;
  TORCH_ARG(int64_t, mlp_dim) = 3072;
  TORCH_ARG(int64_t, num_layers) = 12;
  TORCH_ARG(int64_t, num_heads) = 12;
  TORCH_ARG(std::string, proj_type) = "conv";
  TORCH_ARG(double, dropout_rate) = 0.0;
  TORCH_ARG(int64_t, spatial_dims) = 3;
  TORCH_ARG(bool, qkv_bias) = false;
  TORCH_ARG(bool, save_attn) = false;
};

/// ViTAutoEnc's result: `x` is (B, out_channels, *img_size); `hidden_states_out` holds each
/// block's output (B, n_patches, hidden_size), before the final norm.
struct ViTAutoEncOutput {
  at::Tensor x;
  std::vector<at::Tensor> hidden_states_out;
};

/// (B, in_channels, *img_size) -> ViTAutoEncOutput.
class ViTAutoEncImpl : public torch::nn::Module {
public:
  explicit ViTAutoEncImpl(ViTAutoEncOptions options);
  ViTAutoEncOutput forward(const at::Tensor &x);
  ViTAutoEncOptions options;
  /// The transformer blocks, e.g. to read blocks[i]->attn->att_mat with save_attn.
  std::vector<blocks::TransformerBlock> blocks;

private:
  std::vector<int64_t> grid_;
  blocks::PatchEmbeddingBlock patch_embedding_{nullptr};
  torch::nn::ModuleList blocks_list_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::AnyModule conv3d_transpose_, conv3d_transpose_1_;
};
TORCH_MODULE(ViTAutoEnc);

} // namespace med::networks::nets
