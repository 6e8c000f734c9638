// The cumulative metric protocol shared by every metric (MONAI's CumulativeIterationMetric):
// call the metric once per batch, it keeps the per-item results in a buffer; aggregate() reduces
// the whole buffer; reset() starts a new epoch. Also the reductions and the input checks.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

namespace med::metrics {

/// Reduces a (B, C, ...) metric buffer as MONAI's do_metric_reduction does: nan entries are
/// skipped (set to 0 and not counted). `reduction` is one of "none", "mean", "sum",
/// "mean_batch", "sum_batch", "mean_channel", "sum_channel". "mean" averages over classes per
/// item first, then over the items that have at least one non-nan class. Returns
/// (reduced, not_nans), where not_nans counts the entries that contributed.
///
///   auto [f, n] = med::metrics::do_metric_reduction(buffer, "mean_batch");
std::pair<at::Tensor, at::Tensor>
do_metric_reduction(const at::Tensor &f, const std::string &reduction,
                    const std::string &owner = "do_metric_reduction");

/// Throws med::Error naming `owner`.reduction unless `reduction` is one of MONAI's names.
void check_reduction(const std::string &reduction, const std::string &owner);

/// The base of every metric: the buffer and the per-batch call. Subclasses implement compute(),
/// which turns one batch into the tensors to keep (most metrics keep one (B, C) tensor; ROC AUC
/// keeps predictions and labels).
///
///   med::metrics::DiceMetric dice;                 // any metric
///   for (auto &[pred, label] : batches) dice(pred, label);
///   at::Tensor mean_dice = dice.aggregate();
///   dice.reset();
class CumulativeIterationMetric {
public:
  virtual ~CumulativeIterationMetric() = default;

  /// Computes the metric of one batch, appends it to the buffer and returns it (first buffer).
  at::Tensor operator()(const at::Tensor &y_pred, const at::Tensor &y);
  /// Empties the buffer (start of a new epoch).
  void reset();
  /// Every batch so far, concatenated along the batch dimension (first buffer). Throws
  /// med::Error when nothing has been accumulated.
  at::Tensor get_buffer() const;
  /// All buffers concatenated (ROC AUC keeps two: y_pred and y).
  std::vector<at::Tensor> get_buffers() const;
  /// The MONAI class name, used in error messages.
  const std::string &name() const { return name_; }
  /// Replaces the buffers (one list of tensors per buffer, concatenated along dim 0 on read), e.g.
  /// with every rank's results so aggregate() covers all data
  /// (med::distributed::all_gather_metric).
  void set_buffers(std::vector<std::vector<at::Tensor>> buffers);

protected:
  explicit CumulativeIterationMetric(std::string name) : name_(std::move(name)) {}
  /// One batch -> the tensors to append (one per buffer).
  virtual std::vector<at::Tensor> compute(const at::Tensor &y_pred, const at::Tensor &y) = 0;
  /// Appends tensors returned by compute() and returns the first.
  at::Tensor append(std::vector<at::Tensor> parts);

  std::string name_;

private:
  std::vector<std::vector<at::Tensor>> buffers_;
};

/// A metric whose buffer is a (B, C, ...) tensor reduced by do_metric_reduction (Dice, IoU,
/// distances, regression, SSIM). MONAI's `get_not_nans=True` returns a tuple; in C++ call
/// aggregate_with_not_nans() instead (the option is kept so MONAI configs read the same).
class ReducedMetric : public CumulativeIterationMetric {
public:
  /// The reduced buffer; `reduction` overrides the metric's own when not empty.
  at::Tensor aggregate(const std::string &reduction = "") const;
  /// (reduced buffer, number of non-nan entries that contributed).
  std::pair<at::Tensor, at::Tensor>
  aggregate_with_not_nans(const std::string &reduction = "") const;

protected:
  ReducedMetric(std::string name, std::string reduction);
  std::string reduction_;
};

namespace detail {
/// Throws unless `t` is defined and free of nan (`what` is "y_pred" or "y").
void check_finite_input(const at::Tensor &t, const std::string &owner, const std::string &what);
/// Throws unless every value of `t` is 0 or 1.
void check_binary(const at::Tensor &t, const std::string &owner, const std::string &what);
/// Throws unless y_pred and y have the same shape and at least `min_dims` dimensions.
void check_same_shape(const at::Tensor &y_pred, const at::Tensor &y, const std::string &owner,
                      int64_t min_dims);
/// One pass over same-shaped (B, C, *spatial) y_pred and y: (B, C, 3) float64 counts
/// [|P and Y|, |P|, |Y|] (nonzero = set), throwing med::Error (owner.y_pred / owner.y) for nan or,
/// when `binary`, values other than 0 and 1. Counted by the generated med.overlap_counts kernel
/// (med/kernels/reductions.h) on at::get_num_threads() threads.
at::Tensor overlap_counts(const at::Tensor &y_pred, const at::Tensor &y, const std::string &owner,
                          bool binary);
/// Drops channel 0 (MONAI's ignore_background) when `include_background` is false and there is
/// more than one channel.
at::Tensor drop_background(const at::Tensor &t, bool include_background);
} // namespace detail

} // namespace med::metrics
