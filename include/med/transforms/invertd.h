// MONAI's Invertd: maps a prediction made on a transformed image back to the original image
// space, using the records the forward transforms left on the original key.
#pragma once

#include <string>
#include <vector>

#include "med/core/dict.h"

namespace med::transforms {

/// Invertd(keys, orig_keys): for each key, takes the applied-operations trace and affine of
/// the matching orig_key (the image the forward pipeline transformed) and undoes those
/// operations on the key's tensor (a prediction on the same grid), last first. Needs only the
/// records, not the forward transforms. Like MONAI's `nearest_interp=False`: each record is
/// undone with the mode it was applied with.
///
///   Data out = Invertd({"pred"}, {"image"})(data);   // out["pred"] is back on the input grid
class Invertd {
public:
  Invertd(std::vector<std::string> keys, std::vector<std::string> orig_keys,
          bool allow_missing_keys = false);
  Data operator()(const Data &data) const;

private:
  std::vector<std::string> keys_, origKeys_;
  bool allowMissingKeys_;
};

} // namespace med::transforms
