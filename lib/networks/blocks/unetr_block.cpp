// UnetrBasicBlock, UnetrPrUpBlock and UnetrUpBlock (unetr_block.h).
#include "med/networks/blocks/unetr_block.h"

#include <string>

#include <ATen/ATen.h>

#include "med/core/error.h"

namespace med::networks::blocks {

namespace nn = torch::nn;

namespace {
nn::AnyModule convBlock(const UnetrBlockOptions &o, int64_t in, int64_t out,
                        const std::vector<int64_t> &stride) {
  UnetBlockOptions b(o.spatial_dims(), in, out, o.kernel_size(), stride, o.norm_name());
  if (o.res_block())
    return nn::AnyModule(UnetResBlock(b));
  return nn::AnyModule(UnetBasicBlock(b));
}

Convolution upConv(const UnetrBlockOptions &o, int64_t in, int64_t out) {
  return dynunetConv(o.spatial_dims(), in, out, o.upsample_kernel_size(), o.upsample_kernel_size(),
                     std::nullopt, /*bias=*/false,
                     /*is_transposed=*/true);
}
} // namespace

UnetrBasicBlockImpl::UnetrBasicBlockImpl(UnetrBlockOptions o) : options(std::move(o)) {
  layer_ = convBlock(options, options.in_channels(), options.out_channels(), options.stride());
  register_module("layer", layer_.ptr());
}

at::Tensor UnetrBasicBlockImpl::forward(const at::Tensor &x) { return layer_.forward(x); }

UnetrPrUpBlockImpl::UnetrPrUpBlockImpl(UnetrBlockOptions o) : options(std::move(o)) {
  if (options.num_layer() < 0)
    throw Error("UnetrPrUpBlock.num_layer",
                "expected 0 or more, got " + std::to_string(options.num_layer()));
  const int64_t out = options.out_channels();
  transp_conv_init_ =
      register_module("transp_conv_init", upConv(options, options.in_channels(), out));
  blocks_ = register_module("blocks", nn::ModuleList());
  for (int64_t i = 0; i < options.num_layer(); ++i) {
    if (options.conv_block()) {
      auto seq = TensorSequential();
      seq->push_back("0", upConv(options, out, out));
      seq->push_back("1", convBlock(options, out, out, options.stride()));
      blocks_->push_back(seq);
      stages_.emplace_back(seq);
    } else {
      auto up = upConv(options, out, out);
      blocks_->push_back(up);
      stages_.emplace_back(up);
    }
  }
}

at::Tensor UnetrPrUpBlockImpl::forward(const at::Tensor &x) {
  at::Tensor y = transp_conv_init_->forward(x);
  for (auto &s : stages_)
    y = s.forward(y);
  return y;
}

UnetrUpBlockImpl::UnetrUpBlockImpl(UnetrBlockOptions o) : options(std::move(o)) {
  const int64_t out = options.out_channels();
  transp_conv_ = register_module("transp_conv", upConv(options, options.in_channels(), out));
  conv_block_ = convBlock(options, 2 * out, out, {1});
  register_module("conv_block", conv_block_.ptr());
}

at::Tensor UnetrUpBlockImpl::forward(const at::Tensor &x, const at::Tensor &skip) {
  at::Tensor up = transp_conv_->forward(x);
  if (skip.dim() != up.dim() || skip.size(0) != up.size(0) ||
      skip.size(1) != options.out_channels() || skip.sizes().slice(2) != up.sizes().slice(2))
    throw Error("UnetrUpBlock.forward", "skip must be (B, " +
                                            std::to_string(options.out_channels()) +
                                            ", *S) with S the up-sampled size of x");
  return conv_block_.forward(at::cat({up, skip}, 1));
}

} // namespace med::networks::blocks
