// FullyConnectedNet and VarFullyConnectedNet (fullyconnectednet.h).
#include "med/networks/nets/fullyconnectednet.h"

#include <ATen/ATen.h>
#include <c10/util/StringUtil.h>
#include <c10/util/accumulate.h>
#include <torch/nn/modules/linear.h>

#include "med/core/error.h"

namespace med::networks::nets {

namespace B = med::networks::blocks;
namespace nn = torch::nn;

namespace {
/// MONAI's _get_adn_layer: act and dropout (dim 1, no norm) in `ordering` or ADN's default.
B::ADN adnLayer(const std::optional<LayerSpec> &act, const std::optional<double> &dropout,
                const std::optional<std::string> &ordering) {
  B::ADNOptions o;
  o.act(act).dropout(B::dropoutSpec(dropout)).dropout_dim(1);
  if (ordering && !ordering->empty())
    o.ordering(*ordering);
  return B::ADN(o);
}

void checkSizes(const char *where, int64_t in, int64_t out, const std::vector<int64_t> &hidden,
                const char *hiddenName) {
  if (in < 1 || out < 1)
    throw Error(std::string(where) + ".in_channels",
                "in_channels and out_channels must be positive, got " + std::to_string(in) +
                    " and " + std::to_string(out));
  for (int64_t c : hidden)
    if (c < 1)
      throw Error(std::string(where) + "." + hiddenName,
                  "expected positive sizes, got (" + c10::Join(", ", hidden) + ")");
}
} // namespace

FullyConnectedNetImpl::FullyConnectedNetImpl(FullyConnectedNetOptions o) : options(std::move(o)) {
  checkSizes("FullyConnectedNet", options.in_channels(), options.out_channels(),
             options.hidden_channels(), "hidden_channels");
  register_module("flatten", nn::Flatten());
  int64_t prev = options.in_channels();
  for (size_t i = 0; i < options.hidden_channels().size(); ++i) {
    const int64_t c = options.hidden_channels()[i];
    B::TensorSequential layer;
    layer->push_back(nn::Linear(nn::LinearOptions(prev, c).bias(options.bias())));
    layer->push_back(adnLayer(options.act(), options.dropout(), options.adn_ordering()));
    hidden_.push_back(register_module("hidden_" + std::to_string(i), layer));
    prev = c;
  }
  output_ = register_module(
      "output", nn::Linear(nn::LinearOptions(prev, options.out_channels()).bias(options.bias())));
}

at::Tensor FullyConnectedNetImpl::forward(const at::Tensor &x) {
  if (x.dim() < 2 || c10::multiply_integers(x.sizes().slice(1)) != options.in_channels())
    throw Error("FullyConnectedNet.input", "expected (B, ...) with " +
                                               std::to_string(options.in_channels()) +
                                               " values per item, got " + c10::str(x.sizes()));
  at::Tensor h = x.flatten(1);
  for (auto &layer : hidden_)
    h = layer->forward(h);
  return output_->forward(h);
}

VarFullyConnectedNetImpl::VarFullyConnectedNetImpl(VarFullyConnectedNetOptions o)
    : options(std::move(o)) {
  checkSizes("VarFullyConnectedNet", options.in_channels(), options.out_channels(),
             options.encode_channels(), "encode_channels");
  checkSizes("VarFullyConnectedNet", options.in_channels(), options.out_channels(),
             options.decode_channels(), "decode_channels");
  if (options.latent_size() < 1)
    throw Error("VarFullyConnectedNet.latent_size",
                "expected a positive size, got " + std::to_string(options.latent_size()));
  // Registration order is MONAI's: the (still empty) halves first, then the shared ADN, then
  // the heads; the halves are filled afterwards.
  encode_ = register_module("encode", B::TensorSequential());
  decode_ = register_module("decode", B::TensorSequential());
  register_module("flatten", nn::Flatten());
  adn_layer_ = register_module("adn_layer",
                               adnLayer(options.act(), options.dropout(), options.adn_ordering()));
  auto hiddenLayer = [&](int64_t in, int64_t out) {
    B::TensorSequential s;
    s->push_back(nn::Linear(nn::LinearOptions(in, out).bias(options.bias())));
    s->push_back("ADN", adn_layer_); // the same module in every layer, as MONAI
    return s;
  };
  int64_t prev = options.in_channels();
  for (size_t i = 0; i < options.encode_channels().size(); ++i) {
    encode_->push_back("encode_" + std::to_string(i),
                       hiddenLayer(prev, options.encode_channels()[i]));
    prev = options.encode_channels()[i];
  }
  mu_ = register_module("mu", nn::Linear(prev, options.latent_size()));
  logvar_ = register_module("logvar", nn::Linear(prev, options.latent_size()));
  decodeL_ = register_module("decodeL", nn::Linear(options.latent_size(), prev));
  for (size_t i = 0; i < options.decode_channels().size(); ++i) {
    decode_->push_back("decode" + std::to_string(i),
                       hiddenLayer(prev, options.decode_channels()[i]));
    prev = options.decode_channels()[i];
  }
  decode_->push_back(
      "final", nn::Linear(nn::LinearOptions(prev, options.out_channels()).bias(options.bias())));
}

std::tuple<at::Tensor, at::Tensor> VarFullyConnectedNetImpl::encode_forward(const at::Tensor &x) {
  if (x.dim() < 2 || x.size(-1) != options.in_channels() ||
      c10::multiply_integers(x.sizes().slice(1)) != options.in_channels())
    throw Error("VarFullyConnectedNet.input", "expected (B, " +
                                                  std::to_string(options.in_channels()) +
                                                  "), got " + c10::str(x.sizes()));
  at::Tensor h = encode_->is_empty() ? x : encode_->forward(x);
  h = h.flatten(1);
  return {mu_->forward(h), logvar_->forward(h)};
}

at::Tensor VarFullyConnectedNetImpl::decode_forward(const at::Tensor &z, bool use_sigmoid) {
  at::Tensor h = at::relu(decodeL_->forward(z)).flatten(1);
  h = decode_->forward(h);
  return use_sigmoid ? at::sigmoid(h) : h;
}

at::Tensor VarFullyConnectedNetImpl::reparameterize(const at::Tensor &mu,
                                                    const at::Tensor &logvar) {
  at::Tensor std = at::exp(0.5 * logvar);
  if (is_training())
    std = at::randn_like(std) * std;
  return std + mu;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor>
VarFullyConnectedNetImpl::forward(const at::Tensor &x) {
  auto [mu, logvar] = encode_forward(x);
  at::Tensor z = reparameterize(mu, logvar);
  return {decode_forward(z), mu, logvar, z};
}

} // namespace med::networks::nets
