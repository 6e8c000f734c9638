// Regressor, Classifier and Discriminator (regressor.h).
#include "med/networks/nets/regressor.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/linear.h>

#include "med/core/error.h"
#include "med/networks/blocks/reshape.h"

namespace med::networks::nets {

namespace B = med::networks::blocks;
namespace nn = torch::nn;

namespace {
RegressorOptions fromClassifier(const ClassifierOptions &o) {
  return RegressorOptions(o.in_shape(), {o.classes()}, o.channels(), o.strides())
      .kernel_size(o.kernel_size())
      .num_res_units(o.num_res_units())
      .act(o.act())
      .norm(o.norm())
      .dropout(o.dropout())
      .bias(o.bias());
}

ClassifierOptions fromDiscriminator(const DiscriminatorOptions &o) {
  return ClassifierOptions(o.in_shape(), 1, o.channels(), o.strides())
      .kernel_size(o.kernel_size())
      .num_res_units(o.num_res_units())
      .act(o.act())
      .norm(o.norm())
      .dropout(o.dropout())
      .bias(o.bias())
      .last_act(o.last_act());
}
} // namespace

RegressorImpl::RegressorImpl(RegressorOptions o) : RegressorImpl(std::move(o), true) {}

RegressorImpl::RegressorImpl(RegressorOptions o, bool linear_head) : options(std::move(o)) {
  const auto &in = options.in_shape();
  if (in.size() < 2 || in.size() > 4)
    throw Error("Regressor.in_shape",
                "expected (channels, *spatial) with 1 to 3 spatial axes, got " +
                    std::to_string(in.size()) + " entries");
  const int64_t d = static_cast<int64_t>(in.size()) - 1;
  const auto &ch = options.channels();
  const auto &st = options.strides();
  if (ch.empty() || ch.size() != st.size())
    throw Error("Regressor.strides", "expected one stride per channels entry (" +
                                         std::to_string(ch.size()) + "), got " +
                                         std::to_string(st.size()));
  auto k = B::detail::perAxis(options.kernel_size(), d, "Regressor.kernel_size");
  std::vector<int64_t> size(in.begin() + 1, in.end());
  net_ = B::TensorSequential();
  int64_t ech = in[0];
  for (size_t i = 0; i < ch.size(); ++i) {
    const bool last = i + 1 == ch.size();
    std::string name = "layer_" + std::to_string(i);
    if (options.num_res_units() > 0)
      net_->push_back(std::move(name),
                      B::ResidualUnit(B::ResidualUnitOptions(d, ech, ch[i])
                                          .strides({st[i]})
                                          .kernel_size(options.kernel_size())
                                          .subunits(options.num_res_units())
                                          .act(options.act())
                                          .norm(options.norm())
                                          .dropout(B::dropoutSpec(options.dropout()))
                                          .bias(options.bias())
                                          .last_conv_only(last)));
    else
      net_->push_back(std::move(name),
                      B::Convolution(B::ConvolutionOptions(d, ech, ch[i])
                                         .strides({st[i]})
                                         .kernel_size(options.kernel_size())
                                         .act(options.act())
                                         .norm(options.norm())
                                         .dropout(B::dropoutSpec(options.dropout()))
                                         .bias(options.bias())
                                         .conv_only(last)));
    ech = ch[i];
    for (int64_t a = 0; a < d; ++a) {
      int64_t p = (k[a] - 1) / 2; // same padding; MONAI's calculate_out_shape
      size[a] = (size[a] - k[a] + 2 * p) / st[i] + 1;
      if (size[a] < 1)
        throw Error("Regressor.in_shape",
                    "too small for " + std::to_string(ch.size()) + " strided layers");
    }
  }
  register_module("net", net_);
  int64_t flat = ech, outN = 1;
  for (int64_t s : size)
    flat *= s;
  for (int64_t s : options.out_shape())
    outN *= s;
  final_ = B::TensorSequential();
  final_->push_back(nn::Flatten());
  if (linear_head) {
    final_->push_back(nn::Linear(flat, outN));
    final_->push_back(B::Reshape(options.out_shape()));
  }
  register_module("final", final_);
}

at::Tensor RegressorImpl::forward(const at::Tensor &x) {
  const auto &in = options.in_shape();
  if (x.dim() != static_cast<int64_t>(in.size()) + 1 ||
      !std::equal(in.begin(), in.end(), x.sizes().begin() + 1))
    throw Error("Regressor.input",
                "expected (B, " + c10::Join(", ", in) + "), got " + c10::str(x.sizes()));
  return final_->forward(net_->forward(x));
}

ClassifierImpl::ClassifierImpl(ClassifierOptions o) : RegressorImpl(fromClassifier(o)) {
  if (o.last_act())
    final_->push_back("lastact", layers::get_act_layer(*o.last_act()));
}

DiscriminatorImpl::DiscriminatorImpl(DiscriminatorOptions o)
    : ClassifierImpl(fromDiscriminator(o)) {}

} // namespace med::networks::nets
