// The transformer pieces of MONAI's ViT family: MLPBlock (linear-act-dropout-linear-dropout),
// SABlock (multi-head self-attention), CrossAttentionBlock and TransformerBlock (pre-norm
// attention + MLP with residuals). ViT, UNETR and SwinUNETR are built from them. Submodule names
// are MONAI 1.4's ("mlp.linear1", "attn.qkv", "attn.out_proj", "norm_cross_attn",
// "cross_attn.to_q", ...), so state_dict keys match MONAI checkpoints; like MONAI 1.4, a
// TransformerBlock always owns the cross-attention weights, used only with_cross_attention.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "med/networks/layers/factories.h"

namespace med::networks::blocks {

using layers::LayerSpec;

/// A parameter-free tensor reshuffle (MONAI uses einops' Rearrange layers for the head split and
/// merge); a module so that the module tree lists the same layers as MONAI's.
///
///   Rearrange r([](const at::Tensor &x) { return x.transpose(1, 2); }, "b n c -> b c n");
class RearrangeImpl : public torch::nn::Module {
public:
  RearrangeImpl(std::function<at::Tensor(const at::Tensor &)> fn, std::string pattern);
  at::Tensor forward(const at::Tensor &x) { return fn_(x); }
  /// The einops pattern this stands for (documentation only).
  const std::string &pattern() const { return pattern_; }

private:
  std::function<at::Tensor(const at::Tensor &)> fn_;
  std::string pattern_;
};
TORCH_MODULE(Rearrange);

/// Options of MLPBlock (MONAI's names). `mlp_dim` 0 means hidden_size; `dropout_mode` "vit" has
/// two dropout layers, "swin" one shared by both places (as MONAI).
///
///   MLPBlock(MLPBlockOptions(768, 3072).dropout_rate(0.1))
struct MLPBlockOptions {
  MLPBlockOptions(int64_t hidden_size, int64_t mlp_dim)
      : hidden_size_(hidden_size), mlp_dim_(mlp_dim) {}
  TORCH_ARG(int64_t, hidden_size);
  TORCH_ARG(int64_t, mlp_dim);
  TORCH_ARG(double, dropout_rate) = 0.0;
  TORCH_ARG(LayerSpec, act) = LayerSpec("GELU");
  TORCH_ARG(std::string, dropout_mode) = "vit";
};

/// linear1 -> act -> drop1 -> linear2 -> drop2 over the last axis.
class MLPBlockImpl : public torch::nn::Module {
public:
  explicit MLPBlockImpl(MLPBlockOptions options);
  at::Tensor forward(const at::Tensor &x);
  MLPBlockOptions options;

private:
  torch::nn::Linear linear1_{nullptr}, linear2_{nullptr};
  torch::nn::AnyModule fn_;
  torch::nn::Dropout drop1_{nullptr}, drop2_{nullptr};
};
TORCH_MODULE(MLPBlock);

/// Options of SABlock. hidden_size must be divisible by num_heads (head size hidden/heads).
/// `save_attn` keeps the last attention matrix (after softmax) in `att_mat`.
///
///   SABlock(SABlockOptions(768, 12).qkv_bias(true))
struct SABlockOptions {
  SABlockOptions(int64_t hidden_size, int64_t num_heads)
      : hidden_size_(hidden_size), num_heads_(num_heads) {}
  TORCH_ARG(int64_t, hidden_size);
  TORCH_ARG(int64_t, num_heads);
  TORCH_ARG(double, dropout_rate) = 0.0;
  TORCH_ARG(bool, qkv_bias) = false;
  TORCH_ARG(bool, save_attn) = false;
};

/// (B, N, hidden) -> (B, N, hidden): softmax(Q K^T / sqrt(d)) V per head, then out_proj.
/// Q, K, V come from one linear layer "qkv" laid out as (3, heads, head size) on its output axis.
class SABlockImpl : public torch::nn::Module {
public:
  explicit SABlockImpl(SABlockOptions options);
  at::Tensor forward(const at::Tensor &x);
  SABlockOptions options;
  /// The last attention matrix (B, heads, N, N) when save_attn, else undefined.
  at::Tensor att_mat;

private:
  torch::nn::Linear out_proj_{nullptr}, qkv_{nullptr};
  torch::nn::Identity to_q_{nullptr};
  Rearrange input_rearrange_{nullptr}, out_rearrange_{nullptr};
  torch::nn::Dropout drop_output_{nullptr}, drop_weights_{nullptr};
};
TORCH_MODULE(SABlock);

/// Multi-head attention of x (queries) over `context` (keys and values; x itself when absent),
/// with separate to_q / to_k / to_v layers. Same options as SABlock.
///
///   CrossAttentionBlock(SABlockOptions(96, 12))->forward(x, context)
class CrossAttentionBlockImpl : public torch::nn::Module {
public:
  explicit CrossAttentionBlockImpl(SABlockOptions options);
  at::Tensor forward(const at::Tensor &x, const std::optional<at::Tensor> &context = std::nullopt);
  SABlockOptions options;
  at::Tensor att_mat;

private:
  torch::nn::Linear out_proj_{nullptr}, to_q_{nullptr}, to_k_{nullptr}, to_v_{nullptr};
  Rearrange input_rearrange_{nullptr}, out_rearrange_{nullptr};
  torch::nn::Dropout drop_output_{nullptr}, drop_weights_{nullptr};
};
TORCH_MODULE(CrossAttentionBlock);

/// Options of TransformerBlock (MONAI's names and defaults).
///
///   TransformerBlock(TransformerBlockOptions(768, 3072, 12))
struct TransformerBlockOptions {
  TransformerBlockOptions(int64_t hidden_size, int64_t mlp_dim, int64_t num_heads)
      : hidden_size_(hidden_size), mlp_dim_(mlp_dim), num_heads_(num_heads) {}
  TORCH_ARG(int64_t, hidden_size);
  TORCH_ARG(int64_t, mlp_dim);
  TORCH_ARG(int64_t, num_heads);
  TORCH_ARG(double, dropout_rate) = 0.0;
  TORCH_ARG(bool, qkv_bias) = false;
  TORCH_ARG(bool, save_attn) = false;
  TORCH_ARG(bool, with_cross_attention) = false;
};

/// x + attn(norm1(x)) [+ cross_attn(norm_cross_attn(x), context)], then + mlp(norm2(x)).
class TransformerBlockImpl : public torch::nn::Module {
public:
  explicit TransformerBlockImpl(TransformerBlockOptions options);
  at::Tensor forward(const at::Tensor &x, const std::optional<at::Tensor> &context = std::nullopt);
  TransformerBlockOptions options;
  /// The self-attention (its att_mat holds the attention when save_attn).
  SABlock attn{nullptr};

private:
  MLPBlock mlp_{nullptr};
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr}, norm_cross_attn_{nullptr};
  CrossAttentionBlock cross_attn_{nullptr};
};
TORCH_MODULE(TransformerBlock);

/// The `blocks` stack of ViT-style networks: registers `num_layers` TransformerBlocks of
/// `options` in `list` (MONAI's nn.ModuleList, so keys read blocks.0..., blocks.1...) and
/// returns them for a typed forward.
std::vector<TransformerBlock> appendTransformerBlocks(torch::nn::ModuleList &list,
                                                      const TransformerBlockOptions &options,
                                                      int64_t num_layers);

namespace detail {
/// MONAI's trunc_normal_: normal(mean, std) values redrawn until they lie in [a, b].
void truncNormal_(at::Tensor &t, double mean, double std, double a, double b);
/// Throws med::Error(`where`) unless 0 <= rate <= 1.
void checkRate(double rate, const std::string &where);
} // namespace detail

} // namespace med::networks::blocks
