// VanillaGrad and SmoothGrad: input gradients of one class score, plain or noise-averaged.
#include "med/visualize/gradient_based.h"

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>
#include <torch/autograd.h>

#include "eval_guard.h"
#include "med/core/error.h"

namespace med::visualize {

VanillaGrad::VanillaGrad(Model model, std::shared_ptr<torch::nn::Module> module)
    : model_(std::move(model)), module_(std::move(module)) {
  if (!model_)
    throw Error("VanillaGrad.model", "expected a callable model");
}

at::Tensor VanillaGrad::get_grad(const at::Tensor &x, c10::optional<int64_t> index,
                                 const char *where) const {
  const std::string w(where);
  if (!x.defined() || x.dim() < 3)
    throw Error(w + ".x", "expected (1, C, *spatial)");
  if (x.size(0) != 1)
    throw Error(w + ".x", "expected batch size of 1, got " + std::to_string(x.size(0)));
  EvalGuard eval(module_);
  torch::AutoGradMode grad_on(true);
  at::Tensor xin = x.detach().clone().requires_grad_(true);
  at::Tensor logits = model_(xin);
  if (logits.dim() != 2 || logits.size(0) != 1)
    throw Error(w + ".model", "expected the classifier to return logits (1, num_classes)");
  int64_t cls = index ? *index : logits.argmax(1).item<int64_t>();
  if (cls < 0 || cls >= logits.size(1))
    throw Error(w + ".index", "expected a class in [0, " + std::to_string(logits.size(1)) +
                                  "), got " + std::to_string(cls));
  at::Tensor score = logits.select(1, cls).sum();
  at::Tensor g = torch::autograd::grad({score}, {xin}, {}, c10::nullopt, false, true)[0];
  return g.defined() ? g.detach() : at::zeros_like(x);
}

at::Tensor VanillaGrad::operator()(const at::Tensor &x, c10::optional<int64_t> index) const {
  return get_grad(x, index, "VanillaGrad");
}

SmoothGrad::SmoothGrad(Model model, SmoothGradOptions options,
                       std::shared_ptr<torch::nn::Module> module)
    : VanillaGrad(std::move(model), std::move(module)), options_(std::move(options)) {
  if (options_.n_samples() < 1)
    throw Error("SmoothGrad.n_samples",
                "expected at least 1, got " + std::to_string(options_.n_samples()));
  if (!(options_.stdev_spread() >= 0.0))
    throw Error("SmoothGrad.stdev_spread", "expected >= 0");
}

at::Tensor SmoothGrad::operator()(const at::Tensor &x, c10::optional<int64_t> index) const {
  if (!x.defined() || x.numel() == 0)
    throw Error("SmoothGrad.x", "expected (1, C, *spatial)");
  const double stdev = options_.stdev_spread() * (x.max() - x.min()).item<double>();
  at::Tensor total = at::zeros_like(x, x.options().dtype(at::kFloat));
  for (int64_t i = 0; i < options_.n_samples(); ++i) {
    at::Tensor noise =
        at::normal(0.0, stdev, x.sizes(), options_.generator(), x.options().dtype(at::kFloat));
    // The class is resolved on each noisy copy when index is nullopt (MONAI 1.4).
    at::Tensor g = get_grad((x + noise).detach(), index, "SmoothGrad").to(at::kFloat);
    total += options_.magnitude() ? g * g : g;
  }
  if (options_.magnitude())
    total = total.sqrt();
  return total / static_cast<double>(options_.n_samples());
}

} // namespace med::visualize
