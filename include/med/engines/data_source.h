// DataSource: what an engine iterates, type-erased so that engines take a
// std::vector<med::Data>, med::data::DataLoader or any other batch source without depending on it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "med/core/dict.h"

namespace med::engines {

namespace detail {
template <typename L, typename = void> struct HasSetEpoch : std::false_type {};
template <typename L>
struct HasSetEpoch<L, std::void_t<decltype(std::declval<L &>().set_epoch(int64_t{0}))>>
    : std::true_type {};
} // namespace detail

/// Any object with `size()` (batches per epoch), `begin()` / `end()` yielding `med::Data` (a
/// collated batch: key -> MetaTensor with a batch axis) and, optionally, `set_epoch(int64_t)`
/// (called with the 1-based epoch before each pass, so shuffling and random transforms follow
/// the epoch). The source is shared, not copied, between copies of a DataSource.
///
///   std::vector<med::Data> batches = ...;
///   med::engines::DataSource data(batches);                       // copies the vector once
///   med::engines::DataSource data2(std::make_shared<MyLoader>(...)); // shares the loader
class DataSource {
public:
  /// One pass: each call writes the next batch into `out` and returns true, or returns false at
  /// the end of the pass.
  using Cursor = std::function<bool(Data &out)>;

  DataSource() = default;

  /// Shares `loader`.
  template <typename L> DataSource(std::shared_ptr<L> loader) {
    size_ = [loader] { return static_cast<int64_t>(loader->size()); };
    if constexpr (detail::HasSetEpoch<L>::value)
      set_epoch_ = [loader](int64_t epoch) { loader->set_epoch(epoch); };
    open_ = [loader]() -> Cursor {
      using It = decltype(loader->begin());
      using End = decltype(loader->end());
      auto it = std::make_shared<It>(loader->begin());
      auto end = std::make_shared<End>(loader->end());
      return [loader, it, end](Data &out) {
        if (!(*it != *end))
          return false;
        out = **it;
        ++*it;
        return true;
      };
    };
  }

  /// Takes `loader` by value (move it in for loaders that should not be copied).
  template <typename L, typename = std::enable_if_t<!std::is_same_v<std::decay_t<L>, DataSource>>>
  DataSource(L loader) : DataSource(std::make_shared<L>(std::move(loader))) {}

  /// Whether a source was given.
  explicit operator bool() const { return static_cast<bool>(open_); }
  /// Batches in one full pass.
  int64_t size() const { return size_ ? size_() : 0; }
  /// Forwards to the source's set_epoch when it has one.
  void set_epoch(int64_t epoch) const {
    if (set_epoch_)
      set_epoch_(epoch);
  }
  /// Starts a new pass over the source.
  Cursor open() const { return open_(); }

private:
  std::function<int64_t()> size_;
  std::function<void(int64_t)> set_epoch_;
  std::function<Cursor()> open_;
};

} // namespace med::engines
