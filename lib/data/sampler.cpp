// DistributedSampler.
#include "med/data/sampler.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "med/core/error.h"

namespace med::data {

std::vector<int64_t> randperm(int64_t n, uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  at::Tensor p = at::randperm(n, gen, at::TensorOptions().dtype(at::kLong));
  const int64_t *v = p.data_ptr<int64_t>();
  return std::vector<int64_t>(v, v + n);
}

DistributedSampler::DistributedSampler(int64_t dataset_size, DistributedSamplerOptions options)
    : n_(dataset_size), o_(options) {
  if (o_.num_replicas() < 1)
    throw Error("DistributedSampler.num_replicas",
                "expected >= 1, got " + std::to_string(o_.num_replicas()));
  if (o_.rank() < 0 || o_.rank() >= o_.num_replicas())
    throw Error("DistributedSampler.rank", "expected a rank in [0, " +
                                               std::to_string(o_.num_replicas()) + "), got " +
                                               std::to_string(o_.rank()));
  if (n_ < 0)
    throw Error("DistributedSampler.dataset", "expected a size >= 0, got " + std::to_string(n_));
  num_samples_ = (n_ + o_.num_replicas() - 1) / o_.num_replicas();
  total_size_ = num_samples_ * o_.num_replicas();
  if (!o_.even_divisible()) {
    if (n_ < o_.num_replicas())
      throw Error("DistributedSampler.even_divisible",
                  "the dataset (" + std::to_string(n_) + " items) is smaller than num_replicas (" +
                      std::to_string(o_.num_replicas()) + "); every rank needs an item");
    int64_t extra = total_size_ - n_;
    if (o_.rank() + extra >= o_.num_replicas())
      num_samples_ -= 1;
    total_size_ = n_;
  }
}

std::vector<int64_t> DistributedSampler::indices() const {
  std::vector<int64_t> order;
  if (o_.shuffle()) {
    order = randperm(n_, o_.seed() + static_cast<uint64_t>(epoch_));
  } else {
    order.resize(n_);
    for (int64_t i = 0; i < n_; ++i)
      order[i] = i;
  }
  // Pad by repeating the order from its start (several times when the padding is longer).
  for (int64_t i = 0; static_cast<int64_t>(order.size()) < total_size_ && n_ > 0; ++i)
    order.push_back(order[i % n_]);
  std::vector<int64_t> out;
  for (int64_t i = o_.rank(); i < total_size_; i += o_.num_replicas())
    out.push_back(order[i]);
  return out;
}

} // namespace med::data
