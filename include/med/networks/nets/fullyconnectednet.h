// MONAI's FullyConnectedNet (a multi-layer perceptron: flatten, hidden Linear + ADN layers, an
// output Linear) and VarFullyConnectedNet (its variational auto-encoder form: an encoder MLP, the
// mu / logvar heads, the reparameterised latent and a decoder MLP). Submodule names are MONAI's
// ("hidden_0.0.weight", "hidden_0.1.A.weight", "encode.encode_0.ADN.A.weight", "decodeL.bias"),
// so state_dict keys match MONAI checkpoints.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "med/networks/blocks/convolutions.h"

namespace med::networks::nets {

using layers::LayerSpec;

/// Options of FullyConnectedNet, MONAI's arguments and defaults. `dropout` (a probability,
/// nullopt = none) and `act` (nullopt = none) go into each hidden layer's ADN, in
/// `adn_ordering` (nullopt = ADN's default "NDA"; there is no norm).
///
///   auto mlp = FullyConnectedNet(FullyConnectedNetOptions(4, 3, {10, 20, 10}).dropout(0.2));
struct FullyConnectedNetOptions {
  FullyConnectedNetOptions(int64_t in_channels, int64_t out_channels,
                           std::vector<int64_t> hidden_channels)
      : in_channels_(in_channels), out_channels_(out_channels),
        hidden_channels_(std::move(hidden_channels)) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(std::vector<int64_t>, hidden_channels);
  TORCH_ARG(std::optional<double>, dropout) = std::nullopt;
  TORCH_ARG(std::optional<LayerSpec>, act) = LayerSpec("PRELU");
  TORCH_ARG(bool, bias) = true;
  TORCH_ARG(std::optional<std::string>, adn_ordering) = std::nullopt;
};

/// (B, *) with in_channels values per item -> (B, out_channels).
class FullyConnectedNetImpl : public torch::nn::Module {
public:
  explicit FullyConnectedNetImpl(FullyConnectedNetOptions options);
  at::Tensor forward(const at::Tensor &x);
  FullyConnectedNetOptions options;

private:
  std::vector<blocks::TensorSequential> hidden_;
  torch::nn::Linear output_{nullptr};
};
TORCH_MODULE(FullyConnectedNet);

/// Options of VarFullyConnectedNet, MONAI's arguments and defaults (see
/// FullyConnectedNetOptions for dropout / act / adn_ordering).
///
///   auto vae = VarFullyConnectedNet(VarFullyConnectedNetOptions(4, 3, 2, {5, 10}, {10, 5}));
struct VarFullyConnectedNetOptions {
  VarFullyConnectedNetOptions(int64_t in_channels, int64_t out_channels, int64_t latent_size,
                              std::vector<int64_t> encode_channels,
                              std::vector<int64_t> decode_channels)
      : in_channels_(in_channels), out_channels_(out_channels), latent_size_(latent_size),
        encode_channels_(std::move(encode_channels)), decode_channels_(std::move(decode_channels)) {
  }
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(int64_t, latent_size);
  TORCH_ARG(std::vector<int64_t>, encode_channels);
  TORCH_ARG(std::vector<int64_t>, decode_channels);
  TORCH_ARG(std::optional<double>, dropout) = std::nullopt;
  TORCH_ARG(std::optional<LayerSpec>, act) = LayerSpec("PRELU");
  TORCH_ARG(bool, bias) = true;
  TORCH_ARG(std::optional<std::string>, adn_ordering) = std::nullopt;
};

/// Variational MLP. As MONAI, ONE ADN module ("adn_layer") is shared by every hidden layer of
/// both halves, so a PReLU has a single weight; the state_dict lists it under every alias
/// ("encode.encode_0.ADN.A.weight", ..., "adn_layer.A.weight") while parameters are counted once.
class VarFullyConnectedNetImpl : public torch::nn::Module {
public:
  explicit VarFullyConnectedNetImpl(VarFullyConnectedNetOptions options);
  /// (B, in_channels) -> (reconstruction (B, out_channels), mu, logvar, z), each (B, latent_size)
  /// but the first.
  std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> forward(const at::Tensor &x);
  /// x -> (mu, logvar).
  std::tuple<at::Tensor, at::Tensor> encode_forward(const at::Tensor &x);
  /// z -> reconstruction (sigmoid applied when `use_sigmoid`).
  at::Tensor decode_forward(const at::Tensor &z, bool use_sigmoid = true);
  /// mu + eps * exp(logvar / 2), eps ~ N(0, 1) in training mode; mu + exp(logvar / 2) in eval
  /// mode (MONAI's behaviour: the noise is skipped, the std is still added).
  at::Tensor reparameterize(const at::Tensor &mu, const at::Tensor &logvar);
  VarFullyConnectedNetOptions options;

private:
  blocks::TensorSequential encode_{nullptr}, decode_{nullptr};
  blocks::ADN adn_layer_{nullptr};
  torch::nn::Linear mu_{nullptr}, logvar_{nullptr}, decodeL_{nullptr};
};
TORCH_MODULE(VarFullyConnectedNet);

} // namespace med::networks::nets
