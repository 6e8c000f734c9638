// ViT (vit.h).
#include "med/networks/nets/vit.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>

#include "med/core/error.h"
#include "med/networks/blocks/convolutions.h"

namespace med::networks::nets {

namespace nn = torch::nn;
namespace B = med::networks::blocks;

ViTImpl::ViTImpl(ViTOptions o) : options(std::move(o)) {
  B::detail::checkRate(options.dropout_rate(), "ViT.dropout_rate");
  const int64_t h = options.hidden_size();
  if (options.num_heads() < 1 || h % options.num_heads() != 0)
    throw Error("ViT.hidden_size", "hidden_size (" + std::to_string(h) +
                                       ") should be divisible by num_heads (" +
                                       std::to_string(options.num_heads()) + ")");
  if (options.num_layers() < 1)
    throw Error("ViT.num_layers",
                "expected at least 1, got " + std::to_string(options.num_layers()));
  patch_embedding_ = register_module(
      "patch_embedding", B::PatchEmbeddingBlock(B::PatchEmbeddingBlockOptions(
                                                    options.in_channels(), options.img_size(),
                                                    options.patch_size(), h, options.num_heads())
                                                    .proj_type(options.proj_type())
                                                    .pos_embed_type(options.pos_embed_type())
                                                    .dropout_rate(options.dropout_rate())
                                                    .spatial_dims(options.spatial_dims())));
  blocks_list_ = register_module("blocks", nn::ModuleList());
  blocks = B::appendTransformerBlocks(
      blocks_list_,
      B::TransformerBlockOptions(h, options.mlp_dim(), options.num_heads())
          .dropout_rate(options.dropout_rate())
          .qkv_bias(options.qkv_bias())
          .save_attn(options.save_attn()),
      options.num_layers());
  norm_ = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({h})));
  if (options.classification()) {
    if (options.num_classes() < 1)
      throw Error("ViT.num_classes",
                  "expected at least 1, got " + std::to_string(options.num_classes()));
    cls_token_ = register_parameter("cls_token", at::zeros({1, 1, h}));
    if (options.post_activation() == "Tanh") {
      auto seq = B::TensorSequential();
      seq->push_back("0", nn::Linear(h, options.num_classes()));
      seq->push_back("1", nn::Tanh());
      classification_head_ = nn::AnyModule(seq);
    } else {
      classification_head_ = nn::AnyModule(nn::Linear(h, options.num_classes()));
    }
    register_module("classification_head", classification_head_.ptr());
  }
}

ViTOutput ViTImpl::forward(const at::Tensor &x) {
  at::Tensor y = patch_embedding_->forward(x);
  if (cls_token_.defined())
    y = at::cat({cls_token_.expand({y.size(0), -1, -1}), y}, 1);
  ViTOutput out;
  for (auto &blk : blocks) {
    y = blk->forward(y);
    out.hidden_states_out.push_back(y);
  }
  y = norm_->forward(y);
  if (!classification_head_.is_empty())
    y = classification_head_.forward(y.select(1, 0));
  out.x = y;
  return out;
}

} // namespace med::networks::nets
