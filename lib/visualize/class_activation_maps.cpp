// GradCAM and GradCAM++ on a classifier split at the target layer (see the header for why the
// split replaces MONAI's forward/backward hooks).
#include "med/visualize/class_activation_maps.h"

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>
#include <torch/autograd.h>
#include <torch/nn/functional/upsampling.h>

#include "eval_guard.h"
#include "med/core/error.h"

namespace med::visualize {
namespace {

using Fn = std::function<at::Tensor(const at::Tensor &)>;

/// Runs children [begin, end) of `seq` in order.
Fn runRange(torch::nn::Sequential seq, size_t begin, size_t end) {
  return [seq, begin, end](const at::Tensor &x) mutable {
    at::Tensor y = x;
    for (auto it = seq->begin() + begin; it != seq->begin() + end; ++it)
      y = it->forward(y);
    return y;
  };
}

Fn chain(Fn a, Fn b) {
  return [a, b](const at::Tensor &x) { return b(a(x)); };
}

} // namespace

FeatureSplit split_sequential(torch::nn::Sequential model, const std::string &target_layer,
                              const std::string &where) {
  if (model.is_empty())
    throw Error(where + ".model", "expected a constructed Sequential");
  const std::string first = target_layer.substr(0, target_layer.find('.'));
  const auto children = model->named_children();
  std::string names;
  for (size_t i = 0; i < children.size(); ++i) {
    const auto &item = children[i];
    names += (i ? ", " : "") + item.key();
    if (item.key() != first)
      continue;
    FeatureSplit s;
    s.module = model.ptr();
    if (first.size() == target_layer.size()) {
      s.features = runRange(model, 0, i + 1);
      s.head = runRange(model, i + 1, children.size());
      return s;
    }
    auto inner = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(model->ptr(i));
    if (!inner)
      throw Error(where + ".target_layer",
                  "'" + first + "' in '" + target_layer +
                      "' is not a Sequential, so it has no named children");
    FeatureSplit sub = split_sequential(torch::nn::Sequential(inner),
                                        target_layer.substr(first.size() + 1), where);
    s.features = chain(runRange(model, 0, i), sub.features);
    s.head = chain(sub.head, runRange(model, i + 1, children.size()));
    return s;
  }
  throw Error(where + ".target_layer",
              "no child named '" + first + "'; the Sequential's children are: " + names);
}

at::Tensor default_upsampler(const at::Tensor &acti_map, c10::IntArrayRef spatial_size) {
  namespace F = torch::nn::functional;
  auto opts = F::InterpolateFuncOptions()
                  .size(std::vector<int64_t>(spatial_size.begin(), spatial_size.end()))
                  .align_corners(false);
  switch (spatial_size.size()) {
  case 1:
    opts.mode(torch::kLinear);
    break;
  case 2:
    opts.mode(torch::kBilinear);
    break;
  case 3:
    opts.mode(torch::kTrilinear);
    break;
  default:
    throw Error("default_upsampler.spatial_size",
                "expected 1 to 3 spatial axes, got " + std::to_string(spatial_size.size()));
  }
  return F::interpolate(acti_map, opts);
}

at::Tensor default_normalizer(const at::Tensor &x) {
  at::Tensor flat = x.detach().reshape({x.size(0), -1});
  at::Tensor mn = std::get<0>(flat.min(1, true)), mx = std::get<0>(flat.max(1, true));
  at::Tensor span = mx - mn;
  at::Tensor out = at::where(span > 0, (flat - mn) / at::where(span > 0, span, at::ones_like(span)),
                             at::zeros_like(flat));
  return out.reshape(x.sizes());
}

GradCAM::GradCAM(torch::nn::Sequential model, const std::string &target_layer, CAMOptions options)
    : GradCAM(split_sequential(model, target_layer, "GradCAM"), std::move(options)) {}

GradCAM::GradCAM(FeatureSplit split, CAMOptions options)
    : split_(std::move(split)), options_(std::move(options)) {
  if (!split_.features || !split_.head)
    throw Error("GradCAM.split", "expected both a features and a head callable");
}

at::Tensor GradCAM::compute_map(const at::Tensor &x, c10::optional<int64_t> class_idx) const {
  if (!x.defined() || x.dim() < 3)
    throw Error(name_ + ".x", "expected a batch (B, C, *spatial) with 1 to 3 spatial axes");
  EvalGuard eval(split_.module);
  torch::AutoGradMode grad_on(true);
  at::Tensor acti = split_.features(x.detach()).detach().requires_grad_(true);
  if (acti.dim() < 3)
    throw Error(name_ + ".target_layer",
                "expected the target layer to output (B, C, *spatial), got " +
                    std::to_string(acti.dim()) + " axes");
  at::Tensor logits = split_.head(acti);
  if (logits.dim() != 2 || logits.size(0) != x.size(0))
    throw Error(name_ + ".model", "expected the classifier to return logits (B, num_classes)");
  at::Tensor idx;
  if (class_idx) {
    if (*class_idx < 0 || *class_idx >= logits.size(1))
      throw Error(name_ + ".class_idx", "expected a class in [0, " +
                                            std::to_string(logits.size(1)) + "), got " +
                                            std::to_string(*class_idx));
    idx = at::full({logits.size(0)}, *class_idx, logits.options().dtype(at::kLong));
  } else {
    idx = logits.argmax(1);
  }
  at::Tensor score = logits.gather(1, idx.view({-1, 1})).squeeze(1);
  at::Tensor grad;
  if (score.requires_grad()) // a head that ignores the features has no graph: zero gradient
    grad = torch::autograd::grad({score.sum()}, {acti}, {}, c10::nullopt, false, true)[0];
  if (!grad.defined())
    grad = at::zeros_like(acti);
  at::Tensor a = acti.detach();
  at::Tensor w = weights(a, grad.detach(), score.detach());
  return at::relu((w * a).sum(1, true));
}

at::Tensor GradCAM::operator()(const at::Tensor &x, c10::optional<int64_t> class_idx) const {
  at::Tensor m = compute_map(x, class_idx);
  m = options_.upsampler()(m, x.sizes().slice(2));
  return options_.postprocessing() ? options_.postprocessing()(m) : m;
}

std::vector<int64_t> GradCAM::feature_map_size(c10::IntArrayRef input_size,
                                               at::Device device) const {
  EvalGuard eval(split_.module);
  torch::NoGradGuard no_grad;
  at::Tensor f = split_.features(at::zeros(input_size, at::TensorOptions().device(device)));
  return std::vector<int64_t>(f.sizes().begin(), f.sizes().end());
}

at::Tensor GradCAM::weights(const at::Tensor &, const at::Tensor &grad, const at::Tensor &) const {
  // Spatial mean of the gradient, one weight per (sample, channel).
  const int64_t b = grad.size(0), c = grad.size(1);
  std::vector<int64_t> shape{b, c};
  shape.resize(static_cast<size_t>(grad.dim()), 1);
  return grad.reshape({b, c, -1}).mean(2).reshape(shape);
}

GradCAMpp::GradCAMpp(torch::nn::Sequential model, const std::string &target_layer,
                     CAMOptions options)
    : GradCAM(split_sequential(model, target_layer, "GradCAMpp"), std::move(options)) {
  name_ = "GradCAMpp";
}

GradCAMpp::GradCAMpp(FeatureSplit split, CAMOptions options)
    : GradCAM(std::move(split), std::move(options)) {
  name_ = "GradCAMpp";
}

at::Tensor GradCAMpp::weights(const at::Tensor &acti, const at::Tensor &grad,
                              const at::Tensor &score) const {
  const int64_t b = grad.size(0), c = grad.size(1);
  std::vector<int64_t> per_channel{b, c};
  per_channel.resize(static_cast<size_t>(grad.dim()), 1);
  std::vector<int64_t> per_sample{b};
  per_sample.resize(static_cast<size_t>(grad.dim()), 1);
  at::Tensor g2 = grad.pow(2);
  at::Tensor denom = g2 * 2 + (acti * grad.pow(3)).reshape({b, c, -1}).sum(-1).reshape(per_channel);
  denom = at::where(denom != 0.0, denom, at::ones_like(denom));
  at::Tensor alpha = g2 / (denom + 1e-7);
  at::Tensor relu_grad = at::relu(score.exp().reshape(per_sample) * grad);
  return (alpha * relu_grad).reshape({b, c, -1}).sum(-1).reshape(per_channel);
}

} // namespace med::visualize
