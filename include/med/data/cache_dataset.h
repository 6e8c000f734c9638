// MONAI's caching datasets. Each splits its Compose at the first random step: the deterministic
// prefix (loading included) runs once per item and is kept, in memory or on disk; the random
// suffix runs on every access with the stream (seed, epoch, index) as in Dataset, so a cached
// dataset returns exactly what a plain Dataset returns.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include <torch/arg.h>

#include "med/data/dataset.h"

namespace med::data {

/// Options of CacheDataset (MONAI's defaults).
///
///   med::data::CacheDatasetOptions().cache_rate(0.5).num_workers(2)
struct CacheDatasetOptions {
  /// At most this many items are cached (the first ones).
  TORCH_ARG(int64_t, cache_num) = std::numeric_limits<int64_t>::max();
  /// At most this fraction of the items (int(n * cache_rate)) is cached.
  TORCH_ARG(double, cache_rate) = 1.0;
  /// Threads that fill the cache.
  TORCH_ARG(int64_t, num_workers) = 1;
  /// Shows "Loading dataset: k/n" on stderr while filling, when stderr is a terminal.
  TORCH_ARG(bool, progress) = true;
};

/// MONAI's CacheDataset: runs the deterministic prefix of items [0, cache_num) when constructed
/// (on num_workers threads) and keeps the results in memory; items past cache_num are computed
/// on access as in Dataset.
///
///   med::data::CacheDataset ds(items, T::Compose({T::EnsureChannelFirstd({"image"}),
///                                               T::ScaleIntensityd({"image"}),
///                                               T::RandFlipd({"image"}, ...)}),
///                              med::data::CacheDatasetOptions().num_workers(2));
class CacheDataset : public Dataset {
public:
  CacheDataset(std::vector<Item> data, Pipeline transform, CacheDatasetOptions options = {},
               Loader loader = loadItem);
  Data get(int64_t index, const rt::RandomKey &key) const override;
  using Dataset::get;
  /// Number of cached items.
  int64_t cache_num() const { return static_cast<int64_t>(cache_->size()); }

protected:
  /// For subclasses that fill the cache themselves.
  CacheDataset(std::vector<Item> data, Pipeline transform, Loader loader);
  /// Loader then deterministic prefix of item `index` (what the cache holds).
  Data deterministic(int64_t index) const;
  std::shared_ptr<std::vector<Data>> cache_;
  Pipeline prefix_, suffix_;
};

/// Options of PersistentDataset.
struct PersistentDatasetOptions {
  /// Folder of the cache files (created if missing).
  PersistentDatasetOptions(std::string cache_dir) : cache_dir_(std::move(cache_dir)) {}
  TORCH_ARG(std::string, cache_dir);
  /// Extra text hashed into every key: change it when a host transform's parameters or the
  /// loader change, since those are not seen by the automatic fingerprint (docs/data.md).
  TORCH_ARG(std::string, hash_transform) = "";
};

/// MONAI's PersistentDataset: the deterministic prefix's output of each item is stored in
/// cache_dir, one file per item, under a key that hashes the prefix (transforms and parameters)
/// and the item (each path with its file size and modification time, in-memory values). A file
/// whose header, size or checksum is wrong (corrupt, from another version, or from another key)
/// is recomputed and rewritten; writes go to a temporary file renamed into place. The file
/// format is Medulla's own (docs/data.md); tensors come back on the CPU.
///
///   med::data::PersistentDataset ds(items, pipeline,
///                                   med::data::PersistentDatasetOptions("/tmp/cache"));
class PersistentDataset : public Dataset {
public:
  PersistentDataset(std::vector<Item> data, Pipeline transform, PersistentDatasetOptions options,
                    Loader loader = loadItem);
  Data get(int64_t index, const rt::RandomKey &key) const override;
  using Dataset::get;
  /// The cache file of item `index` (whether or not it exists yet).
  std::string cachePath(int64_t index) const;

private:
  PersistentDatasetOptions o_;
  Pipeline prefix_, suffix_;
  std::string prefixDigest_;
};

/// Options of SmartCacheDataset (MONAI's defaults).
struct SmartCacheDatasetOptions {
  /// Fraction of the cache replaced by update_cache(): ceil(cache_num * replace_rate) items.
  TORCH_ARG(double, replace_rate) = 0.1;
  TORCH_ARG(int64_t, cache_num) = std::numeric_limits<int64_t>::max();
  TORCH_ARG(double, cache_rate) = 1.0;
  TORCH_ARG(int64_t, num_init_workers) = 1;
  TORCH_ARG(int64_t, num_replace_workers) = 1;
  TORCH_ARG(bool, progress) = true;
  /// Shuffle the items once, when constructed (numpy's RandomState(seed).shuffle, as MONAI).
  TORCH_ARG(bool, shuffle) = true;
  TORCH_ARG(uint64_t, seed) = 0;
};

/// MONAI's SmartCacheDataset: a window of cache_num items (size() == cache_num) that slides
/// through the data. start() begins preparing the next replace_num items on a background
/// thread; update_cache() (once per epoch, after start()) waits for them, drops the replace_num
/// oldest items and appends the new ones; shutdown() stops the thread. Copies share the cache.
///
///   med::data::SmartCacheDataset ds(items, pipeline,
///       med::data::SmartCacheDatasetOptions().cache_num(8).replace_rate(0.25));
///   ds.start();
///   for (...) { train_one_epoch(ds); ds.update_cache(); }
///   ds.shutdown();
class SmartCacheDataset : public CacheDataset {
public:
  SmartCacheDataset(std::vector<Item> data, Pipeline transform,
                    SmartCacheDatasetOptions options = {}, Loader loader = loadItem);
  int64_t size() const override;
  Data get(int64_t index, const rt::RandomKey &key) const override;
  using Dataset::get;
  void start();
  void update_cache();
  void shutdown();
  /// Items replaced per update.
  int64_t replace_num() const;
  /// Dataset index (into items()) of cache slot `slot`.
  int64_t itemIndex(int64_t slot) const;

  struct State;

private:
  std::shared_ptr<State> state_;
};

} // namespace med::data
