// Rearrange, MLPBlock, SABlock, CrossAttentionBlock and TransformerBlock (transformer.h).
#include "med/networks/blocks/transformer.h"

#include <cmath>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "med/core/error.h"

namespace med::networks::blocks {

namespace nn = torch::nn;
namespace L = med::networks::layers;

namespace detail {
void truncNormal_(at::Tensor &t, double mean, double std, double a, double b) {
  torch::NoGradGuard noGrad;
  t.normal_(mean, std);
  for (int tries = 0; tries < 100; ++tries) {
    at::Tensor bad = (t < a).logical_or(t > b);
    if (!bad.any().item<bool>())
      return;
    t.masked_scatter_(bad, at::empty_like(t).normal_(mean, std).masked_select(bad));
  }
  t.clamp_(a, b);
}

void checkRate(double rate, const std::string &where) {
  if (!(rate >= 0.0 && rate <= 1.0))
    throw Error(where, "should be between 0 and 1, got " + std::to_string(rate));
}
} // namespace detail

namespace {
void checkHeads(int64_t hidden, int64_t heads, const std::string &owner) {
  if (heads < 1 || hidden < 1 || hidden % heads != 0)
    throw Error(owner + ".hidden_size", "hidden_size (" + std::to_string(hidden) +
                                            ") should be divisible by num_heads (" +
                                            std::to_string(heads) + ")");
}

// (B, N, heads * d) -> (B, heads, N, d)
at::Tensor splitHeads(const at::Tensor &x, int64_t heads) {
  return x.reshape({x.size(0), x.size(1), heads, -1}).permute({0, 2, 1, 3});
}
// (B, heads, N, d) -> (B, N, heads * d)
at::Tensor mergeHeads(const at::Tensor &x) {
  return x.permute({0, 2, 1, 3}).reshape({x.size(0), x.size(2), -1});
}
} // namespace

RearrangeImpl::RearrangeImpl(std::function<at::Tensor(const at::Tensor &)> fn, std::string pattern)
    : fn_(std::move(fn)), pattern_(std::move(pattern)) {}

MLPBlockImpl::MLPBlockImpl(MLPBlockOptions o) : options(std::move(o)) {
  detail::checkRate(options.dropout_rate(), "MLPBlock.dropout_rate");
  const int64_t h = options.hidden_size();
  const int64_t m = options.mlp_dim() > 0 ? options.mlp_dim() : h;
  if (h < 1)
    throw Error("MLPBlock.hidden_size", "expected a positive size, got " + std::to_string(h));
  std::string act = options.act().name;
  for (auto &c : act)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  // GEGLU halves its input, so linear1 produces twice mlp_dim (as MONAI).
  linear1_ = register_module("linear1", nn::Linear(h, act == "GEGLU" ? 2 * m : m));
  linear2_ = register_module("linear2", nn::Linear(m, h));
  fn_ = L::get_act_layer(options.act());
  register_module("fn", fn_.ptr());
  drop1_ = register_module("drop1", nn::Dropout(options.dropout_rate()));
  if (options.dropout_mode() == "vit")
    drop2_ = register_module("drop2", nn::Dropout(options.dropout_rate()));
  else if (options.dropout_mode() == "swin")
    drop2_ = drop1_; // one layer in two places, as MONAI
  else
    throw Error("MLPBlock.dropout_mode",
                "expected \"vit\" or \"swin\", got \"" + options.dropout_mode() + "\"");
}

at::Tensor MLPBlockImpl::forward(const at::Tensor &x) {
  at::Tensor y = drop1_->forward(fn_.forward(linear1_->forward(x)));
  return drop2_->forward(linear2_->forward(y));
}

SABlockImpl::SABlockImpl(SABlockOptions o) : options(std::move(o)) {
  detail::checkRate(options.dropout_rate(), "SABlock.dropout_rate");
  checkHeads(options.hidden_size(), options.num_heads(), "SABlock");
  const int64_t h = options.hidden_size(), heads = options.num_heads();
  out_proj_ = register_module("out_proj", nn::Linear(h, h));
  qkv_ = register_module("qkv", nn::Linear(nn::LinearOptions(h, 3 * h).bias(options.qkv_bias())));
  // MONAI keeps to_q / to_k / to_v as one Identity when q, k, v share the "qkv" layer.
  to_q_ = register_module("to_q", nn::Identity());
  input_rearrange_ = register_module(
      "input_rearrange",
      Rearrange(
          [heads](const at::Tensor &t) {
            return t.reshape({t.size(0), t.size(1), 3, heads, -1}).permute({2, 0, 3, 1, 4});
          },
          "b h (qkv l d) -> qkv b l h d"));
  out_rearrange_ = register_module("out_rearrange", Rearrange(mergeHeads, "b l h d -> b h (l d)"));
  drop_output_ = register_module("drop_output", nn::Dropout(options.dropout_rate()));
  drop_weights_ = register_module("drop_weights", nn::Dropout(options.dropout_rate()));
}

at::Tensor SABlockImpl::forward(const at::Tensor &x) {
  if (x.dim() != 3 || x.size(2) != options.hidden_size())
    throw Error("SABlock.forward", "expected (B, N, " + std::to_string(options.hidden_size()) +
                                       ") tokens, got " + std::to_string(x.dim()) + "-D input");
  at::Tensor qkv = input_rearrange_->forward(qkv_->forward(x));
  const double scale = 1.0 / std::sqrt(static_cast<double>(qkv.size(-1)));
  at::Tensor att = at::matmul(qkv[0], qkv[1].transpose(-2, -1)).mul(scale).softmax(-1);
  if (options.save_attn())
    att_mat = att.detach();
  att = drop_weights_->forward(att);
  at::Tensor y = out_rearrange_->forward(at::matmul(att, qkv[2]));
  return drop_output_->forward(out_proj_->forward(y));
}

CrossAttentionBlockImpl::CrossAttentionBlockImpl(SABlockOptions o) : options(std::move(o)) {
  detail::checkRate(options.dropout_rate(), "CrossAttentionBlock.dropout_rate");
  checkHeads(options.hidden_size(), options.num_heads(), "CrossAttentionBlock");
  const int64_t h = options.hidden_size(), heads = options.num_heads();
  auto lin = nn::LinearOptions(h, h).bias(options.qkv_bias());
  out_proj_ = register_module("out_proj", nn::Linear(h, h));
  to_q_ = register_module("to_q", nn::Linear(lin));
  to_k_ = register_module("to_k", nn::Linear(lin));
  to_v_ = register_module("to_v", nn::Linear(lin));
  input_rearrange_ = register_module(
      "input_rearrange", Rearrange([heads](const at::Tensor &t) { return splitHeads(t, heads); },
                                   "b h (l d) -> b l h d"));
  out_rearrange_ = register_module("out_rearrange", Rearrange(mergeHeads, "b l h d -> b h (l d)"));
  drop_output_ = register_module("drop_output", nn::Dropout(options.dropout_rate()));
  drop_weights_ = register_module("drop_weights", nn::Dropout(options.dropout_rate()));
}

at::Tensor CrossAttentionBlockImpl::forward(const at::Tensor &x,
                                            const std::optional<at::Tensor> &context) {
  const at::Tensor &kv = context ? *context : x;
  if (x.dim() != 3 || kv.dim() != 3 || x.size(2) != options.hidden_size() ||
      kv.size(2) != options.hidden_size() || kv.size(0) != x.size(0))
    throw Error("CrossAttentionBlock.forward",
                "expected (B, N, " + std::to_string(options.hidden_size()) +
                    ") queries and (B, M, " + std::to_string(options.hidden_size()) + ") context");
  at::Tensor q = input_rearrange_->forward(to_q_->forward(x));
  at::Tensor k = input_rearrange_->forward(to_k_->forward(kv));
  at::Tensor v = input_rearrange_->forward(to_v_->forward(kv));
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  at::Tensor att = at::matmul(q, k.transpose(-2, -1)).mul(scale).softmax(-1);
  if (options.save_attn())
    att_mat = att.detach();
  at::Tensor y = out_rearrange_->forward(at::matmul(drop_weights_->forward(att), v));
  return drop_output_->forward(out_proj_->forward(y));
}

TransformerBlockImpl::TransformerBlockImpl(TransformerBlockOptions o) : options(std::move(o)) {
  detail::checkRate(options.dropout_rate(), "TransformerBlock.dropout_rate");
  checkHeads(options.hidden_size(), options.num_heads(), "TransformerBlock");
  const int64_t h = options.hidden_size();
  auto sa = SABlockOptions(h, options.num_heads())
                .dropout_rate(options.dropout_rate())
                .qkv_bias(options.qkv_bias())
                .save_attn(options.save_attn());
  auto ln = nn::LayerNormOptions({h});
  mlp_ = register_module(
      "mlp", MLPBlock(MLPBlockOptions(h, options.mlp_dim()).dropout_rate(options.dropout_rate())));
  norm1_ = register_module("norm1", nn::LayerNorm(ln));
  attn = register_module("attn", SABlock(sa));
  norm2_ = register_module("norm2", nn::LayerNorm(ln));
  norm_cross_attn_ = register_module("norm_cross_attn", nn::LayerNorm(ln));
  cross_attn_ = register_module("cross_attn", CrossAttentionBlock(sa.save_attn(false)));
}

at::Tensor TransformerBlockImpl::forward(const at::Tensor &x,
                                         const std::optional<at::Tensor> &context) {
  at::Tensor y = x + attn->forward(norm1_->forward(x));
  if (options.with_cross_attention())
    y = y + cross_attn_->forward(norm_cross_attn_->forward(y), context);
  return y + mlp_->forward(norm2_->forward(y));
}

std::vector<TransformerBlock> appendTransformerBlocks(torch::nn::ModuleList &list,
                                                      const TransformerBlockOptions &options,
                                                      int64_t num_layers) {
  std::vector<TransformerBlock> out;
  for (int64_t i = 0; i < num_layers; ++i) {
    out.push_back(TransformerBlock(options));
    list->push_back(out.back());
  }
  return out;
}

} // namespace med::networks::blocks
