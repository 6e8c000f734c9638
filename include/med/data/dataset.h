// MONAI's Dataset: a list of items (file paths and in-memory values) turned into med::Data by a
// loader and a dictionary Compose. Every random draw of item i in epoch e comes from the stream
// (seed, e, i), so a DataLoader gives the same samples whatever its worker count.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "med/core/dict.h"
#include "med/runtime/rng.h"
#include "med/transforms/compose.h"

namespace med::data {

/// One element of a dataset (MONAI's dict of a datalist): image paths the loader reads, values
/// already in memory (class labels as 0-d tensors, ...), and other text fields kept as is.
///
///   med::data::Item it{{{"image", "img0.nii.gz"}, {"label", "seg0.nii.gz"}}};
///   med::data::Item cls({{"image", "a.png"}}, {{"label", med::MetaTensor(at::scalar_tensor(2))}});
struct Item {
  std::map<std::string, std::string> paths; ///< key -> image file, read by the loader
  Data data;                                ///< key -> value already in memory
  std::map<std::string, std::string> text;  ///< other string fields (not loaded)

  Item() = default;
  Item(std::map<std::string, std::string> p, Data d = {}, std::map<std::string, std::string> t = {})
      : paths(std::move(p)), data(std::move(d)), text(std::move(t)) {}
  Item(Data d) : data(std::move(d)) {}
};

/// Turns an Item into med::Data (the part of MONAI's LoadImaged the Compose cannot hold here).
using Loader = std::function<Data(const Item &)>;

/// The default loader: med::io::LoadImaged (float32) on every key of item.paths, merged with
/// item.data (a key in both throws med::Error).
Data loadItem(const Item &item);

/// What a dataset applies to each loaded item: a dictionary Compose, run eagerly or compiled for
/// a schedule (the results are the same). Knows where the deterministic prefix ends, which is
/// what CacheDataset caches.
///
///   med::data::Pipeline p(T::Compose({...}), T::Schedule::cpu());   // compiled
///   med::data::Pipeline e(T::Compose({...}));                       // eager reference
class Pipeline {
public:
  /// The identity.
  Pipeline() = default;
  Pipeline(transforms::Compose compose);
  Pipeline(transforms::Compose compose, transforms::Schedule schedule);

  /// Runs every step on `data`; random steps draw from (key.seed, key.epoch, key.sample, their
  /// index in the original Compose).
  Data operator()(const Data &data, const rt::RandomKey &key) const;
  /// Index of the first random step (a med::transforms::RandomTransform), or the number of
  /// steps when none is random.
  size_t firstRandom() const;
  /// The steps before the first random one, and the rest; both keep each step's index, so
  /// suffix()(prefix()(d, k), k) == (*this)(d, k).
  Pipeline prefix() const;
  Pipeline suffix() const;
  /// A digest of the steps (names, keys, traced parameters), used by PersistentDataset. Host
  /// transforms contribute their name and keys only; see docs/data.md.
  std::string fingerprint() const;
  bool empty() const { return !compose_ || compose_->steps().empty(); }
  const std::optional<transforms::Compose> &compose() const { return compose_; }

private:
  Pipeline(transforms::Compose compose, std::optional<transforms::Schedule> schedule);
  std::optional<transforms::Compose> compose_;
  std::optional<transforms::Schedule> schedule_;
  std::optional<transforms::CompiledPipeline> compiled_;
};

/// MONAI's Dataset: item i is loaded and transformed when asked for.
///
///   med::data::Dataset ds(items, T::Compose({T::ScaleIntensityd({"image"}), ...}));
///   med::Data d = ds.get(0);                                  // seed 0, epoch 0
///   med::Data r = ds.get(3, med::rt::RandomKey{42, 1, 3});    // seed 42, epoch 1, item 3
class Dataset {
public:
  Dataset(std::vector<Item> data, Pipeline transform = {}, Loader loader = loadItem);
  virtual ~Dataset() = default;
  virtual int64_t size() const { return static_cast<int64_t>(data_->size()); }
  /// Item `index` with random draws from `key` (key.sample is normally `index`).
  virtual Data get(int64_t index, const rt::RandomKey &key) const;
  /// Item `index` with the stream (seed 0, epoch 0, index).
  Data get(int64_t index) const { return get(index, rt::RandomKey{0, 0, uint64_t(index), 0}); }
  Data operator[](int64_t index) const { return get(index); }
  const std::vector<Item> &items() const { return *data_; }
  const Pipeline &transform() const { return transform_; }

protected:
  /// Throws med::Error naming `who` when index is out of [0, size()).
  void checkIndex(int64_t index, const std::string &who) const;
  std::shared_ptr<const std::vector<Item>> data_;
  Pipeline transform_;
  Loader loader_;
};

} // namespace med::data
