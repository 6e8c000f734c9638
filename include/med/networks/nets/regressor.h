// MONAI's Regressor and its subclasses Classifier and Discriminator: a strided stack of
// ResidualUnits (or Convolutions) followed by Flatten -> Linear -> Reshape, for image-level
// outputs (a value vector, class scores, a real/fake probability). Submodule names are MONAI's
// ("net.layer_0...", "final.1.weight").
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "med/networks/blocks/convolutions.h"

namespace med::networks::nets {

using layers::LayerSpec;

/// Options of Regressor. `in_shape` is (channels, *spatial) of one input (without the batch
/// axis), `out_shape` the shape of one output; one `strides` entry per `channels` entry.
///
///   auto r = Regressor(RegressorOptions({1, 32, 32}, {3}, {4, 8, 16}, {2, 2, 2}));
struct RegressorOptions {
  RegressorOptions(std::vector<int64_t> in_shape, std::vector<int64_t> out_shape,
                   std::vector<int64_t> channels, std::vector<int64_t> strides)
      : in_shape_(std::move(in_shape)), out_shape_(std::move(out_shape)),
        channels_(std::move(channels)), strides_(std::move(strides)) {}
  TORCH_ARG(std::vector<int64_t>, in_shape);
  TORCH_ARG(std::vector<int64_t>, out_shape);
  TORCH_ARG(std::vector<int64_t>, channels);
  TORCH_ARG(std::vector<int64_t>, strides);
  TORCH_ARG(std::vector<int64_t>, kernel_size) = {3};
  TORCH_ARG(int64_t, num_res_units) = 2;
  TORCH_ARG(LayerSpec, act) = LayerSpec("PRELU");
  TORCH_ARG(LayerSpec, norm) = LayerSpec("INSTANCE");
  /// Dropout probability; nullopt (MONAI's None) adds no dropout layer.
  TORCH_ARG(std::optional<double>, dropout) = std::nullopt;
  TORCH_ARG(bool, bias) = true;
};

/// The network: (B, *in_shape) -> (B, *out_shape).
class RegressorImpl : public torch::nn::Module {
public:
  explicit RegressorImpl(RegressorOptions options);
  at::Tensor forward(const at::Tensor &x);
  RegressorOptions options;

protected:
  /// `linear_head` false makes `final` a bare Flatten (MONAI's Critic._get_final_layer).
  RegressorImpl(RegressorOptions options, bool linear_head);
  blocks::TensorSequential net_{nullptr}, final_{nullptr};
};
TORCH_MODULE(Regressor);

/// Options of Classifier: a Regressor to `classes` scores, optionally followed by `last_act`.
///
///   auto c = Classifier(ClassifierOptions({1, 32, 32}, 3, {4, 8, 16}, {2, 2, 2}));
struct ClassifierOptions {
  ClassifierOptions(std::vector<int64_t> in_shape, int64_t classes, std::vector<int64_t> channels,
                    std::vector<int64_t> strides)
      : in_shape_(std::move(in_shape)), classes_(classes), channels_(std::move(channels)),
        strides_(std::move(strides)) {}
  TORCH_ARG(std::vector<int64_t>, in_shape);
  TORCH_ARG(int64_t, classes);
  TORCH_ARG(std::vector<int64_t>, channels);
  TORCH_ARG(std::vector<int64_t>, strides);
  TORCH_ARG(std::vector<int64_t>, kernel_size) = {3};
  TORCH_ARG(int64_t, num_res_units) = 2;
  TORCH_ARG(LayerSpec, act) = LayerSpec("PRELU");
  TORCH_ARG(LayerSpec, norm) = LayerSpec("INSTANCE");
  TORCH_ARG(std::optional<double>, dropout) = std::nullopt;
  TORCH_ARG(bool, bias) = true;
  /// Activation appended to `final` as "lastact" (none by default).
  TORCH_ARG(std::optional<LayerSpec>, last_act) = std::nullopt;
};

/// (B, *in_shape) -> (B, classes).
class ClassifierImpl : public RegressorImpl {
public:
  explicit ClassifierImpl(ClassifierOptions options);
};
TORCH_MODULE(Classifier);

/// Options of Discriminator: a Classifier with one output, dropout 0.25 and a sigmoid.
///
///   auto d = Discriminator(DiscriminatorOptions({1, 32, 32}, {4, 8, 16}, {2, 2, 2}));
struct DiscriminatorOptions {
  DiscriminatorOptions(std::vector<int64_t> in_shape, std::vector<int64_t> channels,
                       std::vector<int64_t> strides)
      : in_shape_(std::move(in_shape)), channels_(std::move(channels)),
        strides_(std::move(strides)) {}
  TORCH_ARG(std::vector<int64_t>, in_shape);
  TORCH_ARG(std::vector<int64_t>, channels);
  TORCH_ARG(std::vector<int64_t>, strides);
  TORCH_ARG(std::vector<int64_t>, kernel_size) = {3};
  TORCH_ARG(int64_t, num_res_units) = 2;
  TORCH_ARG(LayerSpec, act) = LayerSpec("PRELU");
  TORCH_ARG(LayerSpec, norm) = LayerSpec("INSTANCE");
  TORCH_ARG(std::optional<double>, dropout) = 0.25;
  TORCH_ARG(bool, bias) = true;
  TORCH_ARG(std::optional<LayerSpec>, last_act) = LayerSpec("SIGMOID");
};

/// (B, *in_shape) -> (B, 1).
class DiscriminatorImpl : public ClassifierImpl {
public:
  explicit DiscriminatorImpl(DiscriminatorOptions options);
};
TORCH_MODULE(Discriminator);

} // namespace med::networks::nets
