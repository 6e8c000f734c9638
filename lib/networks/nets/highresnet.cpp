// HighResNet, HighResBlock and ChannelPad (highresnet.h).
#include "med/networks/nets/highresnet.h"

#include <ATen/ATen.h>

#include "med/core/error.h"

namespace med::networks::nets {

namespace B = med::networks::blocks;
namespace L = med::networks::layers;
namespace nn = torch::nn;

namespace {
std::string str(int64_t v) { return std::to_string(v); }
} // namespace

ChannelPadImpl::ChannelPadImpl(int64_t d, int64_t in, int64_t out, const std::string &mode) {
  if (mode != "pad" && mode != "project")
    throw Error("ChannelPad.mode", "expected \"pad\" or \"project\", got \"" + mode + "\"");
  if (in == out)
    return;
  if (mode == "project") {
    project_ =
        L::conv({"CONV", {{"in_channels", in}, {"out_channels", out}, {"kernel_size", 1}}}, d);
    register_module("project", project_.ptr());
    return;
  }
  // Python floor division, also for fewer output channels (negative pads crop).
  const int64_t diff = out - in;
  pad1_ = diff >= 0 ? diff / 2 : -((-diff + 1) / 2);
  pad2_ = diff - pad1_;
}

at::Tensor ChannelPadImpl::forward(const at::Tensor &x) {
  if (!project_.is_empty())
    return project_.forward(x);
  if (pad1_ == 0 && pad2_ == 0)
    return x;
  std::vector<int64_t> pad(2 * (x.dim() - 2), 0);
  pad.push_back(pad1_);
  pad.push_back(pad2_);
  return at::constant_pad_nd(x, pad, 0);
}

HighResBlockImpl::HighResBlockImpl(int64_t d, int64_t in, int64_t out,
                                   const std::vector<int64_t> &kernels, int64_t dilation,
                                   const LayerSpec &norm, const LayerSpec &act, bool bias,
                                   const std::string &channel_matching) {
  if (kernels.empty())
    throw Error("HighResBlock.kernels", "expected at least one kernel size");
  chn_pad_ = register_module("chn_pad", ChannelPad(d, in, out, channel_matching));
  layers_ = B::TensorSequential();
  int64_t ch = in;
  for (int64_t k : kernels) {
    layers_->push_back(
        B::ADN(B::ADNOptions().ordering("NA").in_channels(ch).act(act).norm(norm).norm_dim(d)));
    layers_->push_back(B::Convolution(B::ConvolutionOptions(d, ch, out)
                                          .kernel_size({k})
                                          .dilation({dilation})
                                          .bias(bias)
                                          .conv_only(true)));
    ch = out;
  }
  register_module("layers", layers_);
}

at::Tensor HighResBlockImpl::forward(const at::Tensor &x) {
  return layers_->forward(x) + chn_pad_->forward(x);
}

std::vector<HighResNetLayer> highResNetDefaultLayers() {
  return {{"conv_0", 16, 3, {}, 1},    {"res_1", 16, 1, {3, 3}, 3}, {"res_2", 32, 1, {3, 3}, 3},
          {"res_3", 64, 1, {3, 3}, 3}, {"conv_1", 80, 1, {}, 1},    {"conv_2", 0, 1, {}, 1}};
}

HighResNetImpl::HighResNetImpl(HighResNetOptions o) : options(std::move(o)) {
  const int64_t d = options.spatial_dims();
  if (d < 1 || d > 3)
    throw Error("HighResNet.spatial_dims", "expected 1, 2 or 3, got " + str(d));
  const auto &lp = options.layer_params();
  if (lp.size() < 3)
    throw Error("HighResNet.layer_params",
                "expected an initial conv, residual groups and two output convs (at least 3 "
                "entries), got " +
                    str(static_cast<int64_t>(lp.size())));
  if (options.channel_matching() != "pad" && options.channel_matching() != "project")
    throw Error("HighResNet.channel_matching",
                "expected \"pad\" or \"project\", got \"" + options.channel_matching() + "\"");
  auto conv = [&](int64_t in, int64_t out, int64_t k, const std::string &ordering, bool drop) {
    B::ConvolutionOptions c(d, in, out);
    c.kernel_size({k}).adn_ordering(ordering).act(options.acti_type()).norm(options.norm_type());
    c.bias(options.bias());
    if (drop)
      c.dropout(B::dropoutSpec(options.dropout_prob()));
    return B::Convolution(c);
  };
  blocks_ = B::TensorSequential();
  int64_t ch = lp[0].n_features;
  if (ch < 1)
    throw Error("HighResNet.layer_params", "entry 0 needs n_features >= 1");
  blocks_->push_back(conv(options.in_channels(), ch, lp[0].kernel_size, "NA", false));
  for (size_t i = 1; i + 2 < lp.size(); ++i) {
    if (lp[i].n_features < 1 || lp[i].repeat < 1)
      throw Error("HighResNet.layer_params", "entry " + str(static_cast<int64_t>(i)) +
                                                 " needs n_features >= 1 and repeat >= 1");
    const int64_t dilation = int64_t(1) << (i - 1);
    for (int64_t r = 0; r < lp[i].repeat; ++r) {
      blocks_->push_back(HighResBlock(d, ch, lp[i].n_features, lp[i].kernels, dilation,
                                      options.norm_type(), options.acti_type(), options.bias(),
                                      options.channel_matching()));
      ch = lp[i].n_features;
    }
  }
  const auto &penultimate = lp[lp.size() - 2];
  if (penultimate.n_features < 1)
    throw Error("HighResNet.layer_params", "the second-to-last entry needs n_features >= 1");
  blocks_->push_back(conv(ch, penultimate.n_features, penultimate.kernel_size, "NAD", true));
  blocks_->push_back(
      conv(penultimate.n_features, options.out_channels(), lp.back().kernel_size, "NAD", true));
  register_module("blocks", blocks_);
}

at::Tensor HighResNetImpl::forward(const at::Tensor &x) {
  const int64_t d = options.spatial_dims();
  if (x.dim() != d + 2 || x.size(1) != options.in_channels())
    throw Error("HighResNet.input", "expected (B, " + str(options.in_channels()) + ", " + str(d) +
                                        " spatial axes), got " + c10::str(x.sizes()));
  return blocks_->forward(x);
}

} // namespace med::networks::nets
