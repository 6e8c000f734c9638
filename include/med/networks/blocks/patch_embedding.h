// Patch embeddings of MONAI's transformer networks: PatchEmbeddingBlock (ViT / UNETR: image ->
// (B, patches, hidden) tokens plus a position embedding) and PatchEmbed (SwinUNETR: a strided
// conv keeping the image layout), and MONAI's fixed sin-cos position embedding.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

namespace med::networks::blocks {

/// MONAI's build_sincos_position_embedding: (1, prod(grid_size), embed_dim) fixed sin / cos
/// codes of the patch grid coordinates (2D needs embed_dim % 4 == 0, 3D embed_dim % 6 == 0).
///
///   at::Tensor pe = sincosPositionEmbedding({2, 2, 2}, 96, 3);
at::Tensor sincosPositionEmbedding(const std::vector<int64_t> &grid_size, int64_t embed_dim,
                                   int64_t spatial_dims, double temperature = 10000.0);

/// Options of PatchEmbeddingBlock (MONAI's names). `img_size` / `patch_size` take one value or
/// one per spatial axis. `proj_type` "conv" (a strided conv) or "perceptron" (patch flattening +
/// Linear); `pos_embed_type` "learnable", "sincos" (fixed, not trained) or "none" (zeros).
///
///   PatchEmbeddingBlock(PatchEmbeddingBlockOptions(1, {96}, {16}, 768, 12))
struct PatchEmbeddingBlockOptions {
  PatchEmbeddingBlockOptions(int64_t in_channels, std::vector<int64_t> img_size,
                             std::vector<int64_t> patch_size, int64_t hidden_size,
                             int64_t num_heads)
      : in_channels_(in_channels), img_size_(std::move(img_size)),
        patch_size_(std::move(patch_size)), hidden_size_(hidden_size), num_heads_(num_heads) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(std::vector<int64_t>, img_size);
  TORCH_ARG(std::vector<int64_t>, patch_size);
  TORCH_ARG(int64_t, hidden_size);
  TORCH_ARG(int64_t, num_heads);
  TORCH_ARG(std::string, proj_type) = "conv";
  TORCH_ARG(std::string, pos_embed_type) = "learnable";
  TORCH_ARG(double, dropout_rate) = 0.0;
  TORCH_ARG(int64_t, spatial_dims) = 3;
};

/// (B, in_channels, *img_size) -> (B, n_patches, hidden_size), patches in row-major grid order.
class PatchEmbeddingBlockImpl : public torch::nn::Module {
public:
  explicit PatchEmbeddingBlockImpl(PatchEmbeddingBlockOptions options);
  at::Tensor forward(const at::Tensor &x);
  PatchEmbeddingBlockOptions options;
  /// The number of patches, prod(img_size / patch_size).
  int64_t n_patches = 0;
  /// (1, n_patches, hidden_size).
  at::Tensor position_embeddings;

private:
  torch::nn::AnyModule patch_embeddings_;
  torch::nn::Dropout dropout_{nullptr};
  std::vector<int64_t> img_, patch_;
};
TORCH_MODULE(PatchEmbeddingBlock);

/// Options of PatchEmbed (SwinUNETR's embedding): conv with kernel = stride = patch_size,
/// an optional LayerNorm over channels ("norm").
///
///   PatchEmbed(PatchEmbedOptions().patch_size({2}).in_chans(1).embed_dim(48))
struct PatchEmbedOptions {
  TORCH_ARG(std::vector<int64_t>, patch_size) = {2};
  TORCH_ARG(int64_t, in_chans) = 1;
  TORCH_ARG(int64_t, embed_dim) = 48;
  TORCH_ARG(bool, norm) = false;
  TORCH_ARG(int64_t, spatial_dims) = 3;
};

/// (B, C, *S) -> (B, embed_dim, *ceil(S / patch)); sizes not divisible by the patch size are
/// zero-padded at the end first (as MONAI).
class PatchEmbedImpl : public torch::nn::Module {
public:
  explicit PatchEmbedImpl(PatchEmbedOptions options = {});
  at::Tensor forward(const at::Tensor &x);
  PatchEmbedOptions options;

private:
  torch::nn::AnyModule proj_;
  torch::nn::LayerNorm norm_{nullptr};
  std::vector<int64_t> patch_;
};
TORCH_MODULE(PatchEmbed);

} // namespace med::networks::blocks
