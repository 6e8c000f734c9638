// Generated loss kernels: the voxel work of a loss as `med` ops (the Dice, focal and
// HausdorffDTLoss sums forward and gradients backward, and the softmax forms over an item's
// channels; GWDL's are in med/kernels/wasserstein.h) compiled through the JIT and its disk cache
// and launched over fixed blocks of each (item, class) slab, or of each item for the softmax
// forms. The formula over the sums, and its derivatives, stay on the host (lib/losses); see
// docs/architecture.md.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace med::kernels {

/// Dice sums of `input` against `target` cut into `slabs` equal consecutive slabs (B * C for a
/// (B, C, *spatial) pair): a (slabs, 3) float64 tensor [sum p t, sum p, sum t] per slab, or
/// [sum p t, sum p p, sum t t] with `squared`, where p = sigmoid(x) with `sigmoid`, else x.
/// Products are formed in the input dtype and summed in it over groups of 1024 elements (64 per
/// lane), the group sums in float64 folded in block order (the same for any thread count). Both
/// tensors: contiguous CPU float32 or float64 of one dtype and size.
///
///   at::Tensor s = med::kernels::dice_sums(logits, onehot, B * C, true, false, 1, "DiceLoss");
at::Tensor dice_sums(const at::Tensor &input, const at::Tensor &target, int64_t slabs, bool sigmoid,
                     bool squared, int threads, const std::string &owner);

/// The gradient of a Dice-type loss with respect to `input`, given per slab the loss's
/// derivatives with respect to that slab's sums: `coefficients` is (slabs, 2) float64
/// [d loss / d sum p t, d loss / d sum p (or sum p p)]. Same layout rules as dice_sums; the
/// result is a new contiguous tensor shaped like `input`.
at::Tensor dice_grad(const at::Tensor &input, const at::Tensor &target,
                     const at::Tensor &coefficients, bool sigmoid, bool squared, int threads,
                     const std::string &owner);

/// Softmax Dice sums of `logits` (B, C, *spatial), C >= 2, against `target`: a (B, 1, *spatial)
/// label map (a value v stands for the one-hot vector of class trunc(v), as MONAI's one_hot; a
/// value outside (-1, C) or NaN for no class) or (B, C, *spatial) per-class targets, of the
/// logits' dtype. With p the softmax over the channels: a (B, 3, C) float64 tensor holding per
/// item and class [sum p t, sum p (or p p), sum t (or t t)]. Sums fold in block order, so they
/// do not depend on the thread count. With a label map, an item's ground sums add up to its
/// voxel count exactly when every label names a class.
///
///   at::Tensor s = med::kernels::softmax_dice_sums(logits, labels, false, 1, "DiceLoss");
at::Tensor softmax_dice_sums(const at::Tensor &logits, const at::Tensor &target, bool squared,
                             int threads, const std::string &owner);

/// The gradient of a softmax Dice-type loss with respect to the logits, given per item and class
/// the loss's derivatives with respect to the sums: `coefficients` is (B, 2, C) float64
/// [d loss / d sum p t, d loss / d sum p (or sum p p)]. Same operands as softmax_dice_sums; the
/// result is a new contiguous tensor shaped like the logits.
at::Tensor softmax_dice_grad(const at::Tensor &logits, const at::Tensor &target,
                             const at::Tensor &coefficients, bool squared, int threads,
                             const std::string &owner);

/// Sigmoid focal sums of `input` (logits) against `target` cut into `slabs` equal consecutive
/// slabs: a (slabs) float64 tensor holding per slab the sum of MONAI's sigmoid focal term
/// (BCE-with-logits times exp(gamma logsigmoid(-x (2 t - 1))), times t alpha + (1 - t)
/// (1 - alpha) with `alpha`), formed in the input dtype (FocalLoss passes float32) and summed
/// over groups of 1024 elements in it, the group sums in float64 folded in block order. Both
/// tensors: contiguous CPU float32 or float64 of one dtype and size.
///
///   at::Tensor s = med::kernels::focal_sums(logits, onehot, B * C, 2.0, 0.25, 1, "FocalLoss");
at::Tensor focal_sums(const at::Tensor &input, const at::Tensor &target, int64_t slabs,
                      double gamma, std::optional<double> alpha, int threads,
                      const std::string &owner);

/// The gradient of a sigmoid focal loss with respect to `input`, given per slab the loss's
/// derivative with respect to that slab's focal sum (`coefficients`: (slabs) float64). Same
/// layout rules and parameters as focal_sums; a new contiguous tensor shaped like `input`.
at::Tensor focal_grad(const at::Tensor &input, const at::Tensor &target,
                      const at::Tensor &coefficients, double gamma, std::optional<double> alpha,
                      int threads, const std::string &owner);

/// Softmax focal sums of `logits` (B, C, *spatial) against `target`, over the classes `first`
/// .. C - 1 (MONAI drops the background before its softmax, so the softmax runs over those
/// channels only): with l the log softmax over them and p = exp(l), a (B, C - first) float64
/// tensor of per-class sums of -(1 - p)^gamma l t. `target`: a (B, 1, *spatial) label map of the
/// logits' dtype (class trunc(v), as MONAI's one_hot) or (B, C, *spatial) per-class targets
/// (channels from `first` on are read). With a label map one more column follows: the number of
/// voxels whose label names a class in [0, C), which is the item's voxel count exactly when
/// every label is valid. Sums fold in block order (the same for any thread count).
///
///   at::Tensor s = med::kernels::softmax_focal_sums(logits, labels, 0, 2.0, 1, "FocalLoss");
at::Tensor softmax_focal_sums(const at::Tensor &logits, const at::Tensor &target, int64_t first,
                              double gamma, int threads, const std::string &owner);

/// The gradient of a softmax focal loss with respect to the logits, given per item and kept
/// class the loss's derivative with respect to that class sum (`coefficients`: (B, C - first)
/// float64). Same operands as softmax_focal_sums; a new contiguous tensor shaped like the
/// logits, zero in the channels before `first`.
at::Tensor softmax_focal_grad(const at::Tensor &logits, const at::Tensor &target,
                              const at::Tensor &coefficients, int64_t first, double gamma,
                              int threads, const std::string &owner);

/// FocalLoss's map for reduction "none", sigmoid form: per element of `input` (logits) and
/// `target` (cut into `slabs` equal slabs, as focal_sums) the focal term of focal_sums times its
/// slab's coefficient (`coefficients`: (slabs) float64, the class weight), formed in the input
/// dtype: a new contiguous tensor like `input`.
///
///   at::Tensor m = med::kernels::focal_terms(logits, onehot, w, 2.0, 0.25, 1, "FocalLoss");
at::Tensor focal_terms(const at::Tensor &input, const at::Tensor &target,
                       const at::Tensor &coefficients, double gamma, std::optional<double> alpha,
                       int threads, const std::string &owner);

/// The gradient of focal_terms' map with respect to `input`, given the map's incoming gradient
/// `upstream` (contiguous, like `input`): per element upstream times the slab's coefficient
/// times the term's derivative.
at::Tensor focal_terms_grad(const at::Tensor &input, const at::Tensor &target,
                            const at::Tensor &upstream, const at::Tensor &coefficients,
                            double gamma, std::optional<double> alpha, int threads,
                            const std::string &owner);

/// FocalLoss's map for reduction "none", softmax form: with the operands of softmax_focal_sums,
/// per voxel and kept class c (first .. C - 1) the focal term times `coefficients[c - first]`
/// (the class weight and alpha factor): a new contiguous (B, C - first, *spatial) tensor.
at::Tensor softmax_focal_terms(const at::Tensor &logits, const at::Tensor &target,
                               const std::vector<double> &coefficients, int64_t first, double gamma,
                               int threads, const std::string &owner);

/// The gradient of softmax_focal_terms' map with respect to the logits, given its incoming
/// gradient `upstream` (contiguous (B, C - first, *spatial), the logits' dtype): a new
/// contiguous tensor like the logits (channels before `first` zero).
at::Tensor softmax_focal_terms_grad(const at::Tensor &logits, const at::Tensor &target,
                                    const at::Tensor &upstream,
                                    const std::vector<double> &coefficients, int64_t first,
                                    double gamma, int threads, const std::string &owner);

/// HausdorffDTLoss's sums: per slab of `input` and `target` (cut into `slabs` equal slabs, as
/// dice_sums) with the distance fields `inputField` and `targetField` of the same layout (all
/// four contiguous CPU float32/float64 of one dtype), the sum of (x - t)^2 (f_x^alpha +
/// f_t^alpha) formed in that dtype, summed over groups of 1024 elements in it, the group sums
/// in float64 in block order: a (slabs) float64 tensor.
///
///   at::Tensor s = med::kernels::hausdorff_dt_sums(p, t, fp, ft, B * C, 2.0, 1,
///   "HausdorffDTLoss");
at::Tensor hausdorff_dt_sums(const at::Tensor &input, const at::Tensor &target,
                             const at::Tensor &inputField, const at::Tensor &targetField,
                             int64_t slabs, double alpha, int threads, const std::string &owner);

/// The gradient with respect to `input` of a loss over hausdorff_dt_sums, given per slab its
/// derivative with respect to the slab's sum (`coefficients`: (slabs) float64): coefficient *
/// 2 (x - t) (f_x^alpha + f_t^alpha) per element (the fields carry no gradient).
at::Tensor hausdorff_dt_grad(const at::Tensor &input, const at::Tensor &target,
                             const at::Tensor &inputField, const at::Tensor &targetField,
                             const at::Tensor &coefficients, double alpha, int threads,
                             const std::string &owner);

} // namespace med::kernels
