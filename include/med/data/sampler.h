// Samplers: which dataset indices a DataLoader visits in an epoch, and in which order.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/arg.h>

namespace med::data {

/// What a DataLoader asks of a sampler (torch's Sampler, with set_epoch).
class Sampler {
public:
  virtual ~Sampler() = default;
  /// Number of indices per epoch.
  virtual int64_t size() const = 0;
  /// The indices of the current epoch, in visiting order.
  virtual std::vector<int64_t> indices() const = 0;
  virtual void set_epoch(int64_t epoch) = 0;
};

/// Options of DistributedSampler (MONAI's defaults: shuffle, even_divisible).
///
///   med::data::DistributedSamplerOptions(4, rank).shuffle(false).even_divisible(false)
struct DistributedSamplerOptions {
  DistributedSamplerOptions(int64_t num_replicas, int64_t rank)
      : num_replicas_(num_replicas), rank_(rank) {}
  TORCH_ARG(int64_t, num_replicas);
  TORCH_ARG(int64_t, rank);
  TORCH_ARG(bool, shuffle) = true;
  TORCH_ARG(uint64_t, seed) = 0;
  /// true: every rank gets ceil(n / num_replicas) indices, the first ones repeated to fill up
  /// (torch); false: the shards partition the dataset exactly, some ranks get one index less.
  TORCH_ARG(bool, even_divisible) = true;
};

/// MONAI's DistributedSampler: rank r of R visits indices r, r + R, r + 2R, ... of the epoch's
/// order. With shuffle the order is torch.randperm(n) under a CPU generator seeded with
/// seed + epoch, exactly as torch's DistributedSampler, so ranks agree without communicating.
///
///   auto s = std::make_shared<med::data::DistributedSampler>(ds.size(),
///                med::data::DistributedSamplerOptions(world, rank));
///   med::data::DataLoader loader(ds, med::data::DataLoaderOptions().batch_size(2).sampler(s));
class DistributedSampler : public Sampler {
public:
  DistributedSampler(int64_t dataset_size, DistributedSamplerOptions options);
  int64_t size() const override { return num_samples_; }
  std::vector<int64_t> indices() const override;
  void set_epoch(int64_t epoch) override { epoch_ = epoch; }
  const DistributedSamplerOptions &options() const { return o_; }

private:
  int64_t n_;
  DistributedSamplerOptions o_;
  int64_t num_samples_;
  int64_t total_size_;
  int64_t epoch_ = 0;
};

/// MONAI/torch's order of a shuffled epoch: torch.randperm(n, generator=manual_seed(seed)).
std::vector<int64_t> randperm(int64_t n, uint64_t seed);

} // namespace med::data
