// What every segmentation loss shares: MONAI's reduction names, one-hot encoding of label maps,
// and the input preparation (activation, one-hot target, dropping the background channel) that
// DiceLoss, GeneralizedDiceLoss, TverskyLoss and FocalLoss all run before their formula.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <ATen/core/Tensor.h>

namespace med::losses {

/// A user activation applied to the prediction (MONAI's `other_act`), e.g. `at::tanh`.
using Activation = std::function<at::Tensor(const at::Tensor &)>;

/// Checks that `reduction` is one of `allowed` (MONAI's LossReduction values "none", "mean",
/// "sum" by default) and throws med::Error naming `owner`.reduction otherwise, so a typo fails
/// at construction rather than at the first forward.
void check_reduction(const std::string &owner, const std::string &reduction,
                     const std::string &allowed = "none,mean,sum");

/// Applies "mean" (mean of all elements), "sum" (sum of all elements) or "none" (unchanged).
at::Tensor reduce(const at::Tensor &loss, const std::string &reduction);

/// Turns a label map (B, 1, *spatial) of class indices into (B, num_classes, *spatial) float32
/// channels, as MONAI's `one_hot` does (values are truncated to integers first). Throws
/// med::Error naming `owner` when the label map has more than one channel or a label is outside
/// [0, num_classes).
///
///   at::Tensor t = med::losses::one_hot(labels, 3); // (2, 1, 8, 8) -> (2, 3, 8, 8)
at::Tensor one_hot(const at::Tensor &labels, int64_t num_classes,
                   const std::string &owner = "one_hot");

/// The shared preprocessing of the segmentation losses, in MONAI's order: sigmoid / softmax /
/// other_act on the input, one-hot encoding of the target, then removal of channel 0 from both
/// when include_background is false. Single-channel inputs ignore softmax, to_onehot_y and
/// include_background=false with a warning (printed once), as MONAI does.
struct SegInputs {
  at::Tensor input;
  at::Tensor target;
};

/// What to run of the preprocessing; field names follow MONAI's kwargs.
struct SegPrep {
  bool include_background = true;
  bool to_onehot_y = false;
  bool sigmoid = false;
  bool softmax = false;
  Activation other_act = nullptr;
};

/// Runs SegPrep on (input, target); `owner` names the loss in errors and warnings. When
/// `check_shape` is set, throws med::Error unless the prepared target and input have the same
/// shape.
SegInputs prepare_seg(const std::string &owner, const SegPrep &prep, const at::Tensor &input,
                      const at::Tensor &target, bool check_shape = true);

/// Checks MONAI's "at most one of sigmoid, softmax, other_act" rule (med::Error otherwise).
void check_activation(const std::string &owner, const SegPrep &prep);

/// Prints `message` to std::cerr once per process and distinct message (MONAI's warnings).
void warn_once(const std::string &message);

} // namespace med::losses
