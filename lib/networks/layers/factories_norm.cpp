// Norm factory (factories.h).
#include <torch/nn/functional/instancenorm.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/instancenorm.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "args.h"

namespace med::networks::layers {

namespace {

template <class Opt> Opt runningOptions(Opt o, detail::ArgReader &a, bool affine, bool track) {
  return o.eps(a.real("eps", 1e-5))
      .momentum(a.real("momentum", 0.1))
      .affine(a.flag("affine", affine))
      .track_running_stats(a.flag("track_running_stats", track));
}

torch::nn::AnyModule make(const std::string &n, int64_t dims, int64_t channels,
                          detail::ArgReader &a) {
  namespace nn = torch::nn;
  if (n == "INSTANCE" || n == "BATCH") {
    detail::checkDims(a.where(), dims);
    int64_t features = a.integer("num_features", channels);
    if (n == "INSTANCE") {
      auto o = runningOptions(nn::InstanceNormOptions(features), a, false, false);
      if (dims == 1)
        return nn::AnyModule(nn::InstanceNorm1d(o));
      if (dims == 2)
        return nn::AnyModule(nn::InstanceNorm2d(o));
      return nn::AnyModule(nn::InstanceNorm3d(o));
    }
    auto o = runningOptions(nn::BatchNormOptions(features), a, true, true);
    if (dims == 1)
      return nn::AnyModule(nn::BatchNorm1d(o));
    if (dims == 2)
      return nn::AnyModule(nn::BatchNorm2d(o));
    return nn::AnyModule(nn::BatchNorm3d(o));
  }
  if (n == "GROUP")
    return nn::AnyModule(nn::GroupNorm(
        nn::GroupNormOptions(a.integer("num_groups"), a.integer("num_channels", channels))
            .eps(a.real("eps", 1e-5))
            .affine(a.flag("affine", true))));
  if (n == "LAYER")
    return nn::AnyModule(
        nn::LayerNorm(nn::LayerNormOptions(a.ints("normalized_shape"))
                          .eps(a.real("eps", 1e-5))
                          .elementwise_affine(a.flag("elementwise_affine", true))));
  if (n == "LOCALRESPONSE")
    return nn::AnyModule(nn::LocalResponseNorm(nn::LocalResponseNormOptions(a.integer("size"))
                                                   .alpha(a.real("alpha", 1e-4))
                                                   .beta(a.real("beta", 0.75))
                                                   .k(a.real("k", 1.0))));
  throw Error("Norm.name", "unknown normalisation \"" + n +
                               "\"; expected one of INSTANCE, BATCH, GROUP, LAYER, LOCALRESPONSE");
}

} // namespace

torch::nn::AnyModule norm(const LayerSpec &spec, int64_t spatial_dims, int64_t channels) {
  std::string n = detail::upper(spec.name);
  detail::ArgReader a("Norm[" + n + "]", spec.args);
  if (channels < 1)
    throw Error(a.where() + ".channels", "expected >= 1, got " + std::to_string(channels));
  torch::nn::AnyModule m = make(n, spatial_dims, channels, a);
  a.finish();
  return m;
}

torch::nn::AnyModule get_norm_layer(const LayerSpec &name, int64_t spatial_dims, int64_t channels) {
  if (name.name.empty())
    return torch::nn::AnyModule(torch::nn::Identity());
  return norm(name, spatial_dims, channels);
}

} // namespace med::networks::layers
