// MONAI's basic blocks: ADN (norm / dropout / activation in a chosen order), Convolution (a conv or
// transposed conv followed by an ADN) and ResidualUnit (a stack of Convolutions plus a residual
// path), and SkipConnection (concatenates a block's input with its output). UNet and friends are
// built from these, and the submodule names ("conv", "adn", "N", "unit0", "residual",
// "submodule") are MONAI's so that state_dict keys match MONAI checkpoints.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include "med/networks/layers/factories.h"

namespace med::networks::blocks {

using layers::LayerSpec;

/// torch::nn::Sequential with a plain Tensor -> Tensor forward, so it can be nested inside
/// other Sequentials and AnyModules (MONAI nests nn.Sequential freely; LibTorch's templated
/// forward cannot be stored in an AnyModule). Children keep the names given to push_back.
///
///   TensorSequential s; s->push_back("unit0", Convolution(ConvolutionOptions(3, 1, 8)));
class TensorSequentialImpl : public torch::nn::SequentialImpl {
public:
  using SequentialImpl::SequentialImpl;
  at::Tensor forward(const at::Tensor &x) { return SequentialImpl::forward(x); }
};
TORCH_MODULE(TensorSequential);

/// MONAI's `dropout=p`: the spec ("DROPOUT", {"p": p}).
LayerSpec dropoutSpec(double p);
/// The dropout spec for an optional probability (MONAI's `dropout=None` means no layer).
std::optional<LayerSpec> dropoutSpec(const std::optional<double> &p);

/// Options of ADN. `ordering` is a string over "A", "D", "N" (case-insensitive); a layer whose
/// spec is absent is left out. `norm_dim` / `dropout_dim` (0 = not given, MONAI's None) default
/// to each other; one is needed when a norm or a dropout is requested.
///
///   ADN(ADNOptions().ordering("NDA").in_channels(16).norm_dim(3).norm(LayerSpec("INSTANCE")))
struct ADNOptions {
  TORCH_ARG(std::string, ordering) = "NDA";
  TORCH_ARG(int64_t, in_channels) = 0;
  TORCH_ARG(std::optional<LayerSpec>, act) = LayerSpec("RELU");
  TORCH_ARG(std::optional<LayerSpec>, norm) = std::nullopt;
  TORCH_ARG(int64_t, norm_dim) = 0;
  TORCH_ARG(std::optional<LayerSpec>, dropout) = std::nullopt;
  TORCH_ARG(int64_t, dropout_dim) = 0;
};

/// The normalisation / dropout / activation that follows a convolution, in MONAI's order.
class ADNImpl : public torch::nn::Module {
public:
  explicit ADNImpl(ADNOptions options);
  at::Tensor forward(const at::Tensor &x);
  ADNOptions options;

private:
  std::vector<torch::nn::AnyModule> ops_;
};
TORCH_MODULE(ADN);

/// Options of Convolution (MONAI's names and defaults). `strides`, `kernel_size`, `dilation`,
/// `padding`, `output_padding` take one value (all axes) or one per spatial axis; `padding`
/// defaults to "same" padding ((k-1)/2 * dilation) and `output_padding` (transposed) to
/// stride - 1, so stride s maps n to n/s (and back).
///
///   Convolution(ConvolutionOptions(3, 1, 16).strides({2}).act(LayerSpec("GELU")))
struct ConvolutionOptions {
  ConvolutionOptions(int64_t spatial_dims, int64_t in_channels, int64_t out_channels)
      : spatial_dims_(spatial_dims), in_channels_(in_channels), out_channels_(out_channels) {}
  TORCH_ARG(int64_t, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(std::vector<int64_t>, strides) = {1};
  TORCH_ARG(std::vector<int64_t>, kernel_size) = {3};
  TORCH_ARG(std::string, adn_ordering) = "NDA";
  TORCH_ARG(std::optional<LayerSpec>, act) = LayerSpec("PRELU");
  TORCH_ARG(std::optional<LayerSpec>, norm) = LayerSpec("INSTANCE");
  TORCH_ARG(std::optional<LayerSpec>, dropout) = std::nullopt;
  TORCH_ARG(int64_t, dropout_dim) = 1;
  TORCH_ARG(std::vector<int64_t>, dilation) = {1};
  TORCH_ARG(int64_t, groups) = 1;
  TORCH_ARG(bool, bias) = true;
  TORCH_ARG(bool, conv_only) = false;
  TORCH_ARG(bool, is_transposed) = false;
  TORCH_ARG(std::optional<std::vector<int64_t>>, padding) = std::nullopt;
  TORCH_ARG(std::optional<std::vector<int64_t>>, output_padding) = std::nullopt;
};

/// A convolution ("conv") followed by an ADN ("adn") unless conv_only.
class ConvolutionImpl : public torch::nn::Module {
public:
  explicit ConvolutionImpl(ConvolutionOptions options);
  at::Tensor forward(const at::Tensor &x);
  ConvolutionOptions options;

private:
  torch::nn::AnyModule conv_;
  ADN adn_{nullptr};
};
TORCH_MODULE(Convolution);

/// Options of ResidualUnit: `subunits` Convolutions ("conv.unit0", ...), the first with
/// `strides`; the residual path is Identity, or a conv (kernel_size, or 1 when stride is 1)
/// when the stride or the channel count changes.
///
///   ResidualUnit(ResidualUnitOptions(3, 16, 32).strides({2}).subunits(2))
struct ResidualUnitOptions {
  ResidualUnitOptions(int64_t spatial_dims, int64_t in_channels, int64_t out_channels)
      : spatial_dims_(spatial_dims), in_channels_(in_channels), out_channels_(out_channels) {}
  TORCH_ARG(int64_t, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(std::vector<int64_t>, strides) = {1};
  TORCH_ARG(std::vector<int64_t>, kernel_size) = {3};
  TORCH_ARG(int64_t, subunits) = 2;
  TORCH_ARG(std::string, adn_ordering) = "NDA";
  TORCH_ARG(std::optional<LayerSpec>, act) = LayerSpec("PRELU");
  TORCH_ARG(std::optional<LayerSpec>, norm) = LayerSpec("INSTANCE");
  TORCH_ARG(std::optional<LayerSpec>, dropout) = std::nullopt;
  TORCH_ARG(int64_t, dropout_dim) = 1;
  TORCH_ARG(std::vector<int64_t>, dilation) = {1};
  TORCH_ARG(bool, bias) = true;
  TORCH_ARG(bool, last_conv_only) = false;
  TORCH_ARG(std::optional<std::vector<int64_t>>, padding) = std::nullopt;
};

/// conv(x) + residual(x).
class ResidualUnitImpl : public torch::nn::Module {
public:
  explicit ResidualUnitImpl(ResidualUnitOptions options);
  at::Tensor forward(const at::Tensor &x);
  ResidualUnitOptions options;

private:
  torch::nn::AnyModule conv_, residual_;
};
TORCH_MODULE(ResidualUnit);

/// cat([x, submodule(x)], dim=1): the skip of a U-Net level ("submodule" holds the deeper part).
///
///   SkipConnection(torch::nn::AnyModule(Convolution(ConvolutionOptions(3, 8, 8))))
class SkipConnectionImpl : public torch::nn::Module {
public:
  explicit SkipConnectionImpl(torch::nn::AnyModule submodule);
  at::Tensor forward(const at::Tensor &x);

private:
  torch::nn::AnyModule submodule_;
};
TORCH_MODULE(SkipConnection);

namespace detail {
/// `v` expanded to `dims` entries (one value repeats); med::Error(`where`) otherwise.
std::vector<int64_t> perAxis(const std::vector<int64_t> &v, int64_t dims, const std::string &where);
} // namespace detail

} // namespace med::networks::blocks
