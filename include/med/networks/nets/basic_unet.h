// MONAI's BasicUNet: a fixed five-level U-Net (two conv-norm-dropout-act layers per level,
// max-pooling down, transposed-conv or interpolation up, skips concatenated), with MONAI's
// submodule names ("conv_0", "down_1.convs.conv_0", "upcat_4.upsample.deconv", "final_conv").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/pimpl.h>

#include "med/networks/layers/factories.h"

namespace med::networks::nets {

using layers::LayerSpec;

/// Options of BasicUNet, MONAI's arguments and defaults. `features` has six entries: the five
/// encoder levels and the last decoder level (one value is repeated six times). `upsample` is
/// "deconv" (transposed conv, kernel 2 stride 2) or "nontrainable" (1x1 conv to halve the
/// channels, then linear interpolation with align_corners).
///
///   auto net = BasicUNet(BasicUNetOptions().spatial_dims(2).in_channels(1).out_channels(3)
///                            .features({16, 16, 32, 64, 128, 16}));
struct BasicUNetOptions {
  TORCH_ARG(int64_t, spatial_dims) = 3;
  TORCH_ARG(int64_t, in_channels) = 1;
  TORCH_ARG(int64_t, out_channels) = 2;
  TORCH_ARG(std::vector<int64_t>, features) = {32, 32, 64, 128, 256, 32};
  TORCH_ARG(LayerSpec, act) = LayerSpec("LeakyReLU", {{"negative_slope", 0.1}, {"inplace", true}});
  TORCH_ARG(LayerSpec, norm) = LayerSpec("instance", {{"affine", true}});
  TORCH_ARG(bool, bias) = true;
  TORCH_ARG(double, dropout) = 0.0;
  TORCH_ARG(std::string, upsample) = "deconv";
};

/// The network; forward takes (B, in_channels, *spatial) with every spatial size at least 16
/// (four 2x poolings) and returns (B, out_channels, *spatial). Odd sizes are handled as MONAI
/// does: the up-sampled map is padded by one (replicate) before concatenation.
class BasicUNetImpl : public torch::nn::Module {
public:
  explicit BasicUNetImpl(BasicUNetOptions options = {});
  at::Tensor forward(const at::Tensor &x);
  BasicUNetOptions options;

private:
  torch::nn::AnyModule conv_0_, down_1_, down_2_, down_3_, down_4_;
  torch::nn::AnyModule upcat_4_, upcat_3_, upcat_2_, upcat_1_, final_conv_;
};
TORCH_MODULE(BasicUNet);

} // namespace med::networks::nets
