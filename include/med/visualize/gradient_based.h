// Gradient saliency maps: the gradient of a class score with respect to the input pixels
// (VanillaGrad) and its noise-averaged form (SmoothGrad, Smilkov et al.), as MONAI's.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <c10/util/Optional.h>
#include <torch/arg.h>
#include <torch/nn/module.h>

namespace med::visualize {

/// d(logit of class `index`) / d(input) for a single image (1, C, *spatial); `index` nullopt
/// takes the predicted (argmax) class. The model runs in eval mode when `module` is given.
///
///   med::visualize::VanillaGrad vg([&](const at::Tensor &x) { return net(x); }, net.ptr());
///   at::Tensor g = vg(img);   // same shape as img
class VanillaGrad {
public:
  using Model = std::function<at::Tensor(const at::Tensor &)>;
  explicit VanillaGrad(Model model, std::shared_ptr<torch::nn::Module> module = nullptr);
  virtual ~VanillaGrad() = default;
  virtual at::Tensor operator()(const at::Tensor &x,
                                c10::optional<int64_t> index = c10::nullopt) const;

protected:
  at::Tensor get_grad(const at::Tensor &x, c10::optional<int64_t> index, const char *where) const;

private:
  Model model_;
  std::shared_ptr<torch::nn::Module> module_;
};

/// SmoothGrad's parameters (MONAI's names and defaults). `generator`: the noise source
/// (default: LibTorch's global generator).
struct SmoothGradOptions {
  TORCH_ARG(double, stdev_spread) = 0.15;
  TORCH_ARG(int64_t, n_samples) = 25;
  TORCH_ARG(bool, magnitude) = true;
  TORCH_ARG(c10::optional<at::Generator>, generator) = c10::nullopt;
};

/// Averages VanillaGrad over `n_samples` copies of the image with Gaussian noise of standard
/// deviation stdev_spread * (max - min) of the image. With `magnitude`, returns
/// sqrt(sum of squared gradients) / n_samples (MONAI's formula), else the mean gradient.
///
///   med::visualize::SmoothGrad sg(model, med::visualize::SmoothGradOptions().n_samples(10));
///   at::Tensor s = sg(img);
class SmoothGrad : public VanillaGrad {
public:
  explicit SmoothGrad(Model model, SmoothGradOptions options = {},
                      std::shared_ptr<torch::nn::Module> module = nullptr);
  at::Tensor operator()(const at::Tensor &x,
                        c10::optional<int64_t> index = c10::nullopt) const override;

private:
  SmoothGradOptions options_;
};

} // namespace med::visualize
