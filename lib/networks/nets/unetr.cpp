// UNETR (unetr.h).
#include "med/networks/nets/unetr.h"

#include <ATen/ATen.h>

#include "med/core/error.h"
#include "med/networks/blocks/convolutions.h"

namespace med::networks::nets {

namespace B = med::networks::blocks;

namespace {
constexpr int64_t kPatch = 16;
constexpr int64_t kLayers = 12;
} // namespace

UNETRImpl::UNETRImpl(UNETROptions o) : options(std::move(o)) {
  const int64_t d = options.spatial_dims();
  if (d < 1 || d > 3)
    throw Error("UNETR.spatial_dims", "expected 1, 2 or 3, got " + std::to_string(d));
  B::detail::checkRate(options.dropout_rate(), "UNETR.dropout_rate");
  const int64_t h = options.hidden_size(), f = options.feature_size();
  if (options.num_heads() < 1 || h % options.num_heads() != 0)
    throw Error("UNETR.hidden_size", "hidden_size (" + std::to_string(h) +
                                         ") should be divisible by num_heads (" +
                                         std::to_string(options.num_heads()) + ")");
  auto img = B::detail::perAxis(options.img_size(), d, "UNETR.img_size");
  for (int64_t s : img) {
    if (s < kPatch || s % kPatch != 0)
      throw Error("UNETR.img_size", "every size must be a positive multiple of the patch size 16, "
                                    "got " +
                                        std::to_string(s));
    feat_size_.push_back(s / kPatch);
  }
  vit_ = register_module("vit", ViT(ViTOptions(options.in_channels(), img, {kPatch})
                                        .hidden_size(h)
                                        .mlp_dim(options.mlp_dim())
                                        .num_layers(kLayers)
                                        .num_heads(options.num_heads())
                                        .proj_type(options.proj_type())
                                        .classification(false)
                                        .dropout_rate(options.dropout_rate())
                                        .spatial_dims(d)
                                        .qkv_bias(options.qkv_bias())
                                        .save_attn(options.save_attn())));
  auto blk = [&](int64_t in, int64_t out) {
    return B::UnetrBlockOptions(d, in, out)
        .kernel_size({3})
        .stride({1})
        .upsample_kernel_size({2})
        .norm_name(options.norm_name())
        .conv_block(options.conv_block())
        .res_block(options.res_block());
  };
  encoder1_ = register_module("encoder1", B::UnetrBasicBlock(blk(options.in_channels(), f)));
  encoder2_ = register_module("encoder2", B::UnetrPrUpBlock(blk(h, 2 * f).num_layer(2)));
  encoder3_ = register_module("encoder3", B::UnetrPrUpBlock(blk(h, 4 * f).num_layer(1)));
  encoder4_ = register_module("encoder4", B::UnetrPrUpBlock(blk(h, 8 * f).num_layer(0)));
  decoder5_ = register_module("decoder5", B::UnetrUpBlock(blk(h, 8 * f)));
  decoder4_ = register_module("decoder4", B::UnetrUpBlock(blk(8 * f, 4 * f)));
  decoder3_ = register_module("decoder3", B::UnetrUpBlock(blk(4 * f, 2 * f)));
  decoder2_ = register_module("decoder2", B::UnetrUpBlock(blk(2 * f, f)));
  out_ = register_module("out", B::UnetOutBlock(d, f, options.out_channels()));
}

at::Tensor UNETRImpl::projFeat(const at::Tensor &tokens) const {
  std::vector<int64_t> shape{tokens.size(0)};
  shape.insert(shape.end(), feat_size_.begin(), feat_size_.end());
  shape.push_back(options.hidden_size());
  const int64_t d = static_cast<int64_t>(feat_size_.size());
  std::vector<int64_t> perm{0, d + 1};
  for (int64_t i = 1; i <= d; ++i)
    perm.push_back(i);
  return tokens.reshape(shape).permute(perm).contiguous();
}

at::Tensor UNETRImpl::forward(const at::Tensor &x) {
  ViTOutput v = vit_->forward(x);
  at::Tensor enc1 = encoder1_->forward(x);
  at::Tensor enc2 = encoder2_->forward(projFeat(v.hidden_states_out[3]));
  at::Tensor enc3 = encoder3_->forward(projFeat(v.hidden_states_out[6]));
  at::Tensor enc4 = encoder4_->forward(projFeat(v.hidden_states_out[9]));
  at::Tensor dec3 = decoder5_->forward(projFeat(v.x), enc4);
  at::Tensor dec2 = decoder4_->forward(dec3, enc3);
  at::Tensor dec1 = decoder3_->forward(dec2, enc2);
  return out_->forward(decoder2_->forward(dec1, enc1));
}

} // namespace med::networks::nets
