// The Swin transformer of MONAI's SwinUNETR (Liu et al. 2021, Hatamizadeh et al. 2022): window
// attention with a learned relative position bias, (shifted-)window transformer blocks, patch
// merging and the four-stage SwinTransformer encoder. 2D and 3D. Submodule names are MONAI's
// ("layers1.0.blocks.0.attn.relative_position_bias_table", "layers1.0.downsample.reduction",
// "patch_embed.proj", ...).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "med/networks/blocks/patch_embedding.h"
#include "med/networks/blocks/transformer.h"

namespace med::networks::blocks {

/// Stochastic depth (MONAI's DropPath): in training, zeroes whole samples with probability
/// drop_prob and rescales the kept ones by 1 / (1 - drop_prob); identity in eval mode.
///
///   DropPath dp(0.1);
class DropPathImpl : public torch::nn::Module {
public:
  explicit DropPathImpl(double drop_prob = 0.0, bool scale_by_keep = true);
  at::Tensor forward(const at::Tensor &x);
  double drop_prob;
  bool scale_by_keep;
};
TORCH_MODULE(DropPath);

namespace swin {
/// (B, *S, C) with S divisible by `window` -> (B * windows, prod(window), C), windows in
/// row-major order (MONAI's window_partition).
at::Tensor windowPartition(const at::Tensor &x, const std::vector<int64_t> &window);
/// The inverse of windowPartition for `dims` = (B, *S) (MONAI's window_reverse).
at::Tensor windowReverse(const at::Tensor &windows, const std::vector<int64_t> &window,
                         const std::vector<int64_t> &dims);
/// MONAI's get_window_size: axes not larger than the window use the whole axis and no shift.
std::pair<std::vector<int64_t>, std::vector<int64_t>> windowSize(const std::vector<int64_t> &size,
                                                                 const std::vector<int64_t> &window,
                                                                 const std::vector<int64_t> &shift);
/// MONAI's compute_mask: (windows, N, N) additive attention mask (0 within a region, -100 across
/// the regions that a cyclic shift brings together) for the padded sizes `dims`.
at::Tensor computeMask(const std::vector<int64_t> &dims, const std::vector<int64_t> &window,
                       const std::vector<int64_t> &shift, const at::Device &device);
} // namespace swin

/// Multi-head self-attention inside a window with a relative position bias table of
/// prod(2 * window - 1) x num_heads entries.
///
///   WindowAttention(48, 3, {7, 7, 7}, /*qkv_bias=*/true)
class WindowAttentionImpl : public torch::nn::Module {
public:
  WindowAttentionImpl(int64_t dim, int64_t num_heads, std::vector<int64_t> window_size,
                      bool qkv_bias = false, double attn_drop = 0.0, double proj_drop = 0.0);
  /// x (B * windows, N, dim); mask (windows, N, N) or undefined.
  at::Tensor forward(const at::Tensor &x, const at::Tensor &mask = {});
  int64_t dim, num_heads;
  std::vector<int64_t> window_size;

private:
  at::Tensor relative_position_bias_table_, relative_position_index_;
  torch::nn::Linear qkv_{nullptr}, proj_{nullptr};
  torch::nn::Dropout attn_drop_{nullptr}, proj_drop_{nullptr};
  torch::nn::Softmax softmax_{nullptr};
};
TORCH_MODULE(WindowAttention);

/// Options of SwinTransformerBlock (MONAI's names and defaults).
struct SwinTransformerBlockOptions {
  SwinTransformerBlockOptions(int64_t dim, int64_t num_heads, std::vector<int64_t> window_size,
                              std::vector<int64_t> shift_size)
      : dim_(dim), num_heads_(num_heads), window_size_(std::move(window_size)),
        shift_size_(std::move(shift_size)) {}
  TORCH_ARG(int64_t, dim);
  TORCH_ARG(int64_t, num_heads);
  TORCH_ARG(std::vector<int64_t>, window_size);
  TORCH_ARG(std::vector<int64_t>, shift_size);
  TORCH_ARG(double, mlp_ratio) = 4.0;
  TORCH_ARG(bool, qkv_bias) = true;
  TORCH_ARG(double, drop) = 0.0;
  TORCH_ARG(double, attn_drop) = 0.0;
  TORCH_ARG(double, drop_path) = 0.0;
};

/// x + W-MSA(norm1(x)) on (shifted) windows, then + MLP(norm2(x)); x is (B, *S, C).
///
///   SwinTransformerBlock(SwinTransformerBlockOptions(48, 3, {7, 7, 7}, {3, 3, 3}))
class SwinTransformerBlockImpl : public torch::nn::Module {
public:
  explicit SwinTransformerBlockImpl(SwinTransformerBlockOptions options);
  /// `mask` is the shifted-window mask of BasicLayer (used when a shift applies).
  at::Tensor forward(const at::Tensor &x, const at::Tensor &mask);
  SwinTransformerBlockOptions options;

private:
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr};
  WindowAttention attn_{nullptr};
  torch::nn::AnyModule drop_path_;
  MLPBlock mlp_{nullptr};
};
TORCH_MODULE(SwinTransformerBlock);

/// Patch merging: (B, *S, C) -> (B, *ceil(S/2), 2C) by concatenating each 2^d neighbourhood and
/// projecting it (norm then a bias-free linear). `v2` false is MONAI's "merging" (PatchMerging,
/// whose 3D concatenation order repeats two neighbours, kept for checkpoint compatibility),
/// true is "mergingv2" (PatchMergingV2, all 8 neighbours).
///
///   PatchMerging(48, 3, /*v2=*/false)
class PatchMergingImpl : public torch::nn::Module {
public:
  PatchMergingImpl(int64_t dim, int64_t spatial_dims = 3, bool v2 = false);
  at::Tensor forward(const at::Tensor &x);
  int64_t dim, spatial_dims;
  bool v2;

private:
  torch::nn::Linear reduction_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
};
TORCH_MODULE(PatchMerging);

/// Options of BasicLayer: `depth` blocks alternating plain and shifted (window / 2) windows, then
/// an optional patch merging ("merging", "mergingv2" or "" for none).
struct BasicLayerOptions {
  BasicLayerOptions(int64_t dim, int64_t depth, int64_t num_heads, std::vector<int64_t> window_size)
      : dim_(dim), depth_(depth), num_heads_(num_heads), window_size_(std::move(window_size)) {}
  TORCH_ARG(int64_t, dim);
  TORCH_ARG(int64_t, depth);
  TORCH_ARG(int64_t, num_heads);
  TORCH_ARG(std::vector<int64_t>, window_size);
  TORCH_ARG(std::vector<double>, drop_path) = {};
  TORCH_ARG(double, mlp_ratio) = 4.0;
  TORCH_ARG(bool, qkv_bias) = false;
  TORCH_ARG(double, drop) = 0.0;
  TORCH_ARG(double, attn_drop) = 0.0;
  TORCH_ARG(std::string, downsample) = "";
};

/// One Swin stage on channel-first maps: (B, C, *S) -> (B, C', *S') (C' = 2C, S' = ceil(S/2) with
/// down-sampling).
class BasicLayerImpl : public torch::nn::Module {
public:
  explicit BasicLayerImpl(BasicLayerOptions options);
  at::Tensor forward(const at::Tensor &x);
  BasicLayerOptions options;

private:
  torch::nn::ModuleList blocks_{nullptr};
  std::vector<SwinTransformerBlock> block_list_;
  PatchMerging downsample_{nullptr};
};
TORCH_MODULE(BasicLayer);

/// Options of SwinTransformer (MONAI's names). `depths` / `num_heads` have one entry per stage
/// (MONAI's network has four stages, "layers1".."layers4"); `use_v2` adds a residual conv
/// block before each stage ("layers1c".."layers4c").
struct SwinTransformerOptions {
  TORCH_ARG(int64_t, in_chans) = 1;
  TORCH_ARG(int64_t, embed_dim) = 24;
  TORCH_ARG(std::vector<int64_t>, window_size) = {7};
  TORCH_ARG(std::vector<int64_t>, patch_size) = {2};
  TORCH_ARG(std::vector<int64_t>, depths) = {2, 2, 2, 2};
  TORCH_ARG(std::vector<int64_t>, num_heads) = {3, 6, 12, 24};
  TORCH_ARG(double, mlp_ratio) = 4.0;
  TORCH_ARG(bool, qkv_bias) = true;
  TORCH_ARG(double, drop_rate) = 0.0;
  TORCH_ARG(double, attn_drop_rate) = 0.0;
  TORCH_ARG(double, drop_path_rate) = 0.0;
  TORCH_ARG(bool, patch_norm) = false;
  TORCH_ARG(int64_t, spatial_dims) = 3;
  TORCH_ARG(std::string, downsample) = "merging";
  TORCH_ARG(bool, use_v2) = false;
};

/// (B, in_chans, *S) -> five feature maps: the patch embedding and each stage's output, each
/// layer-normalised over channels when `normalize`.
///
///   auto feats = SwinTransformer(SwinTransformerOptions().embed_dim(48))->forward(x, true);
class SwinTransformerImpl : public torch::nn::Module {
public:
  explicit SwinTransformerImpl(SwinTransformerOptions options);
  std::vector<at::Tensor> forward(const at::Tensor &x, bool normalize = true);
  SwinTransformerOptions options;

private:
  PatchEmbed patch_embed_{nullptr};
  torch::nn::Dropout pos_drop_{nullptr};
  std::vector<BasicLayer> layers_;
  std::vector<torch::nn::AnyModule> layers_c_;
};
TORCH_MODULE(SwinTransformer);

} // namespace med::networks::blocks
