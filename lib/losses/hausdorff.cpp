// HausdorffDTLoss and LogHausdorffDTLoss (MONAI 1.4.0 semantics).
#include "med/losses/hausdorff.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "med/core/error.h"
#include "med/metrics/distance_transform.h"

namespace med::losses {

at::Tensor hausdorff_distance_field(const at::Tensor &img) {
  at::NoGradGuard no_grad;
  if (!img.defined() || img.dim() < 3)
    throw Error("HausdorffDTLoss.distance_field",
                "expected a (B, C, *spatial) tensor with at least one spatial axis");
  at::Tensor fg = (img.detach() > 0.5).cpu();
  at::Tensor field = at::zeros(fg.sizes(), at::kDouble);
  for (int64_t b = 0; b < fg.size(0); ++b)
    for (int64_t c = 0; c < fg.size(1); ++c) {
      at::Tensor m = fg[b][c];
      // Empty and all-foreground masks have no boundary: MONAI leaves their field at zero.
      if (!m.any().item<bool>() || m.all().item<bool>())
        continue;
      // Inside: distance to the background; outside: distance to the foreground.
      field[b][c].copy_(metrics::distance_transform_edt(m) +
                        metrics::distance_transform_edt(m.logical_not()));
    }
  return field.to(img.device(), at::kFloat);
}

HausdorffDTLossImpl::HausdorffDTLossImpl(HausdorffDTLossOptions o)
    : HausdorffDTLossImpl(std::move(o), "HausdorffDTLoss") {}

HausdorffDTLossImpl::HausdorffDTLossImpl(HausdorffDTLossOptions o, std::string name)
    : options(std::move(o)), name_(std::move(name)) {
  check_reduction(name_, options.reduction());
  // MONAI only forbids sigmoid together with softmax here; other_act may follow either.
  if (options.sigmoid() && options.softmax())
    throw Error(name_, "incompatible values: sigmoid=true and softmax=true");
}

at::Tensor HausdorffDTLossImpl::forward(const at::Tensor &input, const at::Tensor &target) {
  if (!input.defined() || (input.dim() != 4 && input.dim() != 5))
    throw Error(name_ + ".input",
                "only 2-D (B, C, H, W) and 3-D (B, C, H, W, D) inputs are supported, got " +
                    (input.defined() ? std::to_string(input.dim()) + " dimensions"
                                     : std::string("an undefined tensor")));
  SegInputs p = prepare_seg(name_,
                            {options.include_background(), options.to_onehot_y(), options.sigmoid(),
                             options.softmax(), options.other_act()},
                            input, target);
  const at::Tensor &x = p.input, &y = p.target;
  // MONAI raises the float32 fields to alpha in float32, then promotes to the input's dtype.
  at::Tensor weight = hausdorff_distance_field(x).pow(options.alpha()) +
                      hausdorff_distance_field(y).pow(options.alpha());
  at::Tensor err = (x - y).pow(2) * weight.to(x.device());
  std::vector<int64_t> axes;
  if (options.batch())
    axes.push_back(0);
  for (int64_t d = 2; d < x.dim(); ++d)
    axes.push_back(d);
  at::Tensor f = err.mean(axes, /*keepdim=*/true); // (B or 1, C, 1, ...)
  return reduce(f, options.reduction());
}

LogHausdorffDTLossImpl::LogHausdorffDTLossImpl(HausdorffDTLossOptions o)
    : HausdorffDTLossImpl(std::move(o), "LogHausdorffDTLoss") {}

at::Tensor LogHausdorffDTLossImpl::forward(const at::Tensor &input, const at::Tensor &target) {
  return at::log(HausdorffDTLossImpl::forward(input, target) + 1);
}

} // namespace med::losses
