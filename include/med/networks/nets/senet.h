// MONAI's SENet family (Hu et al. 2018): a stem ("layer0": one 7^d conv, or three 3^d convs,
// then a max-pool), four stages of squeeze-and-excitation bottlenecks (64, 128, 256, 512
// planes, expansion 4), global average pooling, optional dropout and a linear classifier
// ("last_linear"). SENet154, SEResNet50/101/152 and SEResNext50/101 are presets. Submodule names
// are MONAI's, so state_dict keys match MONAI checkpoints.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "med/networks/blocks/convolutions.h"
#include "med/networks/blocks/squeeze_and_excitation.h"

namespace med::networks::nets {

/// Options of SENet, MONAI's arguments and defaults. `block` is "se_bottleneck",
/// "se_resnet_bottleneck" or "se_resnetxt_bottleneck"; `layers` has 4 stage depths; `groups`
/// is the 3^d convs' group count and `reduction` the SE layers' ratio. `inplanes` is the stem's
/// width, `input_3x3` picks the three-conv stem; `downsample_kernel_size` is the kernel of the
/// residual projections of stages 2-4 (stage 1 uses 1). `dropout_prob` None means no dropout;
/// `dropout_dim` picks Dropout / Dropout2d / Dropout3d.
///
///   auto net = SENet(SEResNet50Options(3, 1, 2));
struct SENetOptions {
  SENetOptions(int64_t spatial_dims, int64_t in_channels, std::string block,
               std::vector<int64_t> layers, int64_t groups, int64_t reduction)
      : spatial_dims_(spatial_dims), in_channels_(in_channels), block_(std::move(block)),
        layers_(std::move(layers)), groups_(groups), reduction_(reduction) {}
  TORCH_ARG(int64_t, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(std::string, block);
  TORCH_ARG(std::vector<int64_t>, layers);
  TORCH_ARG(int64_t, groups);
  TORCH_ARG(int64_t, reduction);
  TORCH_ARG(std::optional<double>, dropout_prob) = 0.2;
  TORCH_ARG(int64_t, dropout_dim) = 1;
  TORCH_ARG(int64_t, inplanes) = 128;
  TORCH_ARG(int64_t, downsample_kernel_size) = 3;
  TORCH_ARG(bool, input_3x3) = true;
  TORCH_ARG(int64_t, num_classes) = 1000;
};

/// (B, in_channels, *S) -> (B, num_classes) logits.
class SENetImpl : public torch::nn::Module {
public:
  explicit SENetImpl(SENetOptions options);
  at::Tensor forward(const at::Tensor &x);
  /// The four stages' output before pooling (MONAI's `features`).
  at::Tensor features(const at::Tensor &x);
  SENetOptions options;

private:
  torch::nn::Sequential makeLayer(int64_t planes, int64_t blocks, int64_t stride,
                                  int64_t downsample_kernel_size);
  int64_t inplanes_ = 0;
  blocks::TensorSequential layer0_{nullptr};
  std::vector<torch::nn::Sequential> stages_;
  torch::nn::AnyModule pool_, dropout_;
  torch::nn::Linear last_linear_{nullptr};
};
TORCH_MODULE(SENet);

/// MONAI's presets as options (tweak further before building a SENet). SENet154: se_bottleneck
/// {3, 8, 36, 3}, groups 64, SENet's defaults. SE-ResNet 50/101/152: se_resnet_bottleneck
/// {3,4,6,3} / {3,4,23,3} / {3,8,36,3}, groups 1; SE-ResNeXt 50/101: se_resnetxt_bottleneck
/// {3,4,6,3} / {3,4,23,3}, groups 32; all of these with reduction 16, no dropout, inplanes 64,
/// downsample_kernel_size 1 and the 7^d stem. Pretrained weights are not downloaded.
///
///   auto net = SEResNet50(3, 1, 2);   // or SENet(SEResNet50Options(3, 1, 2).dropout_prob(0.2))
SENetOptions SENet154Options(int64_t spatial_dims, int64_t in_channels, int64_t num_classes);
SENetOptions SEResNet50Options(int64_t spatial_dims, int64_t in_channels, int64_t num_classes);
SENetOptions SEResNet101Options(int64_t spatial_dims, int64_t in_channels, int64_t num_classes);
SENetOptions SEResNet152Options(int64_t spatial_dims, int64_t in_channels, int64_t num_classes);
SENetOptions SEResNext50Options(int64_t spatial_dims, int64_t in_channels, int64_t num_classes);
SENetOptions SEResNext101Options(int64_t spatial_dims, int64_t in_channels, int64_t num_classes);

/// The presets built with MONAI's default num_classes (1000).
SENet SENet154(int64_t spatial_dims, int64_t in_channels, int64_t num_classes = 1000);
SENet SEResNet50(int64_t spatial_dims, int64_t in_channels, int64_t num_classes = 1000);
SENet SEResNet101(int64_t spatial_dims, int64_t in_channels, int64_t num_classes = 1000);
SENet SEResNet152(int64_t spatial_dims, int64_t in_channels, int64_t num_classes = 1000);
SENet SEResNext50(int64_t spatial_dims, int64_t in_channels, int64_t num_classes = 1000);
SENet SEResNext101(int64_t spatial_dims, int64_t in_channels, int64_t num_classes = 1000);

} // namespace med::networks::nets
