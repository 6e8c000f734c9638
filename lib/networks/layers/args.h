// Reading a layer's keyword arguments (factories.h Args) with types checked and unknown keys
// reported, shared by the factories.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/expanding_array.h>

#include "med/core/error.h"
#include "med/networks/layers/factories.h"

namespace med::networks::layers::detail {

/// The factory's upper-cased name ("prelu" -> "PRELU").
std::string upper(const std::string &s);

/// Typed access to Args; every accessor marks its key as used, finish() rejects the rest.
/// Errors name `where` (e.g. "Act[PRELU]") and the key.
class ArgReader {
public:
  ArgReader(std::string where, const Args &args) : where_(std::move(where)), args_(args) {}
  bool has(const std::string &key) const { return args_.count(key) > 0; }
  double real(const std::string &key, double dflt);
  int64_t integer(const std::string &key, int64_t dflt);
  /// A required integer.
  int64_t integer(const std::string &key);
  bool flag(const std::string &key, bool dflt);
  std::string str(const std::string &key, const std::string &dflt);
  /// An int or an int list; `dflt` when absent (required when dflt is nullopt).
  std::vector<int64_t> ints(const std::string &key,
                            std::optional<std::vector<int64_t>> dflt = std::nullopt);
  /// ints() expanded to D entries (one entry repeats).
  template <size_t D>
  torch::ExpandingArray<D> array(const std::string &key,
                                 std::optional<std::vector<int64_t>> dflt = std::nullopt) {
    std::vector<int64_t> v = ints(key, std::move(dflt));
    if (v.size() == 1)
      return torch::ExpandingArray<D>(v[0]);
    if (v.size() != D)
      throw Error(where_ + "." + key, "expected 1 or " + std::to_string(D) + " values, got " +
                                          std::to_string(v.size()));
    return torch::ExpandingArray<D>(at::IntArrayRef(v));
  }
  /// The raw value (for keys that take several types, e.g. padding "same").
  const c10::IValue *raw(const std::string &key);
  /// Throws med::Error naming every key no accessor read.
  void finish() const;
  const std::string &where() const { return where_; }

private:
  const c10::IValue *get(const std::string &key);
  std::string where_;
  const Args &args_;
  std::vector<std::string> used_;
};

/// Throws med::Error(`where`.spatial_dims) unless 1 <= dims <= 3.
void checkDims(const std::string &where, int64_t dims, const char *what = "spatial_dims");

} // namespace med::networks::layers::detail
