// What the network runners share (networks_common.h).
#include "networks_common.h"

#include <set>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/grad_mode.h>

namespace med::conformance {
using med::networks::layers::Args;
using med::networks::layers::LayerSpec;
using nlohmann::json;

json shapeJson(at::IntArrayRef s) { return json(std::vector<int64_t>(s.begin(), s.end())); }

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

namespace {
/// PyTorch's state_dict order: modules in registration (pre-)order, each module's parameters
/// then its buffers. LibTorch's named_parameters()/named_buffers() list all parameters first.
void record(torch::nn::Module &m, Outputs &out) {
  json sd = json::array();
  int64_t nParams = 0, nTrainable = 0, nBufferElems = 0;
  // A tensor registered under several names (a shared layer) is listed under each name but
  // counted once, as PyTorch's parameters() and buffers() each do. (The two are deduplicated
  // separately: DynUNet's mirrored skip-layer buffers alias parameters and count as buffers.)
  std::set<const void *> seenParams, seenBuffers;
  auto first = [](std::set<const void *> &seen, const at::Tensor &t) {
    return seen.insert(t.unsafeGetTensorImpl()).second;
  };
  for (const auto &item : m.named_modules("", /*include_self=*/true)) {
    std::string prefix = item.key().empty() ? "" : item.key() + ".";
    for (const auto &p : item.value()->named_parameters(/*recurse=*/false)) {
      if (!p.value().defined())
        continue;
      sd.push_back({prefix + p.key(), shapeJson(p.value().sizes()), "param"});
      if (!first(seenParams, p.value()))
        continue;
      nParams += p.value().numel();
      if (p.value().requires_grad())
        nTrainable += p.value().numel();
    }
    for (const auto &b : item.value()->named_buffers(/*recurse=*/false)) {
      if (!b.value().defined())
        continue;
      sd.push_back({prefix + b.key(), shapeJson(b.value().sizes()), "buffer"});
      if (first(seenBuffers, b.value()))
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
} // namespace

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

} // namespace med::conformance
