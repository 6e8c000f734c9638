// VNet and its transitions (vnet.h).
#include "med/networks/nets/vnet.h"

#include <algorithm>
#include <cctype>
#include <string>

#include <ATen/ATen.h>

#include "med/core/error.h"

namespace med::networks::nets {

namespace B = med::networks::blocks;
namespace L = med::networks::layers;
namespace nn = torch::nn;

namespace {

std::string str(int64_t v) { return std::to_string(v); }

/// MONAI's get_acti_layer: "prelu" (no arguments) gets one parameter per channel.
nn::AnyModule actLayer(const LayerSpec &act, int64_t channels) {
  std::string n = act.name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  if (n == "prelu" && act.args.empty())
    return L::act(LayerSpec("prelu", {{"num_parameters", channels}}));
  return L::act(act);
}

/// A 5^d conv ("same" padding) followed by batch norm, as "conv_block.conv" + "conv_block.adn.N".
B::Convolution conv5(int64_t d, int64_t in, int64_t out, bool bias) {
  return B::Convolution(B::ConvolutionOptions(d, in, out)
                            .kernel_size({5})
                            .act(std::nullopt)
                            .norm(LayerSpec("batch"))
                            .bias(bias));
}

/// MONAI's LUConv: act(norm(conv5(x))).
class LUConvImpl : public nn::Module {
public:
  LUConvImpl(int64_t d, int64_t ch, const LayerSpec &act, bool bias) {
    act_ = actLayer(act, ch);
    register_module("act_function", act_.ptr());
    conv_ = register_module("conv_block", conv5(d, ch, ch, bias));
  }
  at::Tensor forward(const at::Tensor &x) { return act_.forward(conv_->forward(x)); }

private:
  nn::AnyModule act_;
  B::Convolution conv_{nullptr};
};
TORCH_MODULE(LUConv);

B::TensorSequential nconv(int64_t d, int64_t ch, int64_t depth, const LayerSpec &act, bool bias) {
  B::TensorSequential s;
  for (int64_t i = 0; i < depth; ++i)
    s->push_back(LUConv(d, ch, act, bias));
  return s;
}

nn::AnyModule dropoutLayer(double p, int64_t dim) {
  return L::dropout({"DROPOUT", {{"p", p}}}, dim);
}

} // namespace

VNetInputTransitionImpl::VNetInputTransitionImpl(int64_t d, int64_t in, int64_t out,
                                                 const LayerSpec &act, bool bias)
    : in_channels_(in), out_channels_(out) {
  if (in < 1 || out % in != 0)
    throw Error("VNet.in_channels", "16 (the first stage's width) must be divisible by "
                                    "in_channels, got " +
                                        str(in));
  act_function_ = actLayer(act, out);
  register_module("act_function", act_function_.ptr());
  conv_block_ = register_module("conv_block", conv5(d, in, out, bias));
}

at::Tensor VNetInputTransitionImpl::forward(const at::Tensor &x) {
  std::vector<int64_t> reps(x.dim(), 1);
  reps[1] = out_channels_ / in_channels_;
  return act_function_.forward(conv_block_->forward(x) + x.repeat(reps));
}

VNetDownTransitionImpl::VNetDownTransitionImpl(int64_t d, int64_t in, int64_t nconvs,
                                               const LayerSpec &act,
                                               std::optional<double> dropout_prob,
                                               int64_t dropout_dim, bool bias) {
  const int64_t out = 2 * in;
  down_conv_ = L::conv({"CONV",
                        {{"in_channels", in},
                         {"out_channels", out},
                         {"kernel_size", 2},
                         {"stride", 2},
                         {"bias", bias}}},
                       d);
  register_module("down_conv", down_conv_.ptr());
  bn1_ = L::get_norm_layer(LayerSpec("batch"), d, out);
  register_module("bn1", bn1_.ptr());
  act_function1_ = actLayer(act, out);
  register_module("act_function1", act_function1_.ptr());
  act_function2_ = actLayer(act, out);
  register_module("act_function2", act_function2_.ptr());
  ops_ = register_module("ops", nconv(d, out, nconvs, act, bias));
  if (dropout_prob) {
    dropout_ = dropoutLayer(*dropout_prob, dropout_dim);
    register_module("dropout", dropout_.ptr());
  }
}

at::Tensor VNetDownTransitionImpl::forward(const at::Tensor &x) {
  at::Tensor down = act_function1_.forward(bn1_.forward(down_conv_.forward(x)));
  at::Tensor out = dropout_.is_empty() ? down : dropout_.forward(down);
  return act_function2_.forward(ops_->forward(out) + down);
}

VNetUpTransitionImpl::VNetUpTransitionImpl(int64_t d, int64_t in, int64_t out, int64_t nconvs,
                                           const LayerSpec &act, VNetUpDropout dropout_prob,
                                           int64_t dropout_dim) {
  up_conv_ =
      L::conv({"CONVTRANS",
               {{"in_channels", in}, {"out_channels", out / 2}, {"kernel_size", 2}, {"stride", 2}}},
              d);
  register_module("up_conv", up_conv_.ptr());
  bn1_ = L::get_norm_layer(LayerSpec("batch"), d, out / 2);
  register_module("bn1", bn1_.ptr());
  if (dropout_prob.first) {
    dropout_ = dropoutLayer(*dropout_prob.first, dropout_dim);
    register_module("dropout", dropout_.ptr());
  }
  dropout2_ = dropoutLayer(dropout_prob.second, dropout_dim);
  register_module("dropout2", dropout2_.ptr());
  act_function1_ = actLayer(act, out / 2);
  register_module("act_function1", act_function1_.ptr());
  act_function2_ = actLayer(act, out);
  register_module("act_function2", act_function2_.ptr());
  ops_ = register_module("ops", nconv(d, out, nconvs, act, false));
}

at::Tensor VNetUpTransitionImpl::forward(const at::Tensor &x, const at::Tensor &skip) {
  at::Tensor out = dropout_.is_empty() ? x : dropout_.forward(x);
  out = act_function1_.forward(bn1_.forward(up_conv_.forward(out)));
  at::Tensor cat = at::cat({out, dropout2_.forward(skip)}, 1);
  return act_function2_.forward(ops_->forward(cat) + cat);
}

VNetOutputTransitionImpl::VNetOutputTransitionImpl(int64_t d, int64_t in, int64_t out,
                                                   const LayerSpec &act, bool bias) {
  act_function1_ = actLayer(act, out);
  register_module("act_function1", act_function1_.ptr());
  conv_block_ = register_module("conv_block", conv5(d, in, out, bias));
  conv2_ = L::conv({"CONV", {{"in_channels", out}, {"out_channels", out}, {"kernel_size", 1}}}, d);
  register_module("conv2", conv2_.ptr());
}

at::Tensor VNetOutputTransitionImpl::forward(const at::Tensor &x) {
  return conv2_.forward(act_function1_.forward(conv_block_->forward(x)));
}

VNetImpl::VNetImpl(VNetOptions o) : options(std::move(o)) {
  const int64_t d = options.spatial_dims();
  if (d != 2 && d != 3)
    throw Error("VNet.spatial_dims", "expected 2 or 3, got " + str(d));
  if (options.out_channels() < 1)
    throw Error("VNet.out_channels", "expected a positive count");
  if (options.dropout_dim() < 1 || options.dropout_dim() > 3)
    throw Error("VNet.dropout_dim", "expected 1, 2 or 3, got " + str(options.dropout_dim()));
  const auto &act = options.act();
  const bool bias = options.bias();
  const int64_t dd = options.dropout_dim();
  const auto down = options.dropout_prob_down();
  const auto up = options.dropout_prob_up();
  in_tr_ = register_module("in_tr", VNetInputTransition(d, options.in_channels(), 16, act, bias));
  down_tr32_ =
      register_module("down_tr32", VNetDownTransition(d, 16, 1, act, std::nullopt, dd, bias));
  down_tr64_ =
      register_module("down_tr64", VNetDownTransition(d, 32, 2, act, std::nullopt, dd, bias));
  down_tr128_ = register_module("down_tr128", VNetDownTransition(d, 64, 3, act, down, dd, bias));
  down_tr256_ = register_module("down_tr256", VNetDownTransition(d, 128, 2, act, down, dd, bias));
  up_tr256_ = register_module("up_tr256", VNetUpTransition(d, 256, 256, 2, act, up, dd));
  up_tr128_ = register_module("up_tr128", VNetUpTransition(d, 256, 128, 2, act, up, dd));
  up_tr64_ = register_module(
      "up_tr64", VNetUpTransition(d, 128, 64, 1, act, VNetUpDropout{std::nullopt, 0.5}, dd));
  up_tr32_ = register_module(
      "up_tr32", VNetUpTransition(d, 64, 32, 1, act, VNetUpDropout{std::nullopt, 0.5}, dd));
  out_tr_ =
      register_module("out_tr", VNetOutputTransition(d, 32, options.out_channels(), act, bias));
}

at::Tensor VNetImpl::forward(const at::Tensor &x) {
  const int64_t d = options.spatial_dims();
  if (x.dim() != d + 2 || x.size(1) != options.in_channels())
    throw Error("VNet.input", "expected (B, " + str(options.in_channels()) + ", " + str(d) +
                                  " spatial axes), got " + c10::str(x.sizes()));
  for (int64_t i = 2; i < x.dim(); ++i)
    if (x.size(i) % 16 != 0)
      throw Error("VNet.input", "spatial size " + str(x.size(i)) + " (axis " + str(i - 2) +
                                    ") must be divisible by 16");
  at::Tensor out16 = in_tr_->forward(x);
  at::Tensor out32 = down_tr32_->forward(out16);
  at::Tensor out64 = down_tr64_->forward(out32);
  at::Tensor out128 = down_tr128_->forward(out64);
  at::Tensor h = up_tr256_->forward(down_tr256_->forward(out128), out128);
  h = up_tr128_->forward(h, out64);
  h = up_tr64_->forward(h, out32);
  return out_tr_->forward(up_tr32_->forward(h, out16));
}

} // namespace med::networks::nets
