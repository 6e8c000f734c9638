// MONAI's ViT (Dosovitskiy et al. 2021): patch embedding, a stack of TransformerBlocks, a final
// LayerNorm and, for classification, a class token and a linear (+ Tanh) head. Like MONAI it
// returns the output together with every block's hidden states, which UNETR taps as skips.
// State-dict keys are MONAI's ("cls_token", "patch_embedding.position_embeddings",
// "blocks.0.attn.qkv.weight", "norm.weight", "classification_head.0.weight").
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

/// Options of ViT, MONAI's arguments and defaults. `img_size` / `patch_size` take one value or
/// one per spatial axis; `post_activation` "Tanh" adds a Tanh after the classification head
/// (any other value, e.g. "", leaves the plain Linear).
///
///   auto vit = ViT(ViTOptions(1, {96, 96, 96}, {16, 16, 16}).classification(true));
struct ViTOptions {
  ViTOptions(int64_t in_channels, std::vector<int64_t> img_size, std::vector<int64_t> patch_size)
      : in_channels_(in_channels), img_size_(std::move(img_size)),
        patch_size_(std::move(patch_size)) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(std::vector<int64_t>, img_size);
  TORCH_ARG(std::vector<int64_t>, patch_size);
  TORCH_ARG(int64_t, hidden_size) = 768;
  TORCH_ARG(int64_t, mlp_dim) = 3072;
  TORCH_ARG(int64_t, num_layers) = 12;
  TORCH_ARG(int64_t, num_heads) = 12;
  TORCH_ARG(std::string, proj_type) = "conv";
  TORCH_ARG(std::string, pos_embed_type) = "learnable";
  TORCH_ARG(bool, classification) = false;
  TORCH_ARG(int64_t, num_classes) = 2;
  TORCH_ARG(double, dropout_rate) = 0.0;
  TORCH_ARG(int64_t, spatial_dims) = 3;
  TORCH_ARG(std::string, post_activation) = "Tanh";
  TORCH_ARG(bool, qkv_bias) = false;
  TORCH_ARG(bool, save_attn) = false;
};

/// ViT's result: `x` is (B, n_patches, hidden) after the final norm, or (B, num_classes) logits
/// with classification; `hidden_states_out` holds each block's output (before the final norm).
struct ViTOutput {
  at::Tensor x;
  std::vector<at::Tensor> hidden_states_out;
};

/// (B, in_channels, *img_size) -> ViTOutput.
class ViTImpl : public torch::nn::Module {
public:
  explicit ViTImpl(ViTOptions options);
  ViTOutput forward(const at::Tensor &x);
  ViTOptions options;
  /// The transformer blocks, e.g. to read blocks[i]->attn->att_mat with save_attn.
  std::vector<blocks::TransformerBlock> blocks;

private:
  at::Tensor cls_token_;
  blocks::PatchEmbeddingBlock patch_embedding_{nullptr};
  torch::nn::ModuleList blocks_list_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::AnyModule classification_head_;
};
TORCH_MODULE(ViT);

} // namespace med::networks::nets
