// Runners for the UNet family, SegResNet and the auto-encoder/regressor/GAN networks: each
// builds the MONAI architecture from params.kwargs (networks_common.h does the rest).
#include <functional>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include "med/core/error.h"
#include "med/networks/nets/attention_unet.h"
#include "med/networks/nets/autoencoder.h"
#include "med/networks/nets/basic_unet.h"
#include "med/networks/nets/generator.h"
#include "med/networks/nets/regressor.h"
#include "med/networks/nets/segresnet.h"
#include "med/networks/nets/unet.h"
#include "networks_common.h"

namespace med::conformance {
namespace N = med::networks::nets;
using med::networks::layers::LayerSpec;
using nlohmann::json;

namespace {

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
  return builtTuple(N::VarAutoEncoder(o));
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
