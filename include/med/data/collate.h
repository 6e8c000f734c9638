// MONAI's list_data_collate and decollate_batch: items <-> one batch with a leading batch axis.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "med/core/dict.h"

namespace med::data {

/// A collated batch. It is a med::Data (key -> MetaTensor of shape (B, ...)), so code that takes
/// a med::Data takes a Batch; it also keeps every item's own metadata (MONAI keeps a list of
/// per-item meta in the collated MetaTensor), which decollate_batch hands back. The Meta of
/// each batched MetaTensor is that of item 0 (its affine is the batch's when the items share
/// their geometry, as after a fixed-size crop of one volume).
///
///   med::data::Batch b = med::data::list_data_collate({d0, d1});   // b["image"]: (2, C, H, W)
///   b.item_meta["image"][1].filename_or_obj;                       // d1's source file
struct Batch : Data {
  /// key -> one Meta per item, in batch order.
  std::map<std::string, std::vector<Meta>> item_meta;
};

/// Stacks the items key by key (at::stack along a new axis 0). Every item needs the same keys,
/// and each key the same shape and dtype in every item; otherwise med::Error names the key, the
/// item and both shapes (pad or crop to one size first, as in MONAI).
Batch list_data_collate(const std::vector<Data> &items);

/// Splits a batch back into items (MONAI's decollate_batch): item b gets slice b of every key and
/// its own metadata from item_meta. Throws med::Error when the keys disagree on the batch size.
std::vector<Data> decollate_batch(const Batch &batch);
/// For a batch without per-item metadata (e.g. a network's output put in a med::Data): every
/// item gets the batched MetaTensor's meta.
std::vector<Data> decollate_batch(const Data &batch);

} // namespace med::data
