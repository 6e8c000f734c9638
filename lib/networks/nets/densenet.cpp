// DenseNet and its factories (densenet.h).
#include "med/networks/nets/densenet.h"

#include <string>

#include <ATen/ATen.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "med/core/error.h"
#include "net_utils.h"

namespace med::networks::nets {

namespace B = med::networks::blocks;
namespace L = med::networks::layers;
namespace nn = torch::nn;

namespace {

std::string str(int64_t v) { return std::to_string(v); }

nn::AnyModule conv(int64_t d, int64_t in, int64_t out, int64_t k, int64_t stride = 1,
                   int64_t padding = 0) {
  return L::conv({"CONV",
                  {{"in_channels", in},
                   {"out_channels", out},
                   {"kernel_size", k},
                   {"stride", stride},
                   {"padding", padding},
                   {"bias", false}}},
                 d);
}

/// MONAI's _DenseLayer: cat([x, layers(x)]) where layers = norm1, relu1, conv1 (1x1 to
/// bn_size * growth), norm2, relu2, conv2 (3^d to growth)[, dropout].
class DenseLayerImpl : public nn::Module {
public:
  DenseLayerImpl(const DenseNetOptions &o, int64_t in) {
    const int64_t d = o.spatial_dims(), mid = o.bn_size() * o.growth_rate();
    B::TensorSequential s;
    s->push_back("norm1", L::get_norm_layer(o.norm(), d, in));
    s->push_back("relu1", L::get_act_layer(o.act()));
    s->push_back("conv1", conv(d, in, mid, 1));
    s->push_back("norm2", L::get_norm_layer(o.norm(), d, mid));
    s->push_back("relu2", L::get_act_layer(o.act()));
    s->push_back("conv2", conv(d, mid, o.growth_rate(), 3, 1, 1));
    if (o.dropout_prob() > 0)
      s->push_back("dropout", L::dropout({"DROPOUT", {{"p", o.dropout_prob()}}}, d));
    layers_ = register_module("layers", s);
  }
  at::Tensor forward(const at::Tensor &x) { return at::cat({x, layers_->forward(x)}, 1); }

private:
  B::TensorSequential layers_{nullptr};
};
TORCH_MODULE(DenseLayer);

} // namespace

DenseNetImpl::DenseNetImpl(DenseNetOptions o) : options(std::move(o)) {
  const int64_t d = options.spatial_dims();
  if (d < 1 || d > 3)
    throw Error("DenseNet.spatial_dims", "expected 1, 2 or 3, got " + str(d));
  const std::vector<int64_t> config =
      options.block_config().value_or(std::vector<int64_t>{6, 12, 24, 16});
  if (config.empty())
    throw Error("DenseNet.block_config", "expected at least one dense block");
  for (int64_t v : {options.init_features(), options.growth_rate(), options.bn_size(),
                    options.in_channels(), options.out_channels()})
    if (v < 1)
      throw Error("DenseNet", "in_channels, out_channels, init_features, growth_rate and bn_size "
                              "must be positive");
  if (options.dropout_prob() < 0 || options.dropout_prob() > 1)
    throw Error("DenseNet.dropout_prob", "expected a probability in [0, 1]");

  features_ = B::TensorSequential();
  features_->push_back("conv0", conv(d, options.in_channels(), options.init_features(), 7, 2, 3));
  features_->push_back("norm0", L::get_norm_layer(options.norm(), d, options.init_features()));
  features_->push_back("relu0", L::get_act_layer(options.act()));
  features_->push_back("pool0",
                       L::pool({"MAX", {{"kernel_size", 3}, {"stride", 2}, {"padding", 1}}}, d));
  int64_t ch = options.init_features();
  for (size_t i = 0; i < config.size(); ++i) {
    if (config[i] < 1)
      throw Error("DenseNet.block_config", "every dense block needs at least one layer");
    B::TensorSequential block;
    for (int64_t l = 0; l < config[i]; ++l) {
      block->push_back("denselayer" + str(l + 1), DenseLayer(options, ch));
      ch += options.growth_rate();
    }
    features_->push_back("denseblock" + str(static_cast<int64_t>(i) + 1), block);
    if (i + 1 == config.size()) {
      features_->push_back("norm5", L::get_norm_layer(options.norm(), d, ch));
    } else {
      B::TensorSequential trans;
      trans->push_back("norm", L::get_norm_layer(options.norm(), d, ch));
      trans->push_back("relu", L::get_act_layer(options.act()));
      trans->push_back("conv", conv(d, ch, ch / 2, 1));
      trans->push_back("pool", L::pool({"AVG", {{"kernel_size", 2}, {"stride", 2}}}, d));
      features_->push_back("transition" + str(static_cast<int64_t>(i) + 1), trans);
      ch /= 2;
    }
  }
  register_module("features", features_);
  class_layers_ = B::TensorSequential();
  class_layers_->push_back("relu", L::get_act_layer(options.act()));
  class_layers_->push_back("pool", L::pool({"ADAPTIVEAVG", {{"output_size", 1}}}, d));
  class_layers_->push_back("flatten", nn::Flatten(nn::FlattenOptions().start_dim(1)));
  class_layers_->push_back("out", nn::Linear(ch, options.out_channels()));
  register_module("class_layers", class_layers_);

  // MONAI's initialisation: Kaiming-normal convs, unit/zero batch norms, zero linear bias.
  detail::initClassifierWeights(*this);
}

at::Tensor DenseNetImpl::forward(const at::Tensor &x) {
  const int64_t d = options.spatial_dims();
  if (x.dim() != d + 2 || x.size(1) != options.in_channels())
    throw Error("DenseNet.input", "expected (B, " + str(options.in_channels()) + ", " + str(d) +
                                      " spatial axes), got " + c10::str(x.sizes()));
  return class_layers_->forward(features_->forward(x));
}

namespace {
DenseNet withConfig(DenseNetOptions o, std::vector<int64_t> config) {
  if (!o.block_config())
    o.block_config(std::move(config));
  return DenseNet(std::move(o));
}
} // namespace

DenseNet DenseNet121(DenseNetOptions o) { return withConfig(std::move(o), {6, 12, 24, 16}); }
DenseNet DenseNet169(DenseNetOptions o) { return withConfig(std::move(o), {6, 12, 32, 32}); }
DenseNet DenseNet201(DenseNetOptions o) { return withConfig(std::move(o), {6, 12, 48, 32}); }
DenseNet DenseNet264(DenseNetOptions o) { return withConfig(std::move(o), {6, 12, 64, 48}); }

} // namespace med::networks::nets
