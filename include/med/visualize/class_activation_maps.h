// Class activation maps: which regions of an image a classifier's decision rests on (GradCAM and
// GradCAM++, MONAI's names and defaults).
//
// LibTorch C++ modules have no forward/backward hooks, so the activations of the target layer
// are not captured from inside forward(). Instead the classifier is split at the target layer
// into `features` (input -> target layer's output) and `head` (that output -> logits): either
// from a torch::nn::Sequential and the (dotted) name of one of its children, or by the caller
// with two callables. The head is run on a detached copy of the feature map that requires grad,
// so the gradient of the class score with respect to it comes from torch::autograd::grad; the
// parameters' .grad fields are left untouched.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/util/Optional.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>

namespace med::visualize {

/// A classifier split at the layer to explain. `module`, when set, is put in eval mode while the
/// map is computed (and restored after), as MONAI does.
///
///   med::visualize::FeatureSplit s{[&](const at::Tensor &x) { return net->body(x); },
///                                  [&](const at::Tensor &f) { return net->classify(f); },
///                                  net.ptr()};
struct FeatureSplit {
  std::function<at::Tensor(const at::Tensor &)> features;
  std::function<at::Tensor(const at::Tensor &)> head;
  std::shared_ptr<torch::nn::Module> module;
};

/// Splits a Sequential after the child named `target_layer` (children are named "0", "1", ...
/// or by the names given at construction; "a.b" names child "b" of a nested Sequential "a").
/// features runs the children up to and including the target; head runs the rest. Throws
/// med::Error("<where>.target_layer") naming the children when the name is not found.
FeatureSplit split_sequential(torch::nn::Sequential model, const std::string &target_layer,
                              const std::string &where = "split_sequential");

/// Resizes an activation map (B, 1, *feature spatial) to the input's spatial size.
using Upsampler = std::function<at::Tensor(const at::Tensor &, c10::IntArrayRef)>;
/// Post-processes the upsampled map (e.g. scales it for display).
using Postprocessing = std::function<at::Tensor(const at::Tensor &)>;

/// MONAI's default_upsampler: linear / bilinear / trilinear interpolation (align_corners false).
at::Tensor default_upsampler(const at::Tensor &acti_map, c10::IntArrayRef spatial_size);
/// MONAI 1.4's default_normalizer: each batch item scaled linearly so that its min becomes 0 and
/// its max 1 (a constant map becomes 0).
at::Tensor default_normalizer(const at::Tensor &x);

/// Options shared by GradCAM and GradCAMpp.
struct CAMOptions {
  TORCH_ARG(Upsampler, upsampler) = default_upsampler;
  TORCH_ARG(Postprocessing, postprocessing) = default_normalizer;
};

/// GradCAM (Selvaraju et al.): the target layer's channels weighted by the spatial mean of the
/// class score's gradient, summed over channels, ReLU; upsampled to the input size and
/// normalised. `class_idx` nullopt explains each sample's own argmax class.
///
///   auto net = torch::nn::Sequential(conv, torch::nn::ReLU(), pool, torch::nn::Flatten(), fc);
///   med::visualize::GradCAM cam(net, "1");
///   at::Tensor map = cam(x);              // (B, 1, H, W), in [0, 1]
class GradCAM {
public:
  GradCAM(torch::nn::Sequential model, const std::string &target_layer, CAMOptions options = {});
  GradCAM(FeatureSplit split, CAMOptions options = {});
  virtual ~GradCAM() = default;

  /// The normalised map at the input's resolution, (B, 1, *spatial of x).
  at::Tensor operator()(const at::Tensor &x, c10::optional<int64_t> class_idx = c10::nullopt) const;
  /// The map at the target layer's resolution, before upsampling and post-processing.
  at::Tensor compute_map(const at::Tensor &x,
                         c10::optional<int64_t> class_idx = c10::nullopt) const;
  /// Shape of the target layer's output for an input of shape `input_size` (B, C, *spatial),
  /// found by running the features on zeros on `device` (where the model lives).
  std::vector<int64_t> feature_map_size(c10::IntArrayRef input_size,
                                        at::Device device = at::kCPU) const;

protected:
  /// Channel weights (B, C, 1...) from the activations, their gradients and the class scores (B).
  virtual at::Tensor weights(const at::Tensor &acti, const at::Tensor &grad,
                             const at::Tensor &score) const;
  std::string name_ = "GradCAM";

private:
  FeatureSplit split_;
  CAMOptions options_;
};

/// GradCAM++ (Chattopadhyay et al.): channel weights from the second- and third-order terms of
/// the gradient, weighting positive gradients of exp(score) per location.
///
///   med::visualize::GradCAMpp campp(net, "1");
///   at::Tensor map = campp(x, 2);        // explain class 2
class GradCAMpp : public GradCAM {
public:
  GradCAMpp(torch::nn::Sequential model, const std::string &target_layer, CAMOptions options = {});
  GradCAMpp(FeatureSplit split, CAMOptions options = {});

protected:
  at::Tensor weights(const at::Tensor &acti, const at::Tensor &grad,
                     const at::Tensor &score) const override;
};

} // namespace med::visualize
