// MONAI's DataLoader and ThreadDataLoader, on threads. Item i of epoch e is always transformed
// with the random stream (seed, e, i): batches do not depend on num_workers, prefetch or timing.
#pragma once

#include <cstdint>
#include <iterator>
#include <memory>
#include <type_traits>

#include <torch/arg.h>

#include "med/data/collate.h"
#include "med/data/dataset.h"
#include "med/data/sampler.h"

namespace med::data {

/// Options of DataLoader (MONAI/torch names and defaults).
///
///   med::data::DataLoaderOptions().batch_size(2).shuffle(true).num_workers(3).seed(7)
struct DataLoaderOptions {
  TORCH_ARG(int64_t, batch_size) = 1;
  /// Visit the dataset in the order torch.randperm(n) under a generator seeded seed + epoch.
  TORCH_ARG(bool, shuffle) = false;
  /// Threads that load and transform batches; 0 loads in the iterating thread.
  TORCH_ARG(int64_t, num_workers) = 0;
  /// Drop the last batch when it is smaller than batch_size.
  TORCH_ARG(bool, drop_last) = false;
  /// Batches each worker may prepare ahead of the consumer (torch's prefetch_factor).
  TORCH_ARG(int64_t, prefetch_factor) = 2;
  /// Copies batches to page-locked memory when CUDA is available; a no-op on CPU-only builds.
  TORCH_ARG(bool, pin_memory) = false;
  /// Seed of the shuffle order and of every random transform (stream (seed, epoch, index)).
  TORCH_ARG(uint64_t, seed) = 0;
  /// Visits the sampler's indices instead of 0..n-1 (with shuffle false, as in torch).
  TORCH_ARG(std::shared_ptr<Sampler>, sampler) = nullptr;
};

class DataLoader;

namespace detail {
struct Epoch;
}

/// Input iterator over the batches of one epoch; the loader's workers run ahead of it.
class BatchIterator {
public:
  using iterator_category = std::input_iterator_tag;
  using value_type = Batch;
  using difference_type = std::ptrdiff_t;
  using pointer = const Batch *;
  using reference = const Batch &;

  BatchIterator() = default;
  const Batch &operator*() const { return current_; }
  const Batch *operator->() const { return &current_; }
  BatchIterator &operator++();
  bool operator==(const BatchIterator &o) const { return done() == o.done(); }
  bool operator!=(const BatchIterator &o) const { return !(*this == o); }

private:
  friend class DataLoader;
  explicit BatchIterator(std::shared_ptr<detail::Epoch> e);
  bool done() const { return !epoch_; }
  void fetch();
  std::shared_ptr<detail::Epoch> epoch_;
  int64_t pos_ = 0;
  Batch current_;
};

/// MONAI's DataLoader: batches of list_data_collate'd items. The contract used by the engines:
/// size() batches per epoch, begin()/end(), set_epoch() before each epoch (it sets the shuffle
/// order, the sampler's epoch and the random streams; it does not advance by itself).
///
///   med::data::DataLoader loader(ds, med::data::DataLoaderOptions().batch_size(2).num_workers(3));
///   for (int64_t e = 0; e < epochs; ++e) {
///     loader.set_epoch(e);
///     for (const med::data::Batch &b : loader) net->forward(b.at("image").data);
///   }
class DataLoader {
public:
  DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options = {});
  /// Copies `dataset` (datasets share their items and caches, so this is cheap).
  template <class D, class = std::enable_if_t<std::is_base_of_v<Dataset, std::decay_t<D>>>>
  DataLoader(D &&dataset, DataLoaderOptions options = {})
      : DataLoader(std::make_shared<const std::decay_t<D>>(std::forward<D>(dataset)),
                   std::move(options)) {}
  virtual ~DataLoader() = default;

  /// Batches per epoch.
  int64_t size() const;
  BatchIterator begin() const;
  BatchIterator end() const { return BatchIterator(); }
  void set_epoch(int64_t epoch);
  int64_t epoch() const { return epoch_; }
  const Dataset &dataset() const { return *dataset_; }
  const DataLoaderOptions &options() const { return o_; }

protected:
  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions o_;
  int64_t epoch_ = 0;
  int64_t threads_; ///< producer threads
  int64_t window_;  ///< batches that may be ready ahead of the consumer
  int64_t repeats_ = 1;
};

/// Options of ThreadDataLoader beyond DataLoader's (MONAI's names and defaults).
struct ThreadDataLoaderOptions {
  /// Batches the background thread keeps ready (with num_workers 0).
  TORCH_ARG(int64_t, buffer_size) = 1;
  /// Yields every batch this many times in a row (to reuse a batch on a fast GPU).
  TORCH_ARG(int64_t, repeats) = 1;
};

/// MONAI's ThreadDataLoader: a DataLoader that prepares batches on a background thread even with
/// num_workers 0 (the usual choice after a CacheDataset, whose random suffix is cheap), and can
/// repeat batches.
///
///   med::data::ThreadDataLoader loader(cached, med::data::DataLoaderOptions().batch_size(4),
///                                      med::data::ThreadDataLoaderOptions().repeats(2));
class ThreadDataLoader : public DataLoader {
public:
  ThreadDataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options = {},
                   ThreadDataLoaderOptions thread_options = {});
  template <class D, class = std::enable_if_t<std::is_base_of_v<Dataset, std::decay_t<D>>>>
  ThreadDataLoader(D &&dataset, DataLoaderOptions options = {},
                   ThreadDataLoaderOptions thread_options = {})
      : ThreadDataLoader(std::make_shared<const std::decay_t<D>>(std::forward<D>(dataset)),
                         std::move(options), thread_options) {}
};

} // namespace med::data
