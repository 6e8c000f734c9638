// MONAI's partition_dataset: splits a list into partitions by ratios or evenly.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <torch/arg.h>

namespace med::data {

/// Options of partition_dataset (MONAI's names and defaults). Give ratios or num_partitions.
///
///   med::data::PartitionDatasetOptions().ratios({0.8, 0.2}).shuffle(true).seed(0)
struct PartitionDatasetOptions {
  /// Relative sizes: partition k gets int(r_k / sum(r) * n + 0.5) items (the last ones may get
  /// fewer when the sum passes n).
  TORCH_ARG(std::vector<double>, ratios) = {};
  /// Number of even partitions (used when ratios is empty): partition k takes items
  /// k, k + P, k + 2P, ...
  TORCH_ARG(std::optional<int64_t>, num_partitions) = std::nullopt;
  /// Shuffle first with numpy.random.RandomState(seed).shuffle, as MONAI (same order).
  TORCH_ARG(bool, shuffle) = false;
  TORCH_ARG(uint32_t, seed) = 0;
  /// Even split only, needs even_divisible: drop the tail instead of padding, so every
  /// partition gets ceil((n - P) / P) items when P does not divide n.
  TORCH_ARG(bool, drop_last) = false;
  /// Even split only: every partition gets the same count, padding with the first items.
  TORCH_ARG(bool, even_divisible) = false;
};

/// The indices (into a list of n items) of each partition.
std::vector<std::vector<int64_t>> partition_indices(int64_t n, const PartitionDatasetOptions &o);

/// MONAI's partition_dataset on any list.
///
///   auto parts = med::data::partition_dataset(items,
///       med::data::PartitionDatasetOptions().ratios({0.8, 0.2}).shuffle(true));
///   auto train = parts[0], val = parts[1];
template <class T>
std::vector<std::vector<T>> partition_dataset(const std::vector<T> &data,
                                              const PartitionDatasetOptions &o) {
  std::vector<std::vector<T>> out;
  for (const auto &idx : partition_indices(static_cast<int64_t>(data.size()), o)) {
    out.emplace_back();
    for (int64_t i : idx)
      out.back().push_back(data[static_cast<size_t>(i)]);
  }
  return out;
}

} // namespace med::data
