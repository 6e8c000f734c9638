// Gathering results from every rank: tensors whose first dimension differs between ranks (each
// rank saw a different number of items) and the buffers of cumulative metrics, so a metric
// aggregated on any rank covers the whole data set.
#pragma once

#include <vector>

#include <ATen/core/Tensor.h>

#include "med/distributed/process_group.h"

namespace med::metrics {
class CumulativeIterationMetric;
}

namespace med::distributed {

/// Every rank's `tensor`, in rank order. The first dimension may differ between ranks (sizes are
/// exchanged first, tensors padded to the largest, gathered, then trimmed); the other dimensions
/// and the dtype must agree (med::Error on every rank otherwise). An undefined tensor stands for
/// "no items on this rank" and comes back as a (0, ...) tensor shaped like the others'. CPU
/// tensors with the "gloo" backend. Not distributed: returns {tensor}.
///
///   auto per_rank = med::distributed::all_gather_tensors(my_predictions);   // size world_size
std::vector<at::Tensor> all_gather_tensors(const at::Tensor &tensor, ProcessGroup group = {});

/// MONAI's evenly_divisible_all_gather: every rank's `tensor` concatenated along dimension 0 in
/// rank order (first dimensions may differ).
at::Tensor evenly_divisible_all_gather(const at::Tensor &tensor, ProcessGroup group = {});

/// Replaces the metric's buffers with the concatenation of every rank's buffers (rank order), so
/// aggregate() on each rank equals one process having seen all the batches. A rank that saw no
/// batch takes part with empty buffers. Call it on every rank, once, before aggregate().
///
///   for (auto &[pred, label] : my_shard) dice(pred, label);
///   med::distributed::all_gather_metric(dice);
///   at::Tensor mean_dice = dice.aggregate();     // the same on every rank
void all_gather_metric(med::metrics::CumulativeIterationMetric &metric, ProcessGroup group = {});

} // namespace med::distributed
