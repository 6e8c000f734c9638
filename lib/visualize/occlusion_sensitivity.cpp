// OcclusionSensitivity on top of sliding_window_inference: the "image" that is windowed is a
// grid of voxel coordinates, so each window tells the predictor where to occlude; the predictor
// occludes copies of the real image there, classifies them and paints the scores over the window.
#include "med/visualize/occlusion_sensitivity.h"

#include <cmath>

#include <ATen/Functions.h>
#include <ATen/TensorIndexing.h>
#include <ATen/TensorOperators.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "eval_guard.h"
#include "med/core/error.h"
#include "med/inferers/sliding_window.h"

namespace med::visualize {
namespace {

using at::indexing::Slice;
using at::indexing::TensorIndex;

/// MONAI's erf-approximated discrete Gaussian (truncated at 4 sigma, not normalised) at offset d.
double gaussianTap(int64_t d, double sigma) {
  const int64_t tail = static_cast<int64_t>(std::max(sigma * 4.0, 0.5) + 0.5);
  if (std::llabs(d) > tail)
    return 0.0;
  const double t = 0.70710678 / std::abs(sigma);
  return std::max(0.0, 0.5 * (std::erf(t * (d + 0.5)) - std::erf(t * (d - 0.5))));
}

} // namespace

OcclusionSensitivity::OcclusionSensitivity(Model model, OcclusionSensitivityOptions options,
                                           std::shared_ptr<torch::nn::Module> module)
    : model_(std::move(model)), options_(std::move(options)), module_(std::move(module)) {
  const std::string &m = options_.mode();
  if (m != "gaussian" && m != "mean_patch" && m != "mean_img")
    throw Error("OcclusionSensitivity.mode",
                "expected \"gaussian\", \"mean_patch\" or \"mean_img\", got \"" + m + "\"");
  if (!model_)
    throw Error("OcclusionSensitivity.nn_module", "expected a callable model");
  if (options_.n_batch() < 1)
    throw Error("OcclusionSensitivity.n_batch",
                "expected at least 1, got " + std::to_string(options_.n_batch()));
  if (!(options_.overlap() >= 0.0 && options_.overlap() < 1.0))
    throw Error("OcclusionSensitivity.overlap",
                "expected a value in [0, 1), got " + std::to_string(options_.overlap()));
  for (int64_t s : options_.mask_size())
    if (s < 1)
      throw Error("OcclusionSensitivity.mask_size", "expected sizes >= 1");
}

at::Tensor OcclusionSensitivity::gaussian_occlusion(int64_t channels,
                                                    const std::vector<int64_t> &mask_size,
                                                    at::TensorOptions options) {
  at::Tensor bump = at::ones({1}, at::kDouble);
  for (int64_t s : mask_size) {
    const double sigma = static_cast<double>(s) * 0.25;
    at::Tensor g = at::empty({s}, at::kDouble);
    for (int64_t i = 0; i < s; ++i)
      g[i] = gaussianTap(i - s / 2, sigma);
    bump = at::outer(bump.reshape({-1}), g).reshape({-1});
  }
  bump = bump.reshape(mask_size);
  const double mx = bump.max().item<double>(), mn = bump.min().item<double>();
  // -bump scaled to [0, 1]: 0 where the bump peaks; a constant bump scales to 0 everywhere.
  at::Tensor mul = mx > mn ? (mx - bump) / (mx - mn) : at::zeros_like(bump);
  std::vector<int64_t> shape{channels};
  shape.insert(shape.end(), mask_size.begin(), mask_size.end());
  return mul.unsqueeze(0).expand(shape).to(options).contiguous();
}

std::pair<at::Tensor, at::Tensor> OcclusionSensitivity::operator()(const at::Tensor &x) const {
  if (!x.defined() || x.dim() < 3 || x.dim() > 5)
    throw Error("OcclusionSensitivity.x", "expected (1, C, *spatial) with 1 to 3 spatial axes");
  if (x.size(0) != 1)
    throw Error("OcclusionSensitivity.x",
                "expected batch size of 1, got " + std::to_string(x.size(0)));
  const int64_t sd = x.dim() - 2;
  std::vector<int64_t> mask = options_.mask_size();
  if (mask.size() == 1)
    mask.assign(static_cast<size_t>(sd), mask[0]);
  if (static_cast<int64_t>(mask.size()) != sd)
    throw Error("OcclusionSensitivity.mask_size", "expected 1 or " + std::to_string(sd) +
                                                      " entries, got " +
                                                      std::to_string(mask.size()));
  for (int64_t d = 0; d < sd; ++d)
    if (mask[d] > x.size(d + 2))
      throw Error("OcclusionSensitivity.mask_size",
                  "image (spatial shape) should be bigger than mask; axis " + std::to_string(d) +
                      " has " + std::to_string(x.size(d + 2)) + " < " + std::to_string(mask[d]));

  EvalGuard eval(module_);
  torch::NoGradGuard no_grad;
  const at::Tensor img = x.detach();
  const std::string mode = options_.mode();
  at::Tensor mul; // gaussian: multiplicative factor on the window
  double fill = 0.0;
  if (mode == "gaussian")
    mul = gaussian_occlusion(img.size(1), mask, img.options());
  else if (mode == "mean_img")
    fill = img.mean().item<double>();

  // Coordinate grid (1, sd, *spatial): each window's first voxel holds its corner.
  std::vector<at::Tensor> axes;
  for (int64_t d = 0; d < sd; ++d)
    axes.push_back(at::arange(x.size(d + 2), img.options().dtype(at::kFloat)));
  at::Tensor grid = at::stack(at::meshgrid(axes, "ij")).unsqueeze(0);

  const auto predictor = [&](const at::Tensor &windows) {
    const int64_t n = windows.size(0);
    at::Tensor im = img.repeat_interleave(n, 0);
    at::Tensor corners = windows.reshape({n, sd, -1}).select(2, 0).to(at::kCPU).to(at::kLong);
    auto c = corners.accessor<int64_t, 2>();
    for (int64_t b = 0; b < n; ++b) {
      std::vector<TensorIndex> idx{TensorIndex(b), TensorIndex(Slice())};
      for (int64_t d = 0; d < sd; ++d)
        idx.emplace_back(Slice(c[b][d], c[b][d] + mask[d]));
      at::Tensor patch = im.index(idx);
      if (mode == "gaussian")
        im.index_put_(idx, patch * mul);
      else
        im.index_put_(idx, mode == "mean_patch" ? patch.mean().item<double>() : fill);
    }
    at::Tensor out = model_(im);
    if (out.dim() != 2 || out.size(0) != n)
      throw Error("OcclusionSensitivity.nn_module",
                  "expected the classifier to return (batch, num_classes)");
    if (options_.activation())
      out = options_.activation()(out);
    else if (options_.activate())
      out = img.size(1) == 1 ? out.sigmoid() : out.softmax(1);
    std::vector<int64_t> shape{out.size(0), out.size(1)};
    shape.insert(shape.end(), mask.begin(), mask.end());
    std::vector<int64_t> view{out.size(0), out.size(1)};
    view.resize(static_cast<size_t>(sd) + 2, 1);
    return out.reshape(view).expand(shape).contiguous();
  };
  at::Tensor sens = inferers::sliding_window_inference(
      grid, mask, options_.n_batch(), predictor, options_.overlap(),
      mode == "gaussian" ? "gaussian" : "constant");
  at::Tensor most_probable = sens.argmax(1, true);
  return {sens, most_probable};
}

} // namespace med::visualize
