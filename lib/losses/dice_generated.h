// DiceLoss's per-(sample, class) terms on the generated loss kernels (internal to lib/losses).
#pragma once

#include <ATen/core/Tensor.h>

namespace med::losses {
class DiceLossImpl;
}

namespace med::losses::detail {

/// True when DiceLossImpl::dice_terms may run on the generated kernels: a CPU float32/float64
/// input whose dtype the target's promotes to (so the reference's arithmetic stays in the input
/// type), and a target without gradient (the kernels differentiate the input only).
bool generated_dice_applies(const at::Tensor &x, const at::Tensor &y);

/// DiceLossImpl::dice_terms through med.dice_sums (forward) and med.dice_grad (backward) as one
/// torch::autograd::Function: the kernels do the voxel work; the formula over the (B, C) sums,
/// and its derivatives, are ATen on the host. With `sigmoid`, `x` holds logits and the kernels
/// apply the sigmoid. Double backward is not supported through this path.
at::Tensor generated_dice_terms(const DiceLossImpl &loss, const at::Tensor &x, const at::Tensor &y,
                                bool sigmoid);

} // namespace med::losses::detail
