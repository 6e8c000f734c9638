// SSIMLoss (see ssim.h).
#include "med/losses/ssim.h"

#include <sstream>

#include <ATen/ATen.h>

#include "med/core/error.h"
#include "med/losses/reduction.h"

namespace med::losses {

SSIMLossImpl::SSIMLossImpl(SSIMLossOptions o) : options(std::move(o)) {
  const std::string owner = "SSIMLoss";
  const int64_t nd = options.spatial_dims(), k = options.win_size();
  if (nd != 2 && nd != 3)
    throw Error(owner + ".spatial_dims", "expected 2 or 3, got " + std::to_string(nd));
  if (k < 1)
    throw Error(owner + ".win_size", "expected >= 1, got " + std::to_string(k));
  check_reduction(owner, options.reduction());
  at::Tensor w1;
  if (options.kernel_type() == "gaussian") {
    if (!(options.kernel_sigma() > 0))
      throw Error(owner + ".kernel_sigma", "expected > 0");
    at::Tensor d = at::arange((1.0 - double(k)) / 2, (1.0 + double(k)) / 2, 1.0, at::kFloat);
    at::Tensor g = at::exp(-at::pow(d / options.kernel_sigma(), 2) / 2);
    w1 = g / g.sum();
  } else if (options.kernel_type() == "uniform") {
    w1 = at::ones({k}, at::kFloat) / double(k);
  } else {
    throw Error(owner + ".kernel_type",
                "expected gaussian or uniform, got '" + options.kernel_type() + "'");
  }
  window_ = nd == 2 ? at::outer(w1, w1) : at::outer(w1, w1).unsqueeze(-1) * w1.view({1, 1, k});
}

at::Tensor SSIMLossImpl::forward(const at::Tensor &input, const at::Tensor &target) {
  const std::string owner = "SSIMLoss";
  const int64_t nd = options.spatial_dims();
  std::ostringstream s;
  if (input.defined())
    s << input.sizes();
  if (!input.defined() || input.dim() != nd + 2)
    throw Error(owner + ".input",
                "expected (B, C, " + std::to_string(nd) + " spatial axes), got " + s.str());
  if (!target.defined() || !target.sizes().equals(input.sizes()))
    throw Error(owner + ".target", "expected the input's shape " + s.str());
  for (int64_t d = 2; d < input.dim(); ++d)
    if (input.size(d) < options.win_size())
      throw Error(owner + ".input", "every spatial size must be >= win_size (" +
                                        std::to_string(options.win_size()) + "), got " + s.str());
  // MONAI computes SSIM in float32.
  at::Tensor x = input.to(at::kFloat), y = target.to(at::kFloat);
  const int64_t C = x.size(1);
  std::vector<int64_t> wshape = {C, 1};
  for (int64_t d = 0; d < nd; ++d)
    wshape.push_back(options.win_size());
  at::Tensor w = window_.unsqueeze(0).unsqueeze(0).expand(wshape).contiguous();
  auto conv = [&](const at::Tensor &v) {
    std::vector<int64_t> one(nd, 1), zero(nd, 0);
    return nd == 2 ? at::conv2d(v, w, {}, one, zero, one, C)
                   : at::conv3d(v, w, {}, one, zero, one, C);
  };
  const double c1 = std::pow(options.k1() * options.data_range(), 2);
  const double c2 = std::pow(options.k2() * options.data_range(), 2);
  at::Tensor mx = conv(x), my = conv(y);
  at::Tensor sxx = conv(x * x) - mx * mx, syy = conv(y * y) - my * my;
  at::Tensor sxy = conv(x * y) - mx * my;
  at::Tensor cs = (2 * sxy + c2) / (sxx + syy + c2);
  at::Tensor ssim = ((2 * mx * my + c1) / (mx.pow(2) + my.pow(2) + c1)) * cs;
  at::Tensor per = ssim.reshape({ssim.size(0), -1}).mean(1, true); // (B, 1)
  return reduce(1 - per, options.reduction());
}

} // namespace med::losses
