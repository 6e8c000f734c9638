#include "med/transforms/invertd.h"

#include "med/core/error.h"
#include "med/transforms/inverse.h"

namespace med::transforms {

Invertd::Invertd(std::vector<std::string> keys, std::vector<std::string> orig_keys,
                 bool allow_missing_keys)
    : keys_(std::move(keys)), origKeys_(std::move(orig_keys)),
      allowMissingKeys_(allow_missing_keys) {
  if (origKeys_.size() == 1 && keys_.size() > 1)
    origKeys_.assign(keys_.size(), origKeys_.front()); // one orig_key serves every key, as MONAI
  if (keys_.empty() || origKeys_.size() != keys_.size())
    throw Error("Invertd.orig_keys", "expected one orig_key, or one per key (" +
                                         std::to_string(keys_.size()) + "), got " +
                                         std::to_string(origKeys_.size()));
}

Data Invertd::operator()(const Data &data) const {
  Data out = data;
  for (size_t i = 0; i < keys_.size(); ++i) {
    const std::string &key = keys_[i], &orig = origKeys_[i];
    bool hasKey = data.count(key), hasOrig = data.count(orig);
    if (!hasKey || !hasOrig) {
      if (allowMissingKeys_)
        continue;
      throw Error("Invertd[" + (hasKey ? orig : key) + "]",
                  "key '" + (hasKey ? orig : key) + "' is missing from the data");
    }
    const MetaTensor &source = data.at(orig);
    MetaTensor pred = data.at(key);
    if (pred.data.dim() < 1 || source.data.dim() < 1 ||
        pred.data.sizes().slice(1) != source.data.sizes().slice(1))
      throw Error("Invertd[" + key + "]", "expected '" + key + "' on the grid of '" + orig +
                                              "' (same spatial shape); they differ");
    pred.meta.affine = source.meta.affine;
    pred.meta.applied_operations = source.meta.applied_operations;
    out[key] = inverseAll(pred);
  }
  return out;
}

} // namespace med::transforms
