// GeneralizedWassersteinDiceLoss on the generated kernels med.wasserstein_sums and
// med.wasserstein_grad, and the ATen form of the same loss (internal to lib/losses;
// docs/losses.md, "GeneralizedWassersteinDiceLoss on generated kernels").
#pragma once

#include <ATen/core/Tensor.h>

namespace med::losses::detail {

/// The loss's settings past the distance matrix.
struct WassersteinPlan {
  at::Tensor matrix; ///< (C, C) float32, largest entry 1
  bool gdl = false;  ///< weighting_mode "GDL" (else "default")
  double smoothNr = 1e-5, smoothDr = 1e-5;
};

/// The per-item loss (B) in ATen from logits (B, C, *spatial) and int64 labels (B, N), labels
/// already checked to lie in [0, C): MONAI's formula as an autograd graph.
at::Tensor wasserstein_dice_eager(const WassersteinPlan &plan, const at::Tensor &input,
                                  const at::Tensor &labels);

/// The per-item loss (B) through the generated kernels: per item and class the labelled voxels
/// and their summed Wasserstein distances from med.wasserstein_sums, the loss over them on the
/// host in float64, the backward through med.wasserstein_grad, in one
/// torch::autograd::Function. Returns an undefined tensor where the kernels do not apply
/// (logits not float32/float64 on the CPU, an empty input, a target that needs a gradient or
/// is not a label map of one value per voxel). Throws med::Error naming
/// GeneralizedWassersteinDiceLoss.target for labels outside [0, C). A backward with
/// create_graph differentiates wasserstein_dice_eager instead, so double backward works.
at::Tensor wasserstein_dice_generated(const WassersteinPlan &plan, const at::Tensor &input,
                                      const at::Tensor &target);

} // namespace med::losses::detail
