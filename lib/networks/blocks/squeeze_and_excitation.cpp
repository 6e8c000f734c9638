// ChannelSELayer and the SENet bottlenecks (squeeze_and_excitation.h).
#include "med/networks/blocks/squeeze_and_excitation.h"

#include <cmath>

#include <ATen/ATen.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include "med/core/error.h"

namespace med::networks::blocks {

namespace L = med::networks::layers;
namespace nn = torch::nn;

ChannelSELayerImpl::ChannelSELayerImpl(int64_t d, int64_t in_channels, int64_t r,
                                       const LayerSpec &act1, const LayerSpec &act2) {
  if (r < 1 || in_channels / r < 1)
    throw Error("ChannelSELayer.r", "in_channels / r must be at least 1 (in_channels " +
                                        std::to_string(in_channels) + ", r " + std::to_string(r) +
                                        ")");
  avg_pool_ = L::pool({"ADAPTIVEAVG", {{"output_size", 1}}}, d);
  register_module("avg_pool", avg_pool_.ptr());
  const int64_t mid = in_channels / r;
  fc_ = nn::Sequential();
  fc_->push_back(nn::Linear(in_channels, mid));
  fc_->push_back(L::act(act1));
  fc_->push_back(nn::Linear(mid, in_channels));
  fc_->push_back(L::act(act2));
  register_module("fc", fc_);
}

at::Tensor ChannelSELayerImpl::forward(const at::Tensor &x) {
  const int64_t b = x.size(0), c = x.size(1);
  at::Tensor y = fc_->forward(avg_pool_.forward(x).view({b, c}));
  std::vector<int64_t> shape(x.dim(), 1);
  shape[0] = b;
  shape[1] = c;
  return x * y.view(shape);
}

SEBottleneckKind seBottleneckKind(const std::string &name, const std::string &where) {
  if (name == "se_bottleneck")
    return SEBottleneckKind::SEBottleneck;
  if (name == "se_resnet_bottleneck")
    return SEBottleneckKind::SEResNetBottleneck;
  if (name == "se_resnetxt_bottleneck")
    return SEBottleneckKind::SEResNeXtBottleneck;
  throw Error(where, "unknown block \"" + name +
                         "\"; expected se_bottleneck, se_resnet_bottleneck or "
                         "se_resnetxt_bottleneck");
}

namespace {
/// A bias-free Convolution with batch norm and optionally ReLU ("conv" + "adn.N" [+ "adn.A"]).
Convolution seConv(int64_t d, int64_t in, int64_t out, int64_t k, int64_t stride, int64_t groups,
                   bool relu) {
  ConvolutionOptions o(d, in, out);
  o.kernel_size({k}).strides({stride}).groups(groups).bias(false).norm(LayerSpec("batch"));
  o.act(relu ? std::optional<LayerSpec>(LayerSpec("relu", {{"inplace", true}})) : std::nullopt);
  return Convolution(o);
}
} // namespace

SEResidualBlockImpl::SEResidualBlockImpl(SEBottleneckKind kind, int64_t d, int64_t inplanes,
                                         int64_t planes, int64_t groups, int64_t reduction,
                                         int64_t stride, nn::AnyModule downsample,
                                         int64_t base_width) {
  int64_t c1 = planes, c2 = planes, s1 = 1, s2 = stride;
  const int64_t c3 = planes * expansion;
  if (kind == SEBottleneckKind::SEBottleneck) {
    c1 = planes * 2;
    c2 = planes * 4;
  } else if (kind == SEBottleneckKind::SEResNetBottleneck) {
    s1 = stride;
    s2 = 1;
  } else {
    c1 = c2 =
        static_cast<int64_t>(std::floor(static_cast<double>(planes) * base_width / 64.0)) * groups;
  }
  if (groups < 1 || c1 % groups != 0 || c2 % groups != 0)
    throw Error("SEResidualBlock.groups",
                "the 3^d conv's channels (" + std::to_string(c1) + " -> " + std::to_string(c2) +
                    ") must be divisible by groups = " + std::to_string(groups));
  conv1_ = register_module("conv1", seConv(d, inplanes, c1, 1, s1, 1, true));
  conv2_ = register_module("conv2", seConv(d, c1, c2, 3, s2, groups, true));
  conv3_ = register_module("conv3", seConv(d, c2, c3, 1, 1, 1, false));
  se_layer_ = register_module("se_layer", ChannelSELayer(d, c3, reduction));
  if (!downsample.is_empty())
    project_ = std::move(downsample);
  else if (inplanes != c3)
    project_ =
        L::conv({"CONV", {{"in_channels", inplanes}, {"out_channels", c3}, {"kernel_size", 1}}}, d);
  else
    project_ = nn::AnyModule(nn::Identity());
  register_module("project", project_.ptr());
  act_ = L::act(LayerSpec("relu", {{"inplace", true}}));
  register_module("act", act_.ptr());
}

at::Tensor SEResidualBlockImpl::forward(const at::Tensor &x) {
  at::Tensor residual = project_.forward(x);
  at::Tensor h = se_layer_->forward(conv3_->forward(conv2_->forward(conv1_->forward(x))));
  return act_.forward(h + residual);
}

} // namespace med::networks::blocks
