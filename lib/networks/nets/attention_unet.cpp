// AttentionUnet (attention_unet.h) and its blocks ConvBlock, UpConv, AttentionBlock and
// AttentionLayer, with MONAI's child names.
#include "med/networks/nets/attention_unet.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/activation.h>

#include "med/core/error.h"

namespace med::networks::nets {

namespace B = med::networks::blocks;
namespace L = med::networks::layers;
namespace nn = torch::nn;
using layers::LayerSpec;

namespace {

/// Convolution + BatchNorm + Dropout + ReLU ("NDA" order), the unit of ConvBlock and UpConv.
B::ConvolutionOptions bnRelu(int64_t d, int64_t in, int64_t out, std::vector<int64_t> k,
                             int64_t stride, double dropout) {
  return B::ConvolutionOptions(d, in, out)
      .kernel_size(std::move(k))
      .strides({stride})
      .act(LayerSpec("relu"))
      .norm(LayerSpec("BATCH"))
      .dropout(B::dropoutSpec(dropout));
}

/// MONAI's ConvBlock: two bnRelu convolutions under "conv".
B::TensorSequential convBlock(const AttentionUnetOptions &o, int64_t in, int64_t out,
                              int64_t stride) {
  B::TensorSequential convs;
  convs->push_back(
      B::Convolution(bnRelu(o.spatial_dims(), in, out, o.kernel_size(), stride, o.dropout())));
  convs->push_back(
      B::Convolution(bnRelu(o.spatial_dims(), out, out, o.kernel_size(), 1, o.dropout())));
  B::TensorSequential block;
  block->push_back("conv", convs);
  return block;
}

/// 1x1 conv (no ADN) + BatchNorm, the projections of the attention gate.
B::TensorSequential projection(int64_t d, int64_t in, int64_t out) {
  B::TensorSequential s;
  s->push_back(B::Convolution(B::ConvolutionOptions(d, in, out)
                                  .kernel_size({1})
                                  .padding(std::vector<int64_t>{0})
                                  .conv_only(true)));
  s->push_back(L::norm("BATCH", d, out));
  return s;
}

/// x * sigmoid(bn(conv(relu(W_g(g) + W_x(x))))).
class AttentionBlockImpl : public nn::Module {
public:
  AttentionBlockImpl(int64_t d, int64_t fInt, int64_t fG, int64_t fL) {
    W_g_ = register_module("W_g", projection(d, fG, fInt));
    W_x_ = register_module("W_x", projection(d, fL, fInt));
    psi_ = projection(d, fInt, 1);
    psi_->push_back(nn::Sigmoid());
    register_module("psi", psi_);
    relu_ = register_module("relu", nn::ReLU());
  }
  at::Tensor forward(const at::Tensor &g, const at::Tensor &x) {
    at::Tensor a = relu_->forward(W_g_->forward(g) + W_x_->forward(x));
    return x * psi_->forward(a);
  }

private:
  B::TensorSequential W_g_{nullptr}, W_x_{nullptr}, psi_{nullptr};
  nn::ReLU relu_{nullptr};
};
TORCH_MODULE(AttentionBlock);

/// up = upconv(submodule(x)); merge(cat[attention(g=up, x=x), up]).
class AttentionLayerImpl : public nn::Module {
public:
  AttentionLayerImpl(const AttentionUnetOptions &o, int64_t in, int64_t out,
                     nn::AnyModule submodule, int64_t stride) {
    const int64_t d = o.spatial_dims();
    attention_ = register_module("attention", AttentionBlock(d, in / 2, in, in));
    B::TensorSequential up;
    up->push_back(
        "up", B::Convolution(
                  bnRelu(d, out, in, o.up_kernel_size(), stride, o.dropout()).is_transposed(true)));
    upconv_ = register_module("upconv", up);
    merge_ = register_module(
        "merge",
        B::Convolution(B::ConvolutionOptions(d, 2 * in, in).dropout(B::dropoutSpec(o.dropout()))));
    submodule_ = std::move(submodule);
    register_module("submodule", submodule_.ptr());
  }
  at::Tensor forward(const at::Tensor &x) {
    at::Tensor up = upconv_->forward(submodule_.forward(x));
    at::Tensor att = attention_->forward(up, x);
    return merge_->forward(at::cat({att, up}, 1));
  }

private:
  AttentionBlock attention_{nullptr};
  B::TensorSequential upconv_{nullptr};
  B::Convolution merge_{nullptr};
  nn::AnyModule submodule_;
};
TORCH_MODULE(AttentionLayer);

nn::AnyModule level(const AttentionUnetOptions &o, size_t i) {
  const auto &ch = o.channels();
  const int64_t s = o.strides()[i];
  if (ch.size() - i > 2) {
    B::TensorSequential down;
    down->push_back(convBlock(o, ch[i], ch[i + 1], s));
    down->push_back(level(o, i + 1));
    return nn::AnyModule(AttentionLayer(o, ch[i], ch[i + 1], nn::AnyModule(down), s));
  }
  return nn::AnyModule(
      AttentionLayer(o, ch[i], ch[i + 1], nn::AnyModule(convBlock(o, ch[i], ch[i + 1], s)), s));
}

} // namespace

AttentionUnetImpl::AttentionUnetImpl(AttentionUnetOptions o) : options(std::move(o)) {
  const int64_t d = options.spatial_dims();
  if (d < 1 || d > 3)
    throw Error("AttentionUnet.spatial_dims", "expected 1, 2 or 3, got " + std::to_string(d));
  const auto &ch = options.channels();
  if (ch.size() < 2)
    throw Error("AttentionUnet.channels",
                "expected at least 2 levels, got " + std::to_string(ch.size()));
  if (options.strides().size() != ch.size() - 1)
    throw Error("AttentionUnet.strides",
                "expected len(channels) - 1 = " + std::to_string(ch.size() - 1) + " strides, got " +
                    std::to_string(options.strides().size()));
  model_ = B::TensorSequential();
  model_->push_back(convBlock(options, options.in_channels(), ch[0], 1));
  model_->push_back(level(options, 0));
  model_->push_back(B::Convolution(B::ConvolutionOptions(d, ch[0], options.out_channels())
                                       .kernel_size({1})
                                       .padding(std::vector<int64_t>{0})
                                       .conv_only(true)));
  register_module("model", model_);
}

at::Tensor AttentionUnetImpl::forward(const at::Tensor &x) {
  const int64_t d = options.spatial_dims();
  if (x.dim() != d + 2 || x.size(1) != options.in_channels())
    throw Error("AttentionUnet.input", "expected (B, " + std::to_string(options.in_channels()) +
                                           ", " + std::to_string(d) + " spatial axes), got " +
                                           c10::str(x.sizes()));
  int64_t f = 1;
  for (int64_t s : options.strides())
    f *= s;
  for (int64_t i = 2; i < x.dim(); ++i)
    if (x.size(i) % f != 0)
      throw Error("AttentionUnet.input",
                  "spatial size " + std::to_string(x.size(i)) + " (axis " + std::to_string(i - 2) +
                      ") must be divisible by the product of strides, " + std::to_string(f));
  return model_->forward(x);
}

} // namespace med::networks::nets
