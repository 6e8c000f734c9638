// DistributedSampler and partition_dataset against hand-computed splits.
#include <ATen/CPUGeneratorImpl.h>

#include <set>

#include "data_test_util.h"

namespace med::data::test {
namespace {

using V = std::vector<int64_t>;
using VV = std::vector<V>;

std::vector<V> shards(int64_t n, int64_t replicas, bool shuffle, bool even, int64_t epoch = 0) {
  std::vector<V> out;
  for (int64_t r = 0; r < replicas; ++r) {
    DistributedSampler s(
        n, DistributedSamplerOptions(replicas, r).shuffle(shuffle).even_divisible(even).seed(4));
    s.set_epoch(epoch);
    out.push_back(s.indices());
    EXPECT_EQ(static_cast<int64_t>(out.back().size()), s.size());
  }
  return out;
}

TEST(DistributedSampler, EvenDivisiblePadsWithTheFirstIndices) {
  // n = 10, 4 ranks: ceil(10 / 4) = 3 each, total 12: order 0..9 then 0, 1 again.
  EXPECT_EQ(shards(10, 4, false, true), (VV{{0, 4, 8}, {1, 5, 9}, {2, 6, 0}, {3, 7, 1}}));
  // Padding longer than the data repeats it: n = 2, 5 ranks.
  EXPECT_EQ(shards(2, 5, false, true), (VV{{0}, {1}, {0}, {1}, {0}}));
}

TEST(DistributedSampler, NotEvenDivisiblePartitionsExactly) {
  // MONAI: the last (total - n) ranks get one index less.
  EXPECT_EQ(shards(10, 4, false, false), (VV{{0, 4, 8}, {1, 5, 9}, {2, 6}, {3, 7}}));
  EXPECT_THROW(DistributedSampler(3, DistributedSamplerOptions(4, 0).even_divisible(false)),
               med::Error);
}

TEST(DistributedSampler, ShuffledShardsAreDisjointAndCoverTheData) {
  for (int64_t epoch : {0, 1}) {
    auto s = shards(23, 3, true, false, epoch);
    std::set<int64_t> all;
    size_t count = 0;
    for (const V &v : s) {
      all.insert(v.begin(), v.end());
      count += v.size();
    }
    EXPECT_EQ(count, 23u);
    EXPECT_EQ(all.size(), 23u);
    EXPECT_EQ(*all.rbegin(), 22);
    // torch's order: randperm(23) under a generator seeded seed + epoch, rank r takes r::3.
    at::Tensor p = at::randperm(23, at::detail::createCPUGenerator(4 + epoch), at::kLong);
    EXPECT_EQ(s[1][2], p[1 + 2 * 3].item<int64_t>());
  }
  EXPECT_NE(shards(23, 3, true, false, 0), shards(23, 3, true, false, 1));
}

TEST(DistributedSampler, OptionErrors) {
  EXPECT_THROW(DistributedSampler(4, DistributedSamplerOptions(0, 0)), med::Error);
  EXPECT_THROW(DistributedSampler(4, DistributedSamplerOptions(2, 2)), med::Error);
}

TEST(PartitionDataset, Ratios) {
  EXPECT_EQ(partition_indices(10, PartitionDatasetOptions().ratios({0.6, 0.2, 0.2})),
            (VV{{0, 1, 2, 3, 4, 5}, {6, 7}, {8, 9}}));
  // int(7 / 3 + 0.5) = 2 items each, the seventh is left out (as MONAI).
  EXPECT_EQ(partition_indices(7, PartitionDatasetOptions().ratios({1, 1, 1})),
            (VV{{0, 1}, {2, 3}, {4, 5}}));
  // numpy.random.RandomState(0).permutation(10) = [2 8 4 9 1 6 7 3 0 5].
  std::vector<std::string> names = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
  auto parts =
      partition_dataset(names, PartitionDatasetOptions().ratios({0.8, 0.2}).shuffle(true).seed(0));
  EXPECT_EQ(parts, (std::vector<std::vector<std::string>>{{"c", "i", "e", "j", "b", "g", "h", "d"},
                                                          {"a", "f"}}));
}

TEST(PartitionDataset, Even) {
  auto even = PartitionDatasetOptions().num_partitions(3);
  EXPECT_EQ(partition_indices(10, even), (VV{{0, 3, 6, 9}, {1, 4, 7}, {2, 5, 8}}));
  EXPECT_EQ(partition_indices(10, PartitionDatasetOptions().num_partitions(3).even_divisible(true)),
            (VV{{0, 3, 6, 9}, {1, 4, 7, 0}, {2, 5, 8, 1}}));
  EXPECT_EQ(
      partition_indices(
          10, PartitionDatasetOptions().num_partitions(3).even_divisible(true).drop_last(true)),
      (VV{{0, 3, 6}, {1, 4, 7}, {2, 5, 8}}));
  EXPECT_EQ(
      partition_indices(10, PartitionDatasetOptions().num_partitions(2).shuffle(true).seed(0)),
      (VV{{2, 4, 1, 7, 0}, {8, 9, 6, 3, 5}}));
  EXPECT_THROW(partition_indices(10, PartitionDatasetOptions().num_partitions(3).drop_last(true)),
               med::Error);
  EXPECT_THROW(partition_indices(2, PartitionDatasetOptions().num_partitions(3)), med::Error);
  EXPECT_THROW(partition_indices(2, PartitionDatasetOptions()), med::Error);
}

} // namespace
} // namespace med::data::test
