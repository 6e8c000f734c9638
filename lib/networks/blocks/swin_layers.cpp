// PatchMerging, BasicLayer and SwinTransformer (swin.h).
#include <cmath>

#include <ATen/ATen.h>
#include <torch/nn/functional/normalization.h>

#include "med/core/error.h"
#include "med/networks/blocks/convolutions.h"
#include "med/networks/blocks/swin.h"
#include "med/networks/blocks/unetr_block.h"

namespace med::networks::blocks {

namespace nn = torch::nn;

PatchMergingImpl::PatchMergingImpl(int64_t dim_, int64_t spatial_dims_, bool v2_)
    : dim(dim_), spatial_dims(spatial_dims_), v2(v2_) {
  if (spatial_dims != 2 && spatial_dims != 3)
    throw Error("PatchMerging.spatial_dims",
                "expected 2 or 3, got " + std::to_string(spatial_dims));
  const int64_t k = spatial_dims == 3 ? 8 : 4;
  reduction_ =
      register_module("reduction", nn::Linear(nn::LinearOptions(k * dim, 2 * dim).bias(false)));
  norm_ = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({k * dim})));
}

at::Tensor PatchMergingImpl::forward(const at::Tensor &x) {
  if (x.dim() != spatial_dims + 2)
    throw Error("PatchMerging.forward",
                "expected (B, *S, C) with " + std::to_string(spatial_dims) + " spatial axes");
  // Pad odd axes at their end (F.pad order: last spatial axis first).
  std::vector<int64_t> pad{0, 0};
  bool odd = false;
  for (int64_t a = spatial_dims - 1; a >= 0; --a) {
    pad.push_back(0);
    pad.push_back(x.size(1 + a) % 2);
    odd = odd || x.size(1 + a) % 2;
  }
  at::Tensor y = odd ? at::constant_pad_nd(x, pad) : x;
  auto pick = [&](std::vector<int64_t> start) {
    at::Tensor v = y;
    for (int64_t a = 0; a < spatial_dims; ++a)
      v = v.slice(1 + a, start[a], c10::nullopt, 2);
    return v;
  };
  std::vector<std::vector<int64_t>> order;
  if (spatial_dims == 2) {
    order = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
  } else if (v2) {
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 2; ++j)
        for (int64_t k = 0; k < 2; ++k)
          order.push_back({i, j, k});
  } else {
    // MONAI's PatchMerging ("merging") order, which repeats (0,1,0) and (0,0,1).
    order = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1},
             {1, 0, 1}, {0, 1, 0}, {0, 0, 1}, {1, 1, 1}};
  }
  std::vector<at::Tensor> parts;
  for (const auto &o : order)
    parts.push_back(pick(o));
  return reduction_->forward(norm_->forward(at::cat(parts, -1)));
}

BasicLayerImpl::BasicLayerImpl(BasicLayerOptions o) : options(std::move(o)) {
  const auto &w = options.window_size();
  std::vector<int64_t> shift, none(w.size(), 0);
  for (int64_t v : w)
    shift.push_back(v / 2);
  if (!options.drop_path().empty() &&
      static_cast<int64_t>(options.drop_path().size()) != options.depth())
    throw Error("BasicLayer.drop_path",
                "expected one rate per block (" + std::to_string(options.depth()) + ")");
  blocks_ = register_module("blocks", nn::ModuleList());
  for (int64_t i = 0; i < options.depth(); ++i) {
    auto blk = SwinTransformerBlock(
        SwinTransformerBlockOptions(options.dim(), options.num_heads(), w, i % 2 ? shift : none)
            .mlp_ratio(options.mlp_ratio())
            .qkv_bias(options.qkv_bias())
            .drop(options.drop())
            .attn_drop(options.attn_drop())
            .drop_path(options.drop_path().empty() ? 0.0 : options.drop_path()[i]));
    blocks_->push_back(blk);
    block_list_.push_back(blk);
  }
  const std::string &ds = options.downsample();
  if (ds == "merging" || ds == "mergingv2")
    downsample_ =
        register_module("downsample", PatchMerging(options.dim(), static_cast<int64_t>(w.size()),
                                                   ds == "mergingv2"));
  else if (!ds.empty())
    throw Error("BasicLayer.downsample",
                "expected \"merging\", \"mergingv2\" or none, got \"" + ds + "\"");
}

at::Tensor BasicLayerImpl::forward(const at::Tensor &x) {
  const int64_t d = static_cast<int64_t>(options.window_size().size());
  if (x.dim() != d + 2)
    throw Error("BasicLayer.forward",
                "expected (B, C, *S) with " + std::to_string(d) + " spatial axes");
  std::vector<int64_t> size(x.sizes().begin() + 2, x.sizes().end()), shift;
  for (int64_t v : options.window_size())
    shift.push_back(v / 2);
  auto [w, s] = swin::windowSize(size, options.window_size(), shift);
  std::vector<int64_t> perm{0}, back{0, d + 1}, padded;
  for (int64_t a = 0; a < d; ++a) {
    perm.push_back(2 + a);
    back.push_back(1 + a);
    padded.push_back(static_cast<int64_t>(std::ceil(static_cast<double>(size[a]) / w[a])) * w[a]);
  }
  perm.push_back(1);
  at::Tensor y = x.permute(perm);
  at::Tensor mask = swin::computeMask(padded, w, s, x.device());
  for (auto &blk : block_list_)
    y = blk->forward(y, mask);
  if (downsample_)
    y = downsample_->forward(y);
  return y.permute(back);
}

SwinTransformerImpl::SwinTransformerImpl(SwinTransformerOptions o) : options(std::move(o)) {
  const std::string W = "SwinTransformer";
  const int64_t d = options.spatial_dims();
  if (d != 2 && d != 3)
    throw Error(W + ".spatial_dims", "should be 2 or 3, got " + std::to_string(d));
  if (options.depths().size() != 4 || options.num_heads().size() != 4)
    throw Error(W + ".depths", "expected 4 stages (depths and num_heads of length 4)");
  detail::checkRate(options.drop_rate(), W + ".drop_rate");
  detail::checkRate(options.attn_drop_rate(), W + ".attn_drop_rate");
  detail::checkRate(options.drop_path_rate(), W + ".drop_path_rate");
  auto window = detail::perAxis(options.window_size(), d, W + ".window_size");
  auto patch = detail::perAxis(options.patch_size(), d, W + ".patch_size");
  patch_embed_ = register_module("patch_embed", PatchEmbed(PatchEmbedOptions()
                                                               .patch_size(patch)
                                                               .in_chans(options.in_chans())
                                                               .embed_dim(options.embed_dim())
                                                               .norm(options.patch_norm())
                                                               .spatial_dims(d)));
  pos_drop_ = register_module("pos_drop", nn::Dropout(options.drop_rate()));
  int64_t total = 0;
  for (int64_t v : options.depths())
    total += v;
  // Stochastic depth rates rise linearly from 0 to drop_path_rate over all blocks.
  std::vector<double> dpr;
  at::Tensor lin = at::linspace(0.0, options.drop_path_rate(), total, at::kFloat);
  for (int64_t i = 0; i < total; ++i)
    dpr.push_back(lin[i].item<double>());
  std::vector<nn::ModuleList> lists, clists;
  for (int i = 1; i <= 4; ++i)
    lists.push_back(register_module("layers" + std::to_string(i), nn::ModuleList()));
  if (options.use_v2())
    for (int i = 1; i <= 4; ++i)
      clists.push_back(register_module("layers" + std::to_string(i) + "c", nn::ModuleList()));
  int64_t start = 0;
  for (int64_t i = 0; i < 4; ++i) {
    const int64_t dim = options.embed_dim() << i, depth = options.depths()[i];
    auto layer = BasicLayer(
        BasicLayerOptions(dim, depth, options.num_heads()[i], window)
            .drop_path(std::vector<double>(dpr.begin() + start, dpr.begin() + start + depth))
            .mlp_ratio(options.mlp_ratio())
            .qkv_bias(options.qkv_bias())
            .drop(options.drop_rate())
            .attn_drop(options.attn_drop_rate())
            .downsample(options.downsample()));
    start += depth;
    lists[i]->push_back(layer);
    layers_.push_back(layer);
    if (options.use_v2()) {
      auto c = UnetrBasicBlock(UnetrBlockOptions(d, dim, dim)
                                   .kernel_size({3})
                                   .stride({1})
                                   .norm_name(LayerSpec("instance"))
                                   .res_block(true));
      clists[i]->push_back(c);
      layers_c_.emplace_back(c);
    }
  }
}

namespace {
// Layer norm over the channel axis of a (B, C, *S) map, without learned parameters.
at::Tensor channelNorm(const at::Tensor &x) {
  const int64_t d = x.dim() - 2;
  std::vector<int64_t> perm{0}, back{0, d + 1};
  for (int64_t a = 0; a < d; ++a) {
    perm.push_back(2 + a);
    back.push_back(1 + a);
  }
  perm.push_back(1);
  return at::layer_norm(x.permute(perm), {x.size(1)}).permute(back);
}
} // namespace

std::vector<at::Tensor> SwinTransformerImpl::forward(const at::Tensor &x, bool normalize) {
  auto out = [normalize](const at::Tensor &t) { return normalize ? channelNorm(t) : t; };
  at::Tensor y = pos_drop_->forward(patch_embed_->forward(x));
  std::vector<at::Tensor> res{out(y)};
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (options.use_v2())
      y = layers_c_[i].forward(y.contiguous());
    y = layers_[i]->forward(y.contiguous());
    res.push_back(out(y));
  }
  return res;
}

} // namespace med::networks::blocks
