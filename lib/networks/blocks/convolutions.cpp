// ADN, Convolution, ResidualUnit and SkipConnection (convolutions.h).
#include "med/networks/blocks/convolutions.h"

#include <algorithm>
#include <cctype>

#include <ATen/ATen.h>
#include <torch/nn/modules/linear.h>

#include "med/core/error.h"

namespace med::networks::blocks {

namespace L = med::networks::layers;

LayerSpec dropoutSpec(double p) { return LayerSpec("DROPOUT", {{"p", p}}); }

std::optional<LayerSpec> dropoutSpec(const std::optional<double> &p) {
  if (!p)
    return std::nullopt;
  return dropoutSpec(*p);
}

namespace detail {
std::vector<int64_t> perAxis(const std::vector<int64_t> &v, int64_t dims,
                             const std::string &where) {
  if (v.size() == 1)
    return std::vector<int64_t>(dims, v[0]);
  if (static_cast<int64_t>(v.size()) != dims)
    throw Error(where, "expected 1 or " + std::to_string(dims) +
                           " values (one per spatial axis), got " + std::to_string(v.size()));
  return v;
}
} // namespace detail

namespace {
c10::IValue list(const std::vector<int64_t> &v) { return c10::IValue(v); }
int64_t product(const std::vector<int64_t> &v) {
  int64_t p = 1;
  for (int64_t x : v)
    p *= x;
  return p;
}
} // namespace

ADNImpl::ADNImpl(ADNOptions o) : options(std::move(o)) {
  // As MONAI: each of norm_dim / dropout_dim (0 = not given) stands in for the other.
  const int64_t nd = options.norm_dim() ? options.norm_dim() : options.dropout_dim();
  const int64_t dd = options.dropout_dim() ? options.dropout_dim() : options.norm_dim();
  if ((options.norm() || options.dropout()) && nd == 0)
    throw Error("ADN.norm_dim", "norm_dim or dropout_dim must be given for a norm or dropout");
  for (char c : options.ordering()) {
    char u = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    torch::nn::AnyModule m;
    if (u == 'N') {
      if (!options.norm())
        continue;
      m = L::get_norm_layer(*options.norm(), nd, options.in_channels());
    } else if (u == 'D') {
      if (!options.dropout())
        continue;
      m = L::get_dropout_layer(*options.dropout(), dd);
    } else if (u == 'A') {
      if (!options.act())
        continue;
      m = L::get_act_layer(*options.act());
    } else {
      throw Error("ADN.ordering",
                  "expected a string of the letters A, D, N, got \"" + options.ordering() + "\"");
    }
    register_module(std::string(1, u), m.ptr());
    ops_.push_back(std::move(m));
  }
}

at::Tensor ADNImpl::forward(const at::Tensor &x) {
  at::Tensor y = x;
  for (auto &m : ops_)
    y = m.forward(y);
  return y;
}

ConvolutionImpl::ConvolutionImpl(ConvolutionOptions o) : options(std::move(o)) {
  const int64_t d = options.spatial_dims();
  if (d < 1 || d > 3)
    throw Error("Convolution.spatial_dims", "expected 1, 2 or 3, got " + std::to_string(d));
  auto k = detail::perAxis(options.kernel_size(), d, "Convolution.kernel_size");
  auto s = detail::perAxis(options.strides(), d, "Convolution.strides");
  auto dil = detail::perAxis(options.dilation(), d, "Convolution.dilation");
  std::vector<int64_t> pad(d);
  if (options.padding()) {
    pad = detail::perAxis(*options.padding(), d, "Convolution.padding");
  } else {
    for (int64_t i = 0; i < d; ++i) {
      if (k[i] < 1)
        throw Error("Convolution.kernel_size", "expected positive sizes");
      pad[i] = (k[i] - 1) * dil[i] / 2; // MONAI's same_padding
    }
  }
  L::Args a{{"in_channels", options.in_channels()},
            {"out_channels", options.out_channels()},
            {"kernel_size", list(k)},
            {"stride", list(s)},
            {"padding", list(pad)},
            {"dilation", list(dil)},
            {"groups", options.groups()},
            {"bias", options.bias()}};
  if (options.is_transposed()) {
    std::vector<int64_t> op(d);
    if (options.output_padding()) {
      op = detail::perAxis(*options.output_padding(), d, "Convolution.output_padding");
    } else {
      for (int64_t i = 0; i < d; ++i)
        op[i] = s[i] - 1; // MONAI's stride_minus_kernel_padding(1, strides)
    }
    a["output_padding"] = list(op);
    conv_ = L::conv({"CONVTRANS", a}, d);
  } else {
    conv_ = L::conv({"CONV", a}, d);
  }
  register_module("conv", conv_.ptr());
  if (!options.conv_only()) {
    adn_ = register_module("adn", ADN(ADNOptions()
                                          .ordering(options.adn_ordering())
                                          .in_channels(options.out_channels())
                                          .act(options.act())
                                          .norm(options.norm())
                                          .norm_dim(d)
                                          .dropout(options.dropout())
                                          .dropout_dim(options.dropout_dim())));
  }
}

at::Tensor ConvolutionImpl::forward(const at::Tensor &x) {
  at::Tensor y = conv_.forward(x);
  return adn_ ? adn_->forward(y) : y;
}

ResidualUnitImpl::ResidualUnitImpl(ResidualUnitOptions o) : options(std::move(o)) {
  const int64_t d = options.spatial_dims();
  auto seq = TensorSequential();
  int64_t ch = options.in_channels();
  std::vector<int64_t> strides = options.strides();
  const int64_t n = std::max<int64_t>(1, options.subunits());
  for (int64_t su = 0; su < n; ++su) {
    seq->push_back("unit" + std::to_string(su),
                   Convolution(ConvolutionOptions(d, ch, options.out_channels())
                                   .strides(strides)
                                   .kernel_size(options.kernel_size())
                                   .adn_ordering(options.adn_ordering())
                                   .act(options.act())
                                   .norm(options.norm())
                                   .dropout(options.dropout())
                                   .dropout_dim(options.dropout_dim())
                                   .dilation(options.dilation())
                                   .bias(options.bias())
                                   .conv_only(options.last_conv_only() && su == n - 1)
                                   .padding(options.padding())));
    ch = options.out_channels();
    strides = {1};
  }
  conv_ = torch::nn::AnyModule(seq);
  register_module("conv", seq.ptr());
  const int64_t sprod = product(detail::perAxis(options.strides(), d, "ResidualUnit.strides"));
  if (sprod != 1 || options.in_channels() != options.out_channels()) {
    std::vector<int64_t> rk = options.kernel_size(), rpad;
    if (options.padding()) {
      rpad = *options.padding();
    } else {
      auto k = detail::perAxis(rk, d, "ResidualUnit.kernel_size");
      auto dil = detail::perAxis(options.dilation(), d, "ResidualUnit.dilation");
      for (int64_t i = 0; i < d; ++i)
        rpad.push_back((k[i] - 1) * dil[i] / 2);
    }
    if (sprod == 1) {
      rk = {1};
      rpad = {0};
    }
    residual_ = L::conv({"CONV",
                         {{"in_channels", options.in_channels()},
                          {"out_channels", options.out_channels()},
                          {"kernel_size", list(rk)},
                          {"stride", list(options.strides())},
                          {"padding", list(rpad)},
                          {"bias", options.bias()}}},
                        d);
  } else {
    residual_ = torch::nn::AnyModule(torch::nn::Identity());
  }
  register_module("residual", residual_.ptr());
}

at::Tensor ResidualUnitImpl::forward(const at::Tensor &x) {
  at::Tensor res = residual_.forward(x);
  return conv_.forward(x) + res;
}

SkipConnectionImpl::SkipConnectionImpl(torch::nn::AnyModule submodule)
    : submodule_(std::move(submodule)) {
  register_module("submodule", submodule_.ptr());
}

at::Tensor SkipConnectionImpl::forward(const at::Tensor &x) {
  return at::cat({x, submodule_.forward(x)}, 1);
}

} // namespace med::networks::blocks
