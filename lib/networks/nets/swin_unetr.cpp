// SwinUNETR (swin_unetr.h).
#include "med/networks/nets/swin_unetr.h"

#include <cctype>

#include <ATen/ATen.h>

#include "med/core/error.h"
#include "med/networks/blocks/convolutions.h"

namespace med::networks::nets {

namespace B = med::networks::blocks;

namespace {
constexpr int64_t kDivisor = 32; // patch size 2, to the power of the 5 resolution levels
}

void SwinUNETRImpl::checkSize(at::IntArrayRef size, const std::string &where) const {
  for (size_t i = 0; i < size.size(); ++i)
    if (size[i] < 1 || size[i] % kDivisor != 0)
      throw Error(where, "spatial dimension " + std::to_string(i + 2) + " (size " +
                             std::to_string(size[i]) + ") must be divisible by 2**5 = 32");
}

SwinUNETRImpl::SwinUNETRImpl(SwinUNETROptions o) : options(std::move(o)) {
  const std::string W = "SwinUNETR";
  const int64_t d = options.spatial_dims(), f = options.feature_size();
  if (d != 2 && d != 3)
    throw Error(W + ".spatial_dims", "should be 2 or 3, got " + std::to_string(d));
  if (options.img_size())
    checkSize(B::detail::perAxis(*options.img_size(), d, W + ".img_size"), W + ".img_size");
  B::detail::checkRate(options.drop_rate(), W + ".drop_rate");
  B::detail::checkRate(options.attn_drop_rate(), W + ".attn_drop_rate");
  B::detail::checkRate(options.dropout_path_rate(), W + ".dropout_path_rate");
  if (f < 12 || f % 12 != 0)
    throw Error(W + ".feature_size", "should be divisible by 12, got " + std::to_string(f));
  swinViT_ =
      register_module("swinViT", B::SwinTransformer(B::SwinTransformerOptions()
                                                        .in_chans(options.in_channels())
                                                        .embed_dim(f)
                                                        .window_size({7})
                                                        .patch_size({2})
                                                        .depths(options.depths())
                                                        .num_heads(options.num_heads())
                                                        .mlp_ratio(4.0)
                                                        .qkv_bias(true)
                                                        .drop_rate(options.drop_rate())
                                                        .attn_drop_rate(options.attn_drop_rate())
                                                        .drop_path_rate(options.dropout_path_rate())
                                                        .spatial_dims(d)
                                                        .downsample(options.downsample())
                                                        .use_v2(options.use_v2())));
  auto blk = [&](int64_t in, int64_t out) {
    return B::UnetrBlockOptions(d, in, out)
        .kernel_size({3})
        .stride({1})
        .upsample_kernel_size({2})
        .norm_name(options.norm_name())
        .res_block(true);
  };
  encoder1_ = register_module("encoder1", B::UnetrBasicBlock(blk(options.in_channels(), f)));
  encoder2_ = register_module("encoder2", B::UnetrBasicBlock(blk(f, f)));
  encoder3_ = register_module("encoder3", B::UnetrBasicBlock(blk(2 * f, 2 * f)));
  encoder4_ = register_module("encoder4", B::UnetrBasicBlock(blk(4 * f, 4 * f)));
  encoder10_ = register_module("encoder10", B::UnetrBasicBlock(blk(16 * f, 16 * f)));
  decoder5_ = register_module("decoder5", B::UnetrUpBlock(blk(16 * f, 8 * f)));
  decoder4_ = register_module("decoder4", B::UnetrUpBlock(blk(8 * f, 4 * f)));
  decoder3_ = register_module("decoder3", B::UnetrUpBlock(blk(4 * f, 2 * f)));
  decoder2_ = register_module("decoder2", B::UnetrUpBlock(blk(2 * f, f)));
  decoder1_ = register_module("decoder1", B::UnetrUpBlock(blk(f, f)));
  out_ = register_module("out", B::UnetOutBlock(d, f, options.out_channels()));
}

at::Tensor SwinUNETRImpl::forward(const at::Tensor &x) {
  const int64_t d = options.spatial_dims();
  if (x.dim() != d + 2 || x.size(1) != options.in_channels())
    throw Error("SwinUNETR.forward", "expected (B, " + std::to_string(options.in_channels()) +
                                         ", *S) with " + std::to_string(d) + " spatial axes");
  checkSize(x.sizes().slice(2), "SwinUNETR.forward");
  std::string norm = options.norm_name().name;
  for (auto &c : norm)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (norm == "instance") {
    bool allOne = true;
    for (int64_t s : x.sizes().slice(2))
      allOne = allOne && s == kDivisor;
    if (allOne)
      throw Error("SwinUNETR.forward",
                  "an input of size 32 leaves a 1-voxel bottleneck, on which instance norm has "
                  "no statistics (MONAI raises here too); use sizes of 64 or more");
  }
  std::vector<at::Tensor> h = swinViT_->forward(x, options.normalize());
  at::Tensor enc0 = encoder1_->forward(x);
  at::Tensor enc1 = encoder2_->forward(h[0]);
  at::Tensor enc2 = encoder3_->forward(h[1]);
  at::Tensor enc3 = encoder4_->forward(h[2]);
  at::Tensor dec4 = encoder10_->forward(h[4]);
  at::Tensor dec3 = decoder5_->forward(dec4, h[3]);
  at::Tensor dec2 = decoder4_->forward(dec3, enc3);
  at::Tensor dec1 = decoder3_->forward(dec2, enc2);
  at::Tensor dec0 = decoder2_->forward(dec1, enc1);
  return out_->forward(decoder1_->forward(dec0, enc0));
}

} // namespace med::networks::nets
