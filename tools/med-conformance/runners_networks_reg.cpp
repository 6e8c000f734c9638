// Runners for RegUNet, LocalNet, GlobalNet, Critic, FullyConnectedNet and VarFullyConnectedNet.
// Each builds the MONAI architecture from params.kwargs (networks_common.h records it and runs the
// forward pass).
#include <optional>
#include <string>

#include <ATen/ATen.h>

#include "med/networks/nets/critic.h"
#include "med/networks/nets/fullyconnectednet.h"
#include "med/networks/nets/regunet.h"
#include "networks_common.h"

namespace med::conformance {
namespace N = med::networks::nets;
using med::networks::layers::LayerSpec;
using nlohmann::json;

namespace {

/// An optional layer kwarg: absent -> `dflt`, an explicit None -> nullopt.
std::optional<LayerSpec> optLayer(Kwargs &kw, const json &kwargs, const std::string &key,
                                  std::optional<LayerSpec> dflt) {
  const json &v = kw.raw(key);
  if (v.is_null())
    return given(kwargs, key) ? std::nullopt : dflt;
  return layerSpec(v, kw.owner() + "." + key);
}

/// An optional string kwarg: absent -> `dflt`, an explicit None -> nullopt.
std::optional<std::string> optString(Kwargs &kw, const json &kwargs, const std::string &key,
                                     std::optional<std::string> dflt) {
  const json &v = kw.raw(key);
  if (v.is_null())
    return given(kwargs, key) ? std::nullopt : dflt;
  if (!v.is_string())
    throw Unsupported(kw.owner() + "." + key + ": expected a string or None, got " + v.dump());
  return v.get<std::string>();
}

Built makeRegUNet(Kwargs &kw, const json &kwargs) {
  N::RegUNetOptions o(required(kw, "spatial_dims"), required(kw, "in_channels"),
                      required(kw, "num_channel_initial"), required(kw, "depth"));
  o.out_kernel_initializer(
      optString(kw, kwargs, "out_kernel_initializer", std::string("kaiming_uniform")));
  o.out_activation(optLayer(kw, kwargs, "out_activation", std::nullopt));
  o.out_channels(kw.integer("out_channels", 3));
  o.extract_levels(kw.ints("extract_levels", {}));
  o.pooling(kw.boolean("pooling", true)).concat_skip(kw.boolean("concat_skip", false));
  o.encode_kernel_sizes(kw.ints("encode_kernel_sizes", {3}));
  kw.finish();
  return built(N::RegUNet(o));
}

Built makeLocalNet(Kwargs &kw, const json &kwargs) {
  N::LocalNetOptions o(required(kw, "spatial_dims"), required(kw, "in_channels"),
                       required(kw, "num_channel_initial"), kw.ints("extract_levels"));
  o.out_kernel_initializer(
      optString(kw, kwargs, "out_kernel_initializer", std::string("kaiming_uniform")));
  o.out_activation(optLayer(kw, kwargs, "out_activation", std::nullopt));
  o.out_channels(kw.integer("out_channels", 3)).pooling(kw.boolean("pooling", true));
  o.use_additive_sampling(kw.boolean("use_additive_sampling", true));
  o.concat_skip(kw.boolean("concat_skip", false)).mode(kw.string("mode", "nearest"));
  const json &ac = kw.raw("align_corners");
  if (!ac.is_null() && !ac.is_boolean())
    throw Unsupported(kw.owner() + ".align_corners: expected a bool or None, got " + ac.dump());
  if (!ac.is_null())
    o.align_corners(ac.get<bool>());
  kw.finish();
  return built(N::LocalNet(o));
}

Built makeGlobalNet(Kwargs &kw, const json &kwargs) {
  N::GlobalNetOptions o(kw.ints("image_size"), required(kw, "spatial_dims"),
                        required(kw, "in_channels"), required(kw, "num_channel_initial"),
                        required(kw, "depth"));
  o.out_kernel_initializer(
      optString(kw, kwargs, "out_kernel_initializer", std::string("kaiming_uniform")));
  o.out_activation(optLayer(kw, kwargs, "out_activation", std::nullopt));
  o.pooling(kw.boolean("pooling", true)).concat_skip(kw.boolean("concat_skip", false));
  o.encode_kernel_sizes(kw.ints("encode_kernel_sizes", {3}));
  o.save_theta(kw.boolean("save_theta", false));
  kw.finish();
  return built(N::GlobalNet(o));
}

Built makeCritic(Kwargs &kw, const json &kwargs) {
  N::CriticOptions o(kw.ints("in_shape"), kw.ints("channels"), kw.ints("strides"));
  o.kernel_size(kw.ints("kernel_size", {3})).num_res_units(kw.integer("num_res_units", 2));
  o.act(layerKwarg(kw, "act", o.act())).norm(layerKwarg(kw, "norm", o.norm()));
  o.dropout(dropoutKwarg(kw, kwargs, o.dropout())).bias(kw.boolean("bias", true));
  kw.finish();
  return built(N::Critic(o));
}

/// The kwargs FullyConnectedNet and VarFullyConnectedNet share.
template <typename O> void mlpKwargs(Kwargs &kw, const json &kwargs, O &o) {
  o.dropout(dropoutKwarg(kw, kwargs, std::nullopt));
  o.act(optLayer(kw, kwargs, "act", LayerSpec("PRELU"))).bias(kw.boolean("bias", true));
  o.adn_ordering(optString(kw, kwargs, "adn_ordering", std::nullopt));
}

Built makeFullyConnectedNet(Kwargs &kw, const json &kwargs) {
  N::FullyConnectedNetOptions o(required(kw, "in_channels"), required(kw, "out_channels"),
                                kw.ints("hidden_channels"));
  mlpKwargs(kw, kwargs, o);
  kw.finish();
  return built(N::FullyConnectedNet(o));
}

Built makeVarFullyConnectedNet(Kwargs &kw, const json &kwargs) {
  N::VarFullyConnectedNetOptions o(required(kw, "in_channels"), required(kw, "out_channels"),
                                   required(kw, "latent_size"), kw.ints("encode_channels"),
                                   kw.ints("decode_channels"));
  mlpKwargs(kw, kwargs, o);
  kw.finish();
  return builtTuple(N::VarFullyConnectedNet(o));
}

} // namespace

void registerRegNetworkRunners(Registry &r) {
  r.add("RegUNet", networkRunner("RegUNet", makeRegUNet));
  r.add("LocalNet", networkRunner("LocalNet", makeLocalNet));
  r.add("GlobalNet", networkRunner("GlobalNet", makeGlobalNet));
  r.add("Critic", networkRunner("Critic", makeCritic));
  r.add("FullyConnectedNet", networkRunner("FullyConnectedNet", makeFullyConnectedNet));
  r.add("VarFullyConnectedNet", networkRunner("VarFullyConnectedNet", makeVarFullyConnectedNet));
}

} // namespace med::conformance
