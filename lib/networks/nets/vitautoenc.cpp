// ViTAutoEnc (vitautoenc.h).
#include "med/networks/nets/vitautoenc.h"

#include <cmath>

#include <ATen/ATen.h>

#include "med/core/error.h"
#include "med/networks/blocks/convolutions.h"
#include "med/networks/layers/factories.h"

namespace med::networks::nets {

namespace nn = torch::nn;
namespace B = med::networks::blocks;
namespace L = med::networks::layers;

namespace {
/// The integer square root of `v` when `v` is a perfect square, else 0.
int64_t exactSqrt(int64_t v) {
  if (v < 1)
    return 0;
  auto r = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(v))));
  return r * r == v ? r : 0;
}
} // namespace

ViTAutoEncImpl::ViTAutoEncImpl(ViTAutoEncOptions o) : options(std::move(o)) {
  const std::string W = "ViTAutoEnc";
  const int64_t d = options.spatial_dims();
  if (d < 1 || d > 3)
    throw Error(W + ".spatial_dims", "expected 1, 2 or 3, got " + std::to_string(d));
  B::detail::checkRate(options.dropout_rate(), W + ".dropout_rate");
  const int64_t h = options.hidden_size();
  if (h < 1 || options.num_heads() < 1 || h % options.num_heads() != 0)
    throw Error(W + ".hidden_size", "hidden_size (" + std::to_string(h) +
                                        ") should be divisible by num_heads (" +
                                        std::to_string(options.num_heads()) + ")");
  if (options.num_layers() < 0)
    throw Error(W + ".num_layers",
                "expected at least 0, got " + std::to_string(options.num_layers()));
  const auto img = B::detail::perAxis(options.img_size(), d, W + ".img_size");
  const auto patch = B::detail::perAxis(options.patch_size(), d, W + ".patch_size");
  std::vector<int64_t> up;
  for (int64_t i = 0; i < d; ++i) {
    const int64_t r = exactSqrt(patch[i]);
    if (r == 0)
      throw Error(W + ".patch_size", "every patch size must be a perfect square (the two "
                                     "transposed convs up-sample by its square root), got " +
                                         std::to_string(patch[i]));
    if (img[i] < patch[i] || img[i] % patch[i] != 0)
      throw Error(W + ".img_size",
                  "image size " + std::to_string(img[i]) + " (axis " + std::to_string(i) +
                      ") must be a multiple of the patch size " + std::to_string(patch[i]));
    up.push_back(r);
    grid_.push_back(img[i] / patch[i]);
  }
  patch_embedding_ = register_module(
      "patch_embedding",
      B::PatchEmbeddingBlock(
          B::PatchEmbeddingBlockOptions(options.in_channels(), img, patch, h, options.num_heads())
              .proj_type(options.proj_type())
              .dropout_rate(options.dropout_rate())
              .spatial_dims(d)));
  blocks_list_ = register_module("blocks", nn::ModuleList());
  blocks = B::appendTransformerBlocks(
      blocks_list_,
      B::TransformerBlockOptions(h, options.mlp_dim(), options.num_heads())
          .dropout_rate(options.dropout_rate())
          .qkv_bias(options.qkv_bias())
          .save_attn(options.save_attn()),
      options.num_layers());
  norm_ = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({h})));
  auto deconv = [&](int64_t in, int64_t out) {
    return L::conv({"CONVTRANS",
                    {{"in_channels", in},
                     {"out_channels", out},
                     {"kernel_size", c10::IValue(up)},
                     {"stride", c10::IValue(up)}}},
                   d);
  };
  conv3d_transpose_ = deconv(h, options.deconv_chns());
  register_module("conv3d_transpose", conv3d_transpose_.ptr());
  conv3d_transpose_1_ = deconv(options.deconv_chns(), options.out_channels());
  register_module("conv3d_transpose_1", conv3d_transpose_1_.ptr());
}

ViTAutoEncOutput ViTAutoEncImpl::forward(const at::Tensor &x) {
  ViTAutoEncOutput out;
  at::Tensor y = patch_embedding_->forward(x); // checks the input shape
  for (auto &blk : blocks) {
    y = blk->forward(y);
    out.hidden_states_out.push_back(y);
  }
  y = norm_->forward(y).transpose(1, 2);
  std::vector<int64_t> shape = {y.size(0), y.size(1)};
  shape.insert(shape.end(), grid_.begin(), grid_.end());
  y = y.reshape(shape);
  out.x = conv3d_transpose_1_.forward(conv3d_transpose_.forward(y));
  return out;
}

} // namespace med::networks::nets
