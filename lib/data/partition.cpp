// partition_dataset and numpy's seeded shuffle.
#include <random>

#include "data_internal.h"
#include "med/core/error.h"
#include "med/data/utils.h"

namespace med::data {

namespace detail {

void numpyShuffle(std::vector<int64_t> &v, uint32_t seed) {
  // RandomState(seed) seeds MT19937 with init_genrand(seed), as std::mt19937(seed). shuffle
  // walks i = n-1 .. 1 and swaps i with j uniform in [0, i], drawn by masking 32-bit outputs to
  // the smallest 2^k - 1 >= i and rejecting values above i.
  std::mt19937 mt(seed);
  for (size_t i = v.size(); i-- > 1;) {
    uint32_t max = static_cast<uint32_t>(i), mask = max;
    for (int s = 1; s < 32; s <<= 1)
      mask |= mask >> s;
    uint32_t j;
    do {
      j = static_cast<uint32_t>(mt()) & mask;
    } while (j > max);
    std::swap(v[i], v[j]);
  }
}

} // namespace detail

std::vector<std::vector<int64_t>> partition_indices(int64_t n, const PartitionDatasetOptions &o) {
  std::vector<int64_t> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    idx[i] = i;
  if (o.shuffle())
    detail::numpyShuffle(idx, o.seed());
  std::vector<std::vector<int64_t>> out;
  if (!o.ratios().empty()) {
    double sum = 0;
    for (double r : o.ratios()) {
      if (!(r >= 0))
        throw Error("partition_dataset.ratios", "expected ratios >= 0, got " + std::to_string(r));
      sum += r;
    }
    if (!(sum > 0))
      throw Error("partition_dataset.ratios", "expected a positive sum of ratios");
    int64_t next = 0;
    for (double r : o.ratios()) {
      int64_t start = next;
      next = std::min<int64_t>(start + static_cast<int64_t>(r / sum * n + 0.5), n);
      out.emplace_back(idx.begin() + start, idx.begin() + next);
    }
    return out;
  }
  if (!o.num_partitions())
    throw Error("partition_dataset", "expected ratios or num_partitions");
  int64_t p = *o.num_partitions();
  if (p < 1)
    throw Error("partition_dataset.num_partitions", "expected >= 1, got " + std::to_string(p));
  if (!o.even_divisible() && o.drop_last())
    throw Error("partition_dataset.drop_last", "drop_last needs even_divisible true");
  if (n < p)
    throw Error("partition_dataset.num_partitions",
                "expected at most as many partitions as items (" + std::to_string(n) + "), got " +
                    std::to_string(p));
  int64_t per = (o.drop_last() && n % p != 0) ? (n - p + p - 1) / p : (n + p - 1) / p;
  int64_t total = o.even_divisible() ? per * p : n;
  if (!o.drop_last() && total > n) {
    for (int64_t i = 0; i < total - n; ++i)
      idx.push_back(idx[static_cast<size_t>(i)]);
  } else {
    idx.resize(static_cast<size_t>(total));
  }
  for (int64_t k = 0; k < p; ++k) {
    out.emplace_back();
    for (int64_t i = k; i < total; i += p)
      out.back().push_back(idx[static_cast<size_t>(i)]);
  }
  return out;
}

} // namespace med::data
