// SENet and its presets (senet.h).
#include "med/networks/nets/senet.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>

#include "med/core/error.h"
#include "net_utils.h"

namespace med::networks::nets {

namespace B = med::networks::blocks;
namespace L = med::networks::layers;
namespace nn = torch::nn;
using L::LayerSpec;

namespace {

std::string str(int64_t v) { return std::to_string(v); }

} // namespace

SENetImpl::SENetImpl(SENetOptions o) : options(std::move(o)) {
  const int64_t d = options.spatial_dims();
  if (d < 1 || d > 3)
    throw Error("SENet.spatial_dims", "expected 1, 2 or 3, got " + str(d));
  B::seBottleneckKind(options.block(), "SENet.block");
  if (options.layers().size() != 4)
    throw Error("SENet.layers", "expected 4 stage depths, got " +
                                    str(static_cast<int64_t>(options.layers().size())));
  if (options.inplanes() < 1 || options.in_channels() < 1 || options.num_classes() < 1)
    throw Error("SENet", "in_channels, inplanes and num_classes must be positive");
  if (options.dropout_dim() < 1 || options.dropout_dim() > 3)
    throw Error("SENet.dropout_dim", "expected 1, 2 or 3, got " + str(options.dropout_dim()));
  auto norm = [&](int64_t ch) { return L::get_norm_layer(LayerSpec("batch"), d, ch); };
  auto relu = [] { return L::act(LayerSpec("relu", {{"inplace", true}})); };

  layer0_ = B::TensorSequential();
  if (options.input_3x3()) {
    layer0_->push_back("conv1", detail::biasFreeConv(d, options.in_channels(), 64, 3, 2));
    layer0_->push_back("bn1", norm(64));
    layer0_->push_back("relu1", relu());
    layer0_->push_back("conv2", detail::biasFreeConv(d, 64, 64, 3, 1));
    layer0_->push_back("bn2", norm(64));
    layer0_->push_back("relu2", relu());
    layer0_->push_back("conv3", detail::biasFreeConv(d, 64, options.inplanes(), 3, 1));
    layer0_->push_back("bn3", norm(options.inplanes()));
    layer0_->push_back("relu3", relu());
  } else {
    layer0_->push_back("conv1",
                       detail::biasFreeConv(d, options.in_channels(), options.inplanes(), 7, 2));
    layer0_->push_back("bn1", norm(options.inplanes()));
    layer0_->push_back("relu1", relu());
  }
  layer0_->push_back("pool",
                     L::pool({"MAX", {{"kernel_size", 3}, {"stride", 2}, {"ceil_mode", true}}}, d));
  register_module("layer0", layer0_);
  inplanes_ = options.inplanes();
  const int64_t planes[] = {64, 128, 256, 512};
  for (int64_t i = 0; i < 4; ++i) {
    stages_.push_back(makeLayer(planes[i], options.layers()[i], i == 0 ? 1 : 2,
                                i == 0 ? 1 : options.downsample_kernel_size()));
    register_module("layer" + str(i + 1), stages_.back());
  }
  pool_ = L::pool({"ADAPTIVEAVG", {{"output_size", 1}}}, d);
  register_module("adaptive_avg_pool", pool_.ptr());
  if (options.dropout_prob()) {
    dropout_ = L::dropout({"DROPOUT", {{"p", *options.dropout_prob()}}}, options.dropout_dim());
    register_module("dropout", dropout_.ptr());
  }
  last_linear_ = register_module(
      "last_linear", nn::Linear(512 * B::SEResidualBlockImpl::expansion, options.num_classes()));

  // MONAI's initialisation: Kaiming-normal convs, unit/zero batch norms, zero linear biases.
  detail::initClassifierWeights(*this);
}

nn::Sequential SENetImpl::makeLayer(int64_t planes, int64_t blocks, int64_t stride,
                                    int64_t downsample_kernel_size) {
  const int64_t d = options.spatial_dims(), out = planes * B::SEResidualBlockImpl::expansion;
  const auto kind = B::seBottleneckKind(options.block(), "SENet.block");
  if (blocks < 1)
    throw Error("SENet.layers", "every stage needs at least one block, got " + str(blocks));
  nn::AnyModule downsample;
  if (stride != 1 || inplanes_ != out)
    downsample = nn::AnyModule(B::Convolution(B::ConvolutionOptions(d, inplanes_, out)
                                                  .strides({stride})
                                                  .kernel_size({downsample_kernel_size})
                                                  .act(std::nullopt)
                                                  .norm(LayerSpec("batch"))
                                                  .bias(false)));
  nn::Sequential layer;
  layer->push_back(B::SEResidualBlock(kind, d, inplanes_, planes, options.groups(),
                                      options.reduction(), stride, downsample));
  inplanes_ = out;
  for (int64_t i = 1; i < blocks; ++i)
    layer->push_back(B::SEResidualBlock(kind, d, inplanes_, planes, options.groups(),
                                        options.reduction(), 1, nn::AnyModule()));
  return layer;
}

at::Tensor SENetImpl::features(const at::Tensor &x) {
  const int64_t d = options.spatial_dims();
  if (x.dim() != d + 2 || x.size(1) != options.in_channels())
    throw Error("SENet.input", "expected (B, " + str(options.in_channels()) + ", " + str(d) +
                                   " spatial axes), got " + c10::str(x.sizes()));
  at::Tensor h = layer0_->forward(x);
  for (auto &stage : stages_)
    h = stage->forward(h);
  return h;
}

at::Tensor SENetImpl::forward(const at::Tensor &x) {
  at::Tensor h = pool_.forward(features(x));
  if (!dropout_.is_empty())
    h = dropout_.forward(h);
  return last_linear_->forward(h.flatten(1));
}

namespace {
SENetOptions preset(int64_t d, int64_t in, int64_t classes, const char *block,
                    std::vector<int64_t> layers, int64_t groups) {
  return SENetOptions(d, in, block, std::move(layers), groups, 16)
      .dropout_prob(std::nullopt)
      .inplanes(64)
      .downsample_kernel_size(1)
      .input_3x3(false)
      .num_classes(classes);
}
} // namespace

SENetOptions SENet154Options(int64_t d, int64_t in, int64_t classes) {
  return SENetOptions(d, in, "se_bottleneck", {3, 8, 36, 3}, 64, 16).num_classes(classes);
}
SENetOptions SEResNet50Options(int64_t d, int64_t in, int64_t classes) {
  return preset(d, in, classes, "se_resnet_bottleneck", {3, 4, 6, 3}, 1);
}
SENetOptions SEResNet101Options(int64_t d, int64_t in, int64_t classes) {
  return preset(d, in, classes, "se_resnet_bottleneck", {3, 4, 23, 3}, 1);
}
SENetOptions SEResNet152Options(int64_t d, int64_t in, int64_t classes) {
  return preset(d, in, classes, "se_resnet_bottleneck", {3, 8, 36, 3}, 1);
}
SENetOptions SEResNext50Options(int64_t d, int64_t in, int64_t classes) {
  return preset(d, in, classes, "se_resnetxt_bottleneck", {3, 4, 6, 3}, 32);
}
SENetOptions SEResNext101Options(int64_t d, int64_t in, int64_t classes) {
  return preset(d, in, classes, "se_resnetxt_bottleneck", {3, 4, 23, 3}, 32);
}

SENet SENet154(int64_t d, int64_t in, int64_t c) { return SENet(SENet154Options(d, in, c)); }
SENet SEResNet50(int64_t d, int64_t in, int64_t c) { return SENet(SEResNet50Options(d, in, c)); }
SENet SEResNet101(int64_t d, int64_t in, int64_t c) { return SENet(SEResNet101Options(d, in, c)); }
SENet SEResNet152(int64_t d, int64_t in, int64_t c) { return SENet(SEResNet152Options(d, in, c)); }
SENet SEResNext50(int64_t d, int64_t in, int64_t c) { return SENet(SEResNext50Options(d, in, c)); }
SENet SEResNext101(int64_t d, int64_t in, int64_t c) {
  return SENet(SEResNext101Options(d, in, c));
}

} // namespace med::networks::nets
