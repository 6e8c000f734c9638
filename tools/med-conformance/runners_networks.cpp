// Runners for the network cases: build the MONAI architecture from params.kwargs, run one forward
// pass in eval mode without gradients on a random input of params.input_shape, and report the
// architecture record (parameter counts, state_dict keys and shapes in PyTorch's order, output
// shape). Python-only fields (reprs, layer class tallies, signature defaults) are skipped.
#include <functional>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/nn/module.h>

#include "med/core/error.h"
#include "med/networks/nets/attention_unet.h"
#include "med/networks/nets/autoencoder.h"
#include "med/networks/nets/basic_unet.h"
#include "med/networks/nets/generator.h"
#include "med/networks/nets/regressor.h"
#include "med/networks/nets/segresnet.h"
#include "med/networks/nets/unet.h"
#include "registry.h"

namespace med::conformance {
namespace N = med::networks::nets;
using med::networks::layers::Args;
using med::networks::layers::LayerSpec;
using nlohmann::json;

namespace {

json shapeJson(at::IntArrayRef s) { return json(std::vector<int64_t>(s.begin(), s.end())); }

/// A built network: its module tree (for the record) and a forward that reports the output's
/// shape (nested lists for tuple outputs) and Python type name.
struct Built {
  std::shared_ptr<torch::nn::Module> module;
  std::function<std::pair<json, std::string>(const at::Tensor &)> forward;
};

template <typename Holder> Built built(Holder net) {
  return {net.ptr(), [net](const at::Tensor &x) mutable {
            return std::make_pair(shapeJson(net->forward(x).sizes()), std::string("Tensor"));
          }};
}

/// MONAI's layer choice: "NAME" or ["NAME", {args}] -> LayerSpec.
LayerSpec layerSpec(const json &v, const std::string &where) {
  if (v.is_string())
    return LayerSpec(v.get<std::string>());
  if (!v.is_array() || v.size() != 2 || !v[0].is_string() || !v[1].is_object())
    throw Unsupported(where + ": expected \"NAME\" or [\"NAME\", {args}], got " + v.dump());
  Args args;
  for (const auto &[k, a] : v[1].items()) {
    if (a.is_boolean())
      args[k] = a.get<bool>();
    else if (a.is_number_integer())
      args[k] = a.get<int64_t>();
    else if (a.is_number())
      args[k] = a.get<double>();
    else if (a.is_string())
      args[k] = a.get<std::string>();
    else if (a.is_array()) {
      std::vector<int64_t> ints;
      for (const json &e : a) {
        if (!e.is_number_integer())
          throw Unsupported(where + "." + k + ": only integer lists are supported, got " +
                            a.dump());
        ints.push_back(e.get<int64_t>());
      }
      args[k] = ints;
    } else {
      throw Unsupported(where + "." + k + ": unsupported argument " + a.dump());
    }
  }
  return LayerSpec(v[0].get<std::string>(), std::move(args));
}

LayerSpec layerKwarg(Kwargs &kw, const std::string &key, const LayerSpec &dflt) {
  const json &v = kw.raw(key);
  return v.is_null() ? dflt : layerSpec(v, kw.owner() + "." + key);
}

int64_t required(Kwargs &kw, const std::string &key) {
  double v = kw.number(key);
  return static_cast<int64_t>(v);
}

Built makeUNet(Kwargs &kw, const json &kwargs) {
  N::UNetOptions o(required(kw, "spatial_dims"), required(kw, "in_channels"),
                   required(kw, "out_channels"));
  o.channels(kw.ints("channels")).strides(kw.ints("strides"));
  o.kernel_size(kw.ints("kernel_size", {3})).up_kernel_size(kw.ints("up_kernel_size", {3}));
  o.num_res_units(kw.integer("num_res_units", 0));
  o.act(layerKwarg(kw, "act", o.act())).norm(layerKwarg(kw, "norm", o.norm()));
  o.dropout(kw.number("dropout", 0.0)).bias(kw.boolean("bias", true));
  o.adn_ordering(kw.string("adn_ordering", "NDA"));
  kw.finish();
  return built(N::UNet(o));
}

Built makeBasicUNet(Kwargs &kw, const json &kwargs) {
  N::BasicUNetOptions o;
  o.spatial_dims(kw.integer("spatial_dims", 3))
      .in_channels(kw.integer("in_channels", 1))
      .out_channels(kw.integer("out_channels", 2));
  o.features(kw.ints("features", o.features()));
  o.act(layerKwarg(kw, "act", o.act())).norm(layerKwarg(kw, "norm", o.norm()));
  o.bias(kw.boolean("bias", true)).dropout(kw.number("dropout", 0.0));
  o.upsample(kw.string("upsample", "deconv"));
  kw.finish();
  return built(N::BasicUNet(o));
}

/// Whether `key` is given at all (an explicit None counts), to tell None from "use the default".
bool given(const json &kwargs, const std::string &key) { return kwargs.contains(key); }

/// MONAI's `dropout`: None or a probability.
std::optional<double> dropoutKwarg(Kwargs &kw, const json &kwargs, std::optional<double> dflt) {
  const json &v = kw.raw("dropout");
  if (v.is_null())
    return given(kwargs, "dropout") ? std::nullopt : dflt;
  if (!v.is_number())
    throw Unsupported(kw.owner() + ".dropout: only a probability or None is supported, got " +
                      v.dump());
  return v.get<double>();
}

/// The kwargs Regressor, Classifier and Discriminator share.
template <typename O> void regressorKwargs(Kwargs &kw, const json &kwargs, O &o) {
  o.kernel_size(kw.ints("kernel_size", {3})).num_res_units(kw.integer("num_res_units", 2));
  o.act(layerKwarg(kw, "act", o.act())).norm(layerKwarg(kw, "norm", o.norm()));
  o.dropout(dropoutKwarg(kw, kwargs, o.dropout())).bias(kw.boolean("bias", true));
}

template <typename O> void lastActKwarg(Kwargs &kw, const json &kwargs, O &o) {
  const json &v = kw.raw("last_act");
  if (!v.is_null())
    o.last_act(layerSpec(v, kw.owner() + ".last_act"));
  else if (given(kwargs, "last_act"))
    o.last_act(std::nullopt);
}

Built makeRegressor(Kwargs &kw, const json &kwargs) {
  N::RegressorOptions o(kw.ints("in_shape"), kw.ints("out_shape"), kw.ints("channels"),
                        kw.ints("strides"));
  regressorKwargs(kw, kwargs, o);
  kw.finish();
  return built(N::Regressor(o));
}

Built makeClassifier(Kwargs &kw, const json &kwargs) {
  N::ClassifierOptions o(kw.ints("in_shape"), required(kw, "classes"), kw.ints("channels"),
                         kw.ints("strides"));
  regressorKwargs(kw, kwargs, o);
  lastActKwarg(kw, kwargs, o);
  kw.finish();
  return built(N::Classifier(o));
}

Built makeDiscriminator(Kwargs &kw, const json &kwargs) {
  N::DiscriminatorOptions o(kw.ints("in_shape"), kw.ints("channels"), kw.ints("strides"));
  regressorKwargs(kw, kwargs, o);
  lastActKwarg(kw, kwargs, o);
  kw.finish();
  return built(N::Discriminator(o));
}

Built makeGenerator(Kwargs &kw, const json &kwargs) {
  N::GeneratorOptions o(kw.ints("latent_shape"), kw.ints("start_shape"), kw.ints("channels"),
                        kw.ints("strides"));
  regressorKwargs(kw, kwargs, o);
  kw.finish();
  return built(N::Generator(o));
}

/// The kwargs AutoEncoder and VarAutoEncoder share.
template <typename O> void autoEncoderKwargs(Kwargs &kw, const json &kwargs, O &o) {
  o.kernel_size(kw.ints("kernel_size", {3})).up_kernel_size(kw.ints("up_kernel_size", {3}));
  o.num_res_units(kw.integer("num_res_units", 0));
  o.inter_channels(kw.ints("inter_channels", {})).inter_dilations(kw.ints("inter_dilations", {}));
  o.num_inter_units(kw.integer("num_inter_units", 2));
  o.act(layerKwarg(kw, "act", o.act())).norm(layerKwarg(kw, "norm", o.norm()));
  o.dropout(dropoutKwarg(kw, kwargs, std::nullopt)).bias(kw.boolean("bias", true));
}

Built makeAutoEncoder(Kwargs &kw, const json &kwargs) {
  N::AutoEncoderOptions o(required(kw, "spatial_dims"), required(kw, "in_channels"),
                          required(kw, "out_channels"), kw.ints("channels"), kw.ints("strides"));
  autoEncoderKwargs(kw, kwargs, o);
  if (kw.has("padding"))
    o.padding(kw.ints("padding"));
  else
    kw.raw("padding");
  kw.finish();
  return built(N::AutoEncoder(o));
}

Built makeVarAutoEncoder(Kwargs &kw, const json &kwargs) {
  N::VarAutoEncoderOptions o(required(kw, "spatial_dims"), kw.ints("in_shape"),
                             required(kw, "out_channels"), required(kw, "latent_size"),
                             kw.ints("channels"), kw.ints("strides"));
  autoEncoderKwargs(kw, kwargs, o);
  o.use_sigmoid(kw.boolean("use_sigmoid", true));
  kw.finish();
  N::VarAutoEncoder net(o);
  return {net.ptr(), [net](const at::Tensor &x) mutable {
            auto [rec, mu, logvar, z] = net->forward(x);
            json shapes = json::array({shapeJson(rec.sizes()), shapeJson(mu.sizes()),
                                       shapeJson(logvar.sizes()), shapeJson(z.sizes())});
            return std::make_pair(shapes, std::string("tuple"));
          }};
}

Built makeAttentionUnet(Kwargs &kw, const json &) {
  N::AttentionUnetOptions o(required(kw, "spatial_dims"), required(kw, "in_channels"),
                            required(kw, "out_channels"), kw.ints("channels"), kw.ints("strides"));
  o.kernel_size(kw.ints("kernel_size", {3})).up_kernel_size(kw.ints("up_kernel_size", {3}));
  o.dropout(kw.number("dropout", 0.0));
  kw.finish();
  return built(N::AttentionUnet(o));
}

Built makeSegResNet(Kwargs &kw, const json &) {
  N::SegResNetOptions o;
  o.spatial_dims(kw.integer("spatial_dims", 3)).init_filters(kw.integer("init_filters", 8));
  o.in_channels(kw.integer("in_channels", 1)).out_channels(kw.integer("out_channels", 2));
  o.dropout_prob(kw.optNumber("dropout_prob"));
  o.act(layerKwarg(kw, "act", o.act())).norm(layerKwarg(kw, "norm", o.norm()));
  o.norm_name(kw.string("norm_name", "")).num_groups(kw.integer("num_groups", 8));
  o.use_conv_final(kw.boolean("use_conv_final", true));
  o.blocks_down(kw.ints("blocks_down", o.blocks_down()));
  o.blocks_up(kw.ints("blocks_up", o.blocks_up()));
  o.upsample_mode(kw.string("upsample_mode", "nontrainable"));
  kw.finish();
  return built(N::SegResNet(o));
}

/// PyTorch's state_dict order: modules in registration (pre-)order, each module's parameters
/// then its buffers. LibTorch's named_parameters()/named_buffers() list all parameters first.
void record(torch::nn::Module &m, Outputs &out) {
  json sd = json::array();
  int64_t nParams = 0, nTrainable = 0, nBufferElems = 0;
  for (const auto &item : m.named_modules("", /*include_self=*/true)) {
    std::string prefix = item.key().empty() ? "" : item.key() + ".";
    for (const auto &p : item.value()->named_parameters(/*recurse=*/false)) {
      if (!p.value().defined())
        continue;
      sd.push_back({prefix + p.key(), shapeJson(p.value().sizes()), "param"});
      nParams += p.value().numel();
      if (p.value().requires_grad())
        nTrainable += p.value().numel();
    }
    for (const auto &b : item.value()->named_buffers(/*recurse=*/false)) {
      if (!b.value().defined())
        continue;
      sd.push_back({prefix + b.key(), shapeJson(b.value().sizes()), "buffer"});
      nBufferElems += b.value().numel();
    }
  }
  // Leaf modules by class name ("torch::nn::Conv3dImpl" -> "Conv3d"), as MONAI's tally of
  // modules without children.
  json leaves = json::object();
  for (const auto &mod : m.modules(/*include_self=*/false)) {
    if (!mod->children().empty())
      continue;
    std::string n = mod->name();
    n = n.substr(n.rfind(':') == std::string::npos ? 0 : n.rfind(':') + 1);
    if (n.size() > 4 && n.compare(n.size() - 4, 4, "Impl") == 0)
      n.resize(n.size() - 4);
    leaves[n] = leaves.value(n, 0) + 1;
  }
  out.scalars["leaf_module_counts"] = std::move(leaves);
  out.scalars["n_params"] = nParams;
  out.scalars["n_trainable_params"] = nTrainable;
  out.scalars["n_state_dict_entries"] = sd.size();
  out.scalars["n_buffer_elements"] = nBufferElems;
  out.scalars["state_dict"] = std::move(sd);
}

Runner networkRunner(const std::string &name, std::function<Built(Kwargs &, const json &)> make) {
  return [name, make](const Case &c) {
    json kwargs = c.params.value("kwargs", json::object());
    Kwargs kw(name, kwargs);
    Built net = make(kw, kwargs); // calls kw.finish()
    Outputs out;
    out.scalars["constructor"] = "monai.networks.nets." + name;
    out.scalars["net_class"] = name;
    out.scalars["build_ok"] = true;
    record(*net.module, out);

    std::vector<int64_t> shape = c.params.at("input_shape").get<std::vector<int64_t>>();
    auto gen = at::make_generator<at::CPUGeneratorImpl>(0);
    at::Tensor x = at::randn(shape, gen, at::TensorOptions().dtype(at::kFloat));
    net.module->eval();
    std::pair<json, std::string> y;
    {
      torch::NoGradGuard noGrad;
      y = net.forward(x);
    }
    out.scalars["input_shape"] = shapeJson(x.sizes());
    out.scalars["forward_ok"] = true;
    out.scalars["output_shape"] = y.first;
    out.scalars["output_type"] = y.second;
    for (const char *k :
         {"repr_head", "repr_n_lines", "activation_layers", "norm_layers", "dropout_layers"})
      out.skipped[k] = "a Python repr / class tally of MONAI's module tree";
    out.skipped["signature_defaults"] = "Python introspection of MONAI's constructor";
    out.skipped["einops_version"] = "Python package version";
    return out;
  };
}

} // namespace

void registerNetworkRunners(Registry &r) {
  r.add("UNet", networkRunner("UNet", makeUNet));
  r.add("BasicUNet", networkRunner("BasicUNet", makeBasicUNet));
  r.add("AttentionUnet", networkRunner("AttentionUnet", makeAttentionUnet));
  r.add("SegResNet", networkRunner("SegResNet", makeSegResNet));
  r.add("Regressor", networkRunner("Regressor", makeRegressor));
  r.add("Classifier", networkRunner("Classifier", makeClassifier));
  r.add("Discriminator", networkRunner("Discriminator", makeDiscriminator));
  r.add("Generator", networkRunner("Generator", makeGenerator));
  r.add("AutoEncoder", networkRunner("AutoEncoder", makeAutoEncoder));
  r.add("VarAutoEncoder", networkRunner("VarAutoEncoder", makeVarAutoEncoder));
}

} // namespace med::conformance
