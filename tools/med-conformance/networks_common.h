// What the network runners share (runners_networks*.cpp): building a MONAI architecture from
// kwargs, recording its state-dict layout and running one forward pass. Each family of
// architectures has its own runners file that registers `networkRunner(name, make)`.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include "med/networks/layers/factories.h"
#include "registry.h"

namespace med::conformance {

/// A shape as a JSON list.
nlohmann::json shapeJson(at::IntArrayRef s);

/// A built network: its module tree (for the record) and a forward that reports the output's
/// shape (nested lists for tuple outputs) and Python type name.
struct Built {
  std::shared_ptr<torch::nn::Module> module;
  std::function<std::pair<nlohmann::json, std::string>(const at::Tensor &)> forward;
};

/// Built for a module holder whose forward returns one tensor.
template <typename Holder> Built built(Holder net) {
  return {net.ptr(), [net](const at::Tensor &x) mutable {
            return std::make_pair(shapeJson(net->forward(x).sizes()), std::string("Tensor"));
          }};
}

/// Built for a module holder whose forward returns a std::tuple of tensors (MONAI's tuple
/// outputs, e.g. the variational auto-encoders' (recon, mu, logvar, z)): their shapes in order.
template <typename Holder> Built builtTuple(Holder net) {
  return {net.ptr(), [net](const at::Tensor &x) mutable {
            nlohmann::json shapes = nlohmann::json::array();
            std::apply([&](const auto &...t) { (shapes.push_back(shapeJson(t.sizes())), ...); },
                       net->forward(x));
            return std::make_pair(shapes, std::string("tuple"));
          }};
}

/// MONAI's layer choice: "NAME" or ["NAME", {args}] -> LayerSpec.
networks::layers::LayerSpec layerSpec(const nlohmann::json &v, const std::string &where);
/// kwargs[key] as a LayerSpec, or `dflt` when absent or None.
networks::layers::LayerSpec layerKwarg(Kwargs &kw, const std::string &key,
                                       const networks::layers::LayerSpec &dflt);
/// A required integer kwarg.
int64_t required(Kwargs &kw, const std::string &key);
/// Whether `key` is given at all (an explicit None counts), to tell None from "use the default".
bool given(const nlohmann::json &kwargs, const std::string &key);
/// MONAI's `dropout`: None or a probability.
std::optional<double> dropoutKwarg(Kwargs &kw, const nlohmann::json &kwargs,
                                   std::optional<double> dflt);

/// The runner for a network case: builds the network with `make` (which calls kw.finish()),
/// records parameter counts and state-dict keys/shapes in PyTorch's order, runs one forward pass
/// in eval mode without gradients on a seeded random input of params.input_shape.
Runner networkRunner(const std::string &name,
                     std::function<Built(Kwargs &, const nlohmann::json &)> make);

} // namespace med::conformance
