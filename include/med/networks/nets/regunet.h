// MONAI's RegUNet: the U-Net that DeepReg uses for image registration (a dense displacement field
// from a moving/fixed image pair). Each encoder level is conv block + residual block + halving
// down-sample; the decoder doubles with transposed convs and adds (or concatenates) the skip; the
// extraction head averages the outputs of `extract_levels`, resized to the input. Submodule
// names are MONAI's ("encode_convs.0.1.layers.0.conv", "decode_deconvs.0.adn.N",
// "output_block.layers.0.conv"), so state_dict keys match MONAI checkpoints. LocalNet and
// GlobalNet, MONAI's registration networks built on it, are here too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "med/networks/blocks/convolutions.h"
#include "med/networks/blocks/regunet_block.h"

namespace med::networks::nets {

using layers::LayerSpec;

/// Options of RegUNet, MONAI's arguments and defaults. Level 0 is the input scale, level `depth`
/// the bottom; level d has num_channel_initial * 2^d channels. `extract_levels` (empty = MONAI's
/// None = {depth}) must have `depth` as its maximum. `encode_kernel_sizes` is one size or
/// depth + 1 sizes (one per encoder level and the bottom). `out_kernel_initializer` is
/// "kaiming_uniform" (Kaiming-normal draws, as MONAI), "zeros" or nullopt (LibTorch's draw).
///
///   auto net = RegUNet(RegUNetOptions(3, 2, 16, 3)); // (B, 2, 32, 32, 32) -> (B, 3, 32, 32, 32)
struct RegUNetOptions {
  RegUNetOptions(int64_t spatial_dims, int64_t in_channels, int64_t num_channel_initial,
                 int64_t depth)
      : spatial_dims_(spatial_dims), in_channels_(in_channels),
        num_channel_initial_(num_channel_initial), depth_(depth) {}
  TORCH_ARG(int64_t, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, num_channel_initial);
  TORCH_ARG(int64_t, depth);
  TORCH_ARG(std::optional<std::string>, out_kernel_initializer) = std::string("kaiming_uniform");
  /// Activation of the extraction convs (none by default).
  TORCH_ARG(std::optional<LayerSpec>, out_activation) = std::nullopt;
  TORCH_ARG(int64_t, out_channels) = 3;
  TORCH_ARG(std::vector<int64_t>, extract_levels) = {};
  /// Max pooling (true) or a strided conv block (false) to go down a level.
  TORCH_ARG(bool, pooling) = true;
  /// Concatenate the skip when going up (true) or add it (false).
  TORCH_ARG(bool, concat_skip) = false;
  TORCH_ARG(std::vector<int64_t>, encode_kernel_sizes) = {3};
};

/// MONAI's AffineHead (GlobalNet's output): a Linear "fc" (zero weight, identity-affine bias)
/// from the flattened bottom features to an affine matrix theta (2x3 / 3x4), returned as the
/// dense displacement field theta @ [grid; 1] - grid over the voxel grid of `image_size`.
///
///   AffineHead head(3, {32, 32, 32}, {4, 4, 4}, 64);
class AffineHeadImpl : public torch::nn::Module {
public:
  AffineHeadImpl(int64_t spatial_dims, std::vector<int64_t> image_size,
                 const std::vector<int64_t> &decode_size, int64_t in_channels,
                 bool save_theta = false);
  /// `x`: the decoded maps, deepest first (only x[0] is used).
  at::Tensor forward(const std::vector<at::Tensor> &x);
  /// The last theta (B, spatial_dims * (spatial_dims + 1)) when save_theta, else undefined.
  at::Tensor theta;

private:
  int64_t dims_;
  bool save_theta_;
  at::Tensor grid_; // (dims, *image_size) voxel coordinates; not in the state_dict, as MONAI
  torch::nn::Linear fc_{nullptr};
};
TORCH_MODULE(AffineHead);

/// (B, in_channels, *S) -> (B, out_channels, *S); every size in S must be divisible by 2^depth.
class RegUNetImpl : public torch::nn::Module {
public:
  explicit RegUNetImpl(RegUNetOptions options);
  at::Tensor forward(const at::Tensor &x);
  RegUNetOptions options;

protected:
  /// What LocalNet and GlobalNet change (MONAI's overridden build_* methods).
  struct Variant {
    std::string name = "RegUNet";     // class named by errors
    bool conv_only_bottom = false;    // LocalNet: bottom block without its residual block
    bool additive_upsampling = false; // LocalNet: AdditiveUpSampleBlock instead of a deconv
    std::string mode = "nearest";
    std::optional<bool> align_corners;
    std::vector<int64_t> affine_image_size; // GlobalNet: an AffineHead output for this size
    bool save_theta = false;
  };
  RegUNetImpl(RegUNetOptions options, Variant variant);
  Variant variant_;
  AffineHead affine_head_{nullptr};

private:
  std::vector<int64_t> num_channels_, extract_levels_;
  std::vector<blocks::TensorSequential> encode_convs_, decode_convs_;
  std::vector<blocks::RegistrationDownSampleBlock> encode_pools_;
  std::vector<torch::nn::AnyModule> decode_deconvs_;
  torch::nn::AnyModule bottom_block_;
  blocks::RegistrationExtractionBlock output_block_{nullptr};
};
TORCH_MODULE(RegUNet);

/// Options of LocalNet (MONAI's arguments and defaults): depth = max(extract_levels),
/// encode kernel sizes 7 then 3, a conv-only bottom block and, with use_additive_sampling,
/// AdditiveUpSampleBlocks (resize `mode` / `align_corners`) on the way up.
///
///   auto net = LocalNet(LocalNetOptions(3, 2, 32, {0, 1, 2, 3})); // a dense DDF (B, 3, *S)
struct LocalNetOptions {
  LocalNetOptions(int64_t spatial_dims, int64_t in_channels, int64_t num_channel_initial,
                  std::vector<int64_t> extract_levels)
      : spatial_dims_(spatial_dims), in_channels_(in_channels),
        num_channel_initial_(num_channel_initial), extract_levels_(std::move(extract_levels)) {}
  TORCH_ARG(int64_t, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, num_channel_initial);
  TORCH_ARG(std::vector<int64_t>, extract_levels);
  TORCH_ARG(std::optional<std::string>, out_kernel_initializer) = std::string("kaiming_uniform");
  TORCH_ARG(std::optional<LayerSpec>, out_activation) = std::nullopt;
  TORCH_ARG(int64_t, out_channels) = 3;
  TORCH_ARG(bool, pooling) = true;
  TORCH_ARG(bool, use_additive_sampling) = true;
  TORCH_ARG(bool, concat_skip) = false;
  TORCH_ARG(std::string, mode) = "nearest";
  TORCH_ARG(std::optional<bool>, align_corners) = std::nullopt;
};

/// LocalNet (Hu et al. 2018): (B, in_channels, *S) -> (B, out_channels, *S).
class LocalNetImpl : public RegUNetImpl {
public:
  explicit LocalNetImpl(LocalNetOptions options);
};
TORCH_MODULE(LocalNet);

/// Options of GlobalNet (MONAI's arguments and defaults): a RegUNet encoder whose bottom
/// features give an affine transform through AffineHead; out_channels is spatial_dims.
/// `image_size` sizes must be divisible by 2^depth. With save_theta the last affine is kept in
/// `theta`.
///
///   auto net = GlobalNet(GlobalNetOptions({32, 32}, 2, 2, 8, 2)); // (B, 2, 32, 32) -> DDF
struct GlobalNetOptions {
  GlobalNetOptions(std::vector<int64_t> image_size, int64_t spatial_dims, int64_t in_channels,
                   int64_t num_channel_initial, int64_t depth)
      : image_size_(std::move(image_size)), spatial_dims_(spatial_dims), in_channels_(in_channels),
        num_channel_initial_(num_channel_initial), depth_(depth) {}
  TORCH_ARG(std::vector<int64_t>, image_size);
  TORCH_ARG(int64_t, spatial_dims);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, num_channel_initial);
  TORCH_ARG(int64_t, depth);
  TORCH_ARG(std::optional<std::string>, out_kernel_initializer) = std::string("kaiming_uniform");
  TORCH_ARG(std::optional<LayerSpec>, out_activation) = std::nullopt;
  TORCH_ARG(bool, pooling) = true;
  TORCH_ARG(bool, concat_skip) = false;
  TORCH_ARG(std::vector<int64_t>, encode_kernel_sizes) = {3};
  TORCH_ARG(bool, save_theta) = false;
};

/// GlobalNet (Hu et al. 2018): (B, in_channels, *image_size) -> DDF (B, spatial_dims, *image_size).
class GlobalNetImpl : public RegUNetImpl {
public:
  explicit GlobalNetImpl(GlobalNetOptions options);
  /// The last affine matrices (B, spatial_dims * (spatial_dims + 1)) when save_theta.
  at::Tensor theta() const { return affine_head_->theta; }
};
TORCH_MODULE(GlobalNet);

} // namespace med::networks::nets
