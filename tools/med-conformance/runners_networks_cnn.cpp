// Runners for the classic CNNs: DynUNet, ResNet, DenseNet, SENet, VNet and HighResNet. Each
// builds the MONAI architecture from params.kwargs (networks_common.h does the rest).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/nn/module.h>

#include "med/core/error.h"
#include "med/networks/blocks/convolutions.h"
#include "med/networks/nets/densenet.h"
#include "med/networks/nets/dynunet.h"
#include "med/networks/nets/highresnet.h"
#include "med/networks/nets/resnet.h"
#include "med/networks/nets/senet.h"
#include "med/networks/nets/vnet.h"
#include "networks_common.h"

namespace med::conformance {
namespace N = med::networks::nets;
using med::networks::layers::LayerSpec;
using nlohmann::json;

namespace {

/// A list whose entries are an int or a list of ints (DynUNet's kernel_size, strides).
std::vector<std::vector<int64_t>> perLevel(Kwargs &kw, const std::string &key) {
  const json &v = kw.raw(key);
  if (!v.is_array())
    throw Error(kw.owner() + "." + key, "expected a list, got " + v.dump());
  std::vector<std::vector<int64_t>> out;
  for (const json &e : v) {
    if (e.is_number_integer())
      out.push_back({e.get<int64_t>()});
    else if (e.is_array())
      out.push_back(e.get<std::vector<int64_t>>());
    else
      throw Error(kw.owner() + "." + key, "expected ints or lists of ints, got " + v.dump());
  }
  return out;
}

/// MONAI's dropout argument of the dynunet blocks: None, a probability or a layer spec.
std::optional<LayerSpec> dropoutLayer(Kwargs &kw, const std::string &key) {
  const json &v = kw.raw(key);
  if (v.is_null())
    return std::nullopt;
  if (v.is_number())
    return networks::blocks::dropoutSpec(v.get<double>());
  return layerSpec(v, kw.owner() + "." + key);
}

/// Leaf modules by class name, each module counted once, leaving out the subtree under
/// `skipPrefix` (a view of weights registered elsewhere), as MONAI's tally of its module tree.
json leafCounts(torch::nn::Module &m, const std::string &skipPrefix) {
  json leaves = json::object();
  for (const auto &item : m.named_modules("", /*include_self=*/false)) {
    if (item.key() == skipPrefix || item.key().rfind(skipPrefix + ".", 0) == 0)
      continue;
    if (!item.value()->children().empty())
      continue;
    std::string n = item.value()->name();
    n = n.substr(n.rfind(':') == std::string::npos ? 0 : n.rfind(':') + 1);
    if (n.size() > 4 && n.compare(n.size() - 4, 4, "Impl") == 0)
      n.resize(n.size() - 4);
    leaves[n] = leaves.value(n, 0) + 1;
  }
  return leaves;
}

N::DynUNet makeDynUNet(Kwargs &kw) {
  N::DynUNetOptions o(required(kw, "spatial_dims"), required(kw, "in_channels"),
                      required(kw, "out_channels"), perLevel(kw, "kernel_size"),
                      perLevel(kw, "strides"), perLevel(kw, "upsample_kernel_size"));
  if (kw.has("filters"))
    o.filters(kw.ints("filters"));
  else
    kw.raw("filters");
  o.dropout(dropoutLayer(kw, "dropout"));
  o.norm_name(layerKwarg(kw, "norm_name", o.norm_name()));
  o.act_name(layerKwarg(kw, "act_name", o.act_name()));
  o.deep_supervision(kw.boolean("deep_supervision", false));
  o.deep_supr_num(kw.integer("deep_supr_num", 1));
  o.res_block(kw.boolean("res_block", false)).trans_bias(kw.boolean("trans_bias", false));
  kw.finish();
  return N::DynUNet(o);
}

/// DynUNet's runner: the common record, then the leaf tally without the "skip_layers" view and,
/// where the case has one, the training-mode output shape (deep-supervision heads stacked).
Outputs runDynUNet(const Case &c) {
  auto net = std::make_shared<N::DynUNet>(nullptr);
  Runner base = networkRunner("DynUNet", [net](Kwargs &kw, const json &) {
    *net = makeDynUNet(kw);
    return built(*net);
  });
  Outputs out = base(c);
  out.scalars["leaf_module_counts"] = leafCounts(**net, "skip_layers");
  if (c.scalars.contains("output_shape_train")) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(0);
    at::Tensor x = at::randn(c.params.at("input_shape").get<std::vector<int64_t>>(), gen,
                             at::TensorOptions().dtype(at::kFloat));
    (*net)->train();
    torch::NoGradGuard noGrad;
    out.scalars["output_shape_train"] = shapeJson((*net)->forward(x).sizes());
  }
  return out;
}

using ResNetFactory = N::ResNet (*)(N::ResNetOptions);

/// The ResNet kwargs (MONAI's ResNet class and its resnetNN factories, which fix block, layers
/// and block_inplanes).
N::ResNetOptions resnetKwargs(Kwargs &kw, N::ResNetOptions o) {
  o.spatial_dims(kw.integer("spatial_dims", 3)).n_input_channels(kw.integer("n_input_channels", 3));
  o.conv1_t_size(kw.ints("conv1_t_size", {7})).conv1_t_stride(kw.ints("conv1_t_stride", {1}));
  o.no_max_pool(kw.boolean("no_max_pool", false)).shortcut_type(kw.string("shortcut_type", "B"));
  o.widen_factor(kw.number("widen_factor", 1.0)).num_classes(kw.integer("num_classes", 400));
  o.feed_forward(kw.boolean("feed_forward", true));
  o.bias_downsample(kw.boolean("bias_downsample", true));
  o.act(layerKwarg(kw, "act", o.act())).norm(layerKwarg(kw, "norm", o.norm()));
  kw.only("pretrained", {false}, "pretrained weights are not downloaded");
  kw.raw("progress");
  return o;
}

/// MONAI's resnetNN functions build a ResNet: the record names that class.
Runner resnetFactoryRunner(const std::string &name, ResNetFactory factory) {
  Runner base = networkRunner(name, [factory](Kwargs &kw, const json &) {
    N::ResNetOptions o = resnetKwargs(kw, N::ResNetOptions());
    kw.finish();
    return built(factory(o));
  });
  return [base](const Case &c) {
    Outputs out = base(c);
    out.scalars["net_class"] = "ResNet";
    out.skipped["net_class_signature_defaults"] = "Python introspection of MONAI's constructor";
    return out;
  };
}

Built makeResNet(Kwargs &kw, const json &) {
  const json &block = kw.raw("block");
  if (!block.is_string())
    throw Unsupported("ResNet.block: only \"basic\" or \"bottleneck\" is supported, got " +
                      block.dump());
  N::ResNetOptions o(block.get<std::string>(), kw.ints("layers"), kw.ints("block_inplanes"));
  o = resnetKwargs(kw, o);
  kw.finish();
  return built(N::ResNet(o));
}

using DenseNetFactory = N::DenseNet (*)(N::DenseNetOptions);

Runner denseNetRunner(const std::string &name, DenseNetFactory factory) {
  return networkRunner(name, [factory](Kwargs &kw, const json &) {
    N::DenseNetOptions o(required(kw, "spatial_dims"), required(kw, "in_channels"),
                         required(kw, "out_channels"));
    o.init_features(kw.integer("init_features", 64)).growth_rate(kw.integer("growth_rate", 32));
    if (kw.has("block_config"))
      o.block_config(kw.ints("block_config"));
    else
      kw.raw("block_config");
    o.bn_size(kw.integer("bn_size", 4)).dropout_prob(kw.number("dropout_prob", 0.0));
    o.act(layerKwarg(kw, "act", o.act())).norm(layerKwarg(kw, "norm", o.norm()));
    kw.only("pretrained", {false}, "pretrained weights are not downloaded");
    kw.raw("progress");
    kw.finish();
    return built(factory ? factory(o) : N::DenseNet(o));
  });
}

using SENetPreset = N::SENetOptions (*)(int64_t, int64_t, int64_t);

/// SENet kwargs over a preset (MONAI's SE-ResNet classes take the same overridable arguments).
void senetKwargs(Kwargs &kw, const json &kwargs, N::SENetOptions &o) {
  o.layers(kw.ints("layers", o.layers())).groups(kw.integer("groups", o.groups()));
  o.reduction(kw.integer("reduction", o.reduction()));
  if (kw.has("dropout_prob"))
    o.dropout_prob(kw.number("dropout_prob"));
  else if (given(kwargs, "dropout_prob"))
    o.dropout_prob(std::nullopt), kw.raw("dropout_prob");
  o.dropout_dim(kw.integer("dropout_dim", o.dropout_dim()));
  o.inplanes(kw.integer("inplanes", o.inplanes()));
  o.downsample_kernel_size(kw.integer("downsample_kernel_size", o.downsample_kernel_size()));
  o.input_3x3(kw.boolean("input_3x3", o.input_3x3()));
  kw.only("pretrained", {false}, "pretrained weights are not downloaded");
  kw.raw("progress");
}

Runner senetRunner(const std::string &name, SENetPreset preset) {
  return networkRunner(name, [preset](Kwargs &kw, const json &kwargs) {
    const int64_t d = required(kw, "spatial_dims"), in = required(kw, "in_channels");
    std::optional<N::SENetOptions> o;
    if (preset) {
      o = preset(d, in, kw.integer("num_classes", 1000));
    } else {
      const json &block = kw.raw("block");
      if (!block.is_string())
        throw Unsupported("SENet.block: only a block name is supported, got " + block.dump());
      o = N::SENetOptions(d, in, block.get<std::string>(), kw.ints("layers"),
                          required(kw, "groups"), required(kw, "reduction"));
      o->num_classes(kw.integer("num_classes", 1000));
    }
    senetKwargs(kw, kwargs, *o);
    kw.finish();
    return built(N::SENet(*o));
  });
}

Built makeVNet(Kwargs &kw, const json &kwargs) {
  N::VNetOptions o;
  o.spatial_dims(kw.integer("spatial_dims", 3)).in_channels(kw.integer("in_channels", 1));
  o.out_channels(kw.integer("out_channels", 1)).act(layerKwarg(kw, "act", o.act()));
  // MONAI's deprecated dropout_prob stands for dropout_prob_down.
  std::optional<double> legacy = kw.optNumber("dropout_prob");
  if (kw.has("dropout_prob_down"))
    o.dropout_prob_down(kw.number("dropout_prob_down"));
  else if (given(kwargs, "dropout_prob_down"))
    o.dropout_prob_down(std::nullopt), kw.raw("dropout_prob_down");
  else if (legacy)
    o.dropout_prob_down(legacy);
  const json &up = kw.raw("dropout_prob_up");
  if (!up.is_null()) {
    if (!up.is_array() || up.size() != 2 || !up[1].is_number() ||
        !(up[0].is_null() || up[0].is_number()))
      throw Error("VNet.dropout_prob_up", "expected [p or None, p], got " + up.dump());
    o.dropout_prob_up({up[0].is_null() ? std::nullopt : std::optional<double>(up[0].get<double>()),
                       up[1].get<double>()});
  }
  o.dropout_dim(kw.integer("dropout_dim", 3)).bias(kw.boolean("bias", false));
  kw.finish();
  return built(N::VNet(o));
}

Built makeHighResNet(Kwargs &kw, const json &) {
  N::HighResNetOptions o;
  o.spatial_dims(kw.integer("spatial_dims", 3)).in_channels(kw.integer("in_channels", 1));
  o.out_channels(kw.integer("out_channels", 1));
  o.norm_type(layerKwarg(kw, "norm_type", o.norm_type()));
  o.acti_type(layerKwarg(kw, "acti_type", o.acti_type()));
  o.dropout_prob(kw.number("dropout_prob", 0.0)).bias(kw.boolean("bias", false));
  o.channel_matching(kw.string("channel_matching", "pad"));
  const json &lp = kw.raw("layer_params");
  if (!lp.is_null()) {
    std::vector<N::HighResNetLayer> layers;
    for (const json &e : lp) {
      N::HighResNetLayer l;
      l.name = e.value("name", "");
      l.n_features = e.value("n_features", int64_t(0));
      l.kernel_size = e.value("kernel_size", int64_t(1));
      if (e.contains("kernels"))
        l.kernels = e.at("kernels").get<std::vector<int64_t>>();
      l.repeat = e.value("repeat", int64_t(1));
      layers.push_back(l);
    }
    o.layer_params(layers);
  }
  kw.finish();
  return built(N::HighResNet(o));
}

} // namespace

void registerCnnNetworkRunners(Registry &r) {
  r.add("DynUNet", runDynUNet);
  r.add("ResNet", networkRunner("ResNet", makeResNet));
  const std::pair<const char *, ResNetFactory> resnets[] = {
      {"resnet10", N::resnet10},  {"resnet18", N::resnet18},   {"resnet34", N::resnet34},
      {"resnet50", N::resnet50},  {"resnet101", N::resnet101}, {"resnet152", N::resnet152},
      {"resnet200", N::resnet200}};
  for (const auto &[name, f] : resnets)
    r.add(name, resnetFactoryRunner(name, f));
  r.add("DenseNet", denseNetRunner("DenseNet", nullptr));
  const std::pair<const char *, DenseNetFactory> densenets[] = {{"DenseNet121", N::DenseNet121},
                                                                {"DenseNet169", N::DenseNet169},
                                                                {"DenseNet201", N::DenseNet201},
                                                                {"DenseNet264", N::DenseNet264}};
  for (const auto &[name, f] : densenets)
    r.add(name, denseNetRunner(name, f));
  r.add("SENet", senetRunner("SENet", nullptr));
  const std::pair<const char *, SENetPreset> senets[] = {
      {"SENet154", N::SENet154Options},         {"SEResNet50", N::SEResNet50Options},
      {"SEResNet101", N::SEResNet101Options},   {"SEResNet152", N::SEResNet152Options},
      {"SEResNext50", N::SEResNext50Options},   {"SEResNeXt50", N::SEResNext50Options},
      {"SEResNext101", N::SEResNext101Options}, {"SEResNeXt101", N::SEResNext101Options}};
  for (const auto &[name, f] : senets)
    r.add(name, senetRunner(name, f));
  r.add("VNet", networkRunner("VNet", makeVNet));
  r.add("HighResNet", networkRunner("HighResNet", makeHighResNet));
}

} // namespace med::conformance
