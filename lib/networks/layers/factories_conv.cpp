// Conv, Pool and Dropout factories (factories.h), dispatched on the number of spatial axes.
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/pooling.h>

#include "args.h"

namespace med::networks::layers {

namespace nn = torch::nn;

namespace {

template <size_t D> struct Mods;
template <> struct Mods<1> {
  using Conv = nn::Conv1d;
  using ConvT = nn::ConvTranspose1d;
  using Max = nn::MaxPool1d;
  using Avg = nn::AvgPool1d;
  using AMax = nn::AdaptiveMaxPool1d;
  using AAvg = nn::AdaptiveAvgPool1d;
};
template <> struct Mods<2> {
  using Conv = nn::Conv2d;
  using ConvT = nn::ConvTranspose2d;
  using Max = nn::MaxPool2d;
  using Avg = nn::AvgPool2d;
  using AMax = nn::AdaptiveMaxPool2d;
  using AAvg = nn::AdaptiveAvgPool2d;
};
template <> struct Mods<3> {
  using Conv = nn::Conv3d;
  using ConvT = nn::ConvTranspose3d;
  using Max = nn::MaxPool3d;
  using Avg = nn::AvgPool3d;
  using AMax = nn::AdaptiveMaxPool3d;
  using AAvg = nn::AdaptiveAvgPool3d;
};

nn::detail::conv_padding_mode_t paddingMode(detail::ArgReader &a) {
  std::string m = a.str("padding_mode", "zeros");
  if (m == "zeros")
    return torch::kZeros;
  if (m == "reflect")
    return torch::kReflect;
  if (m == "replicate")
    return torch::kReplicate;
  if (m == "circular")
    return torch::kCircular;
  throw Error(a.where() + ".padding_mode",
              "expected zeros, reflect, replicate or circular, got \"" + m + "\"");
}

template <size_t D> nn::AnyModule makeConv(const std::string &n, detail::ArgReader &a) {
  int64_t in = a.integer("in_channels"), out = a.integer("out_channels");
  auto k = a.array<D>("kernel_size");
  if (n == "CONV") {
    nn::ConvOptions<D> o(in, out, k);
    o.stride(a.array<D>("stride", std::vector<int64_t>{1}))
        .dilation(a.array<D>("dilation", std::vector<int64_t>{1}));
    const c10::IValue *p = a.raw("padding");
    if (p && p->isString()) {
      std::string s = p->toStringRef();
      if (s == "same")
        o.padding(torch::kSame);
      else if (s == "valid")
        o.padding(torch::kValid);
      else
        throw Error(a.where() + ".padding", "expected integers, \"same\" or \"valid\"");
    } else {
      o.padding(a.array<D>("padding", std::vector<int64_t>{0}));
    }
    o.groups(a.integer("groups", 1)).bias(a.flag("bias", true)).padding_mode(paddingMode(a));
    return nn::AnyModule(typename Mods<D>::Conv(o));
  }
  nn::ConvTransposeOptions<D> o(in, out, k);
  o.stride(a.array<D>("stride", std::vector<int64_t>{1}))
      .padding(a.array<D>("padding", std::vector<int64_t>{0}))
      .output_padding(a.array<D>("output_padding", std::vector<int64_t>{0}))
      .dilation(a.array<D>("dilation", std::vector<int64_t>{1}))
      .groups(a.integer("groups", 1))
      .bias(a.flag("bias", true));
  if (a.str("padding_mode", "zeros") != "zeros")
    throw Error(a.where() + ".padding_mode", "transposed convolutions support only \"zeros\"");
  o.padding_mode(torch::kZeros);
  return nn::AnyModule(typename Mods<D>::ConvT(o));
}

template <size_t D> nn::AnyModule makePool(const std::string &n, detail::ArgReader &a) {
  if (n == "MAX" || n == "AVG") {
    auto k = a.array<D>("kernel_size");
    // PyTorch: stride defaults to the kernel size.
    auto stride = a.has("stride") ? a.array<D>("stride") : k;
    if (n == "MAX")
      return nn::AnyModule(
          typename Mods<D>::Max(nn::MaxPoolOptions<D>(k)
                                    .stride(stride)
                                    .padding(a.array<D>("padding", std::vector<int64_t>{0}))
                                    .dilation(a.array<D>("dilation", std::vector<int64_t>{1}))
                                    .ceil_mode(a.flag("ceil_mode", false))));
    return nn::AnyModule(
        typename Mods<D>::Avg(nn::AvgPoolOptions<D>(k)
                                  .stride(stride)
                                  .padding(a.array<D>("padding", std::vector<int64_t>{0}))
                                  .ceil_mode(a.flag("ceil_mode", false))
                                  .count_include_pad(a.flag("count_include_pad", true))));
  }
  std::vector<int64_t> v = a.ints("output_size");
  if (v.size() != 1 && v.size() != D)
    throw Error(a.where() + ".output_size", "expected 1 or " + std::to_string(D) + " values");
  std::vector<c10::optional<int64_t>> size(D);
  for (size_t i = 0; i < D; ++i)
    size[i] = v.size() == 1 ? v[0] : v[i];
  // The 1D options take plain sizes, the 2D/3D ones optional sizes.
  using AMax = typename Mods<D>::AMax;
  using AAvg = typename Mods<D>::AAvg;
  using AMaxOpt = std::decay_t<decltype(std::declval<typename AMax::ContainedType>().options)>;
  using AAvgOpt = std::decay_t<decltype(std::declval<typename AAvg::ContainedType>().options)>;
  if constexpr (D == 1) {
    if (n == "ADAPTIVEMAX")
      return nn::AnyModule(AMax(AMaxOpt(v[0])));
    return nn::AnyModule(AAvg(AAvgOpt(v[0])));
  } else {
    if (n == "ADAPTIVEMAX")
      return nn::AnyModule(AMax(AMaxOpt(size)));
    return nn::AnyModule(AAvg(AAvgOpt(size)));
  }
}

template <class F> nn::AnyModule byDims(int64_t dims, const std::string &where, F &&f) {
  detail::checkDims(where, dims);
  if (dims == 1)
    return f(std::integral_constant<size_t, 1>{});
  if (dims == 2)
    return f(std::integral_constant<size_t, 2>{});
  return f(std::integral_constant<size_t, 3>{});
}

} // namespace

nn::AnyModule conv(const LayerSpec &spec, int64_t spatial_dims) {
  std::string n = detail::upper(spec.name);
  if (n != "CONV" && n != "CONVTRANS")
    throw Error("Conv.name", "unknown convolution \"" + n + "\"; expected CONV or CONVTRANS");
  detail::ArgReader a("Conv[" + n + "]", spec.args);
  nn::AnyModule m =
      byDims(spatial_dims, a.where(), [&](auto d) { return makeConv<decltype(d)::value>(n, a); });
  a.finish();
  return m;
}

nn::AnyModule pool(const LayerSpec &spec, int64_t spatial_dims) {
  std::string n = detail::upper(spec.name);
  if (n != "MAX" && n != "AVG" && n != "ADAPTIVEMAX" && n != "ADAPTIVEAVG")
    throw Error("Pool.name",
                "unknown pooling \"" + n + "\"; expected MAX, AVG, ADAPTIVEMAX or ADAPTIVEAVG");
  detail::ArgReader a("Pool[" + n + "]", spec.args);
  nn::AnyModule m =
      byDims(spatial_dims, a.where(), [&](auto d) { return makePool<decltype(d)::value>(n, a); });
  a.finish();
  return m;
}

nn::AnyModule dropout(const LayerSpec &spec, int64_t dropout_dim) {
  std::string n = detail::upper(spec.name);
  if (n != "DROPOUT" && n != "ALPHADROPOUT")
    throw Error("Dropout.name", "unknown dropout \"" + n + "\"; expected DROPOUT or ALPHADROPOUT");
  detail::ArgReader a("Dropout[" + n + "]", spec.args);
  detail::checkDims(a.where(), dropout_dim, "dropout_dim");
  double p = a.real("p", 0.5);
  if (!(p >= 0.0 && p <= 1.0))
    throw Error(a.where() + ".p", "expected a probability in [0, 1], got " + std::to_string(p));
  nn::DropoutOptions o = nn::DropoutOptions(p).inplace(a.flag("inplace", false));
  a.finish();
  if (n == "ALPHADROPOUT")
    return nn::AnyModule(nn::AlphaDropout(o));
  if (dropout_dim == 1)
    return nn::AnyModule(nn::Dropout(o));
  if (dropout_dim == 2)
    return nn::AnyModule(nn::Dropout2d(o));
  return nn::AnyModule(nn::Dropout3d(o));
}

nn::AnyModule get_dropout_layer(double p, int64_t dropout_dim) {
  return dropout(LayerSpec("DROPOUT", {{"p", p}}), dropout_dim);
}

} // namespace med::networks::layers
