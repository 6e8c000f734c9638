// Generator (generator.h).
#include "med/networks/nets/generator.h"

#include <ATen/ATen.h>

#include "med/core/error.h"
#include "med/networks/blocks/reshape.h"

namespace med::networks::nets {

namespace B = med::networks::blocks;
namespace nn = torch::nn;

GeneratorImpl::GeneratorImpl(GeneratorOptions o) : options(std::move(o)) {
  const auto &start = options.start_shape();
  if (start.size() < 2 || start.size() > 4)
    throw Error("Generator.start_shape",
                "expected (channels, *spatial) with 1 to 3 spatial axes, got " +
                    std::to_string(start.size()) + " entries");
  const int64_t d = static_cast<int64_t>(start.size()) - 1;
  const auto &ch = options.channels();
  const auto &st = options.strides();
  if (ch.empty() || ch.size() != st.size())
    throw Error("Generator.strides", "expected one stride per channels entry (" +
                                         std::to_string(ch.size()) + "), got " +
                                         std::to_string(st.size()));
  int64_t latent = 1, startN = 1;
  for (int64_t s : options.latent_shape())
    latent *= s;
  for (int64_t s : start)
    startN *= s;
  register_module("flatten", nn::Flatten());
  linear_ = register_module("linear", nn::Linear(latent, startN));
  register_module("reshape", B::Reshape(start));
  std::optional<LayerSpec> drop;
  if (options.dropout())
    drop = B::dropoutSpec(*options.dropout());
  conv_ = B::TensorSequential();
  int64_t c = start[0];
  for (size_t i = 0; i < ch.size(); ++i) {
    const bool last = i + 1 == ch.size();
    auto up = B::Convolution(B::ConvolutionOptions(d, c, ch[i])
                                 .strides({st[i]})
                                 .kernel_size(options.kernel_size())
                                 .act(options.act())
                                 .norm(options.norm())
                                 .dropout(drop)
                                 .bias(options.bias())
                                 .is_transposed(true)
                                 .conv_only(last || options.num_res_units() > 0));
    if (options.num_res_units() > 0) {
      B::TensorSequential layer;
      layer->push_back(up);
      layer->push_back(B::ResidualUnit(B::ResidualUnitOptions(d, ch[i], ch[i])
                                           .kernel_size(options.kernel_size())
                                           .subunits(options.num_res_units())
                                           .act(options.act())
                                           .norm(options.norm())
                                           .dropout(drop)
                                           .bias(options.bias())
                                           .last_conv_only(last)));
      conv_->push_back("layer_" + std::to_string(i), layer);
    } else {
      conv_->push_back("layer_" + std::to_string(i), up);
    }
    c = ch[i];
  }
  register_module("conv", conv_);
}

at::Tensor GeneratorImpl::forward(const at::Tensor &x) {
  const auto &ls = options.latent_shape();
  if (x.dim() != static_cast<int64_t>(ls.size()) + 1 ||
      !std::equal(ls.begin(), ls.end(), x.sizes().begin() + 1))
    throw Error("Generator.input",
                "expected (B, " + c10::Join(", ", ls) + "), got " + c10::str(x.sizes()));
  std::vector<int64_t> shape{x.size(0)};
  shape.insert(shape.end(), options.start_shape().begin(), options.start_shape().end());
  at::Tensor h = linear_->forward(x.reshape({x.size(0), -1}));
  return conv_->forward(h.reshape(shape));
}

} // namespace med::networks::nets
