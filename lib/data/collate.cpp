// list_data_collate / decollate_batch.
#include "med/data/collate.h"

#include <ATen/ATen.h>

#include "med/core/error.h"

namespace med::data {

namespace {
std::string shapeOf(const at::Tensor &t) {
  std::string s = "(";
  for (int64_t i = 0; i < t.dim(); ++i)
    s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + ")";
}

std::vector<Data> split(const Data &batch, const std::map<std::string, std::vector<Meta>> *metas) {
  int64_t n = -1;
  std::string first;
  for (const auto &[key, mt] : batch) {
    if (!mt.data.defined() || mt.data.dim() == 0)
      throw Error("decollate_batch[" + key + "]", "expected a tensor with a batch axis, got " +
                                                      std::string(mt.data.defined() ? "a 0-d "
                                                                                      "tensor"
                                                                                    : "none"));
    if (n < 0) {
      n = mt.data.size(0);
      first = key;
    } else if (mt.data.size(0) != n) {
      throw Error("decollate_batch[" + key + "]", "expected batch size " + std::to_string(n) +
                                                      " (as '" + first + "'), got " +
                                                      std::to_string(mt.data.size(0)));
    }
  }
  std::vector<Data> out(static_cast<size_t>(std::max<int64_t>(n, 0)));
  for (const auto &[key, mt] : batch) {
    const std::vector<Meta> *m = nullptr;
    if (metas) {
      auto it = metas->find(key);
      if (it != metas->end() && static_cast<int64_t>(it->second.size()) == n)
        m = &it->second;
    }
    for (int64_t b = 0; b < n; ++b)
      out[b][key] = MetaTensor(mt.data.select(0, b), m ? (*m)[b] : mt.meta);
  }
  return out;
}
} // namespace

Batch list_data_collate(const std::vector<Data> &items) {
  Batch batch;
  if (items.empty())
    return batch;
  const Data &first = items.front();
  for (size_t i = 1; i < items.size(); ++i) {
    for (const auto &[key, v] : items[i])
      if (!first.count(key))
        throw Error("list_data_collate[" + key + "]",
                    "item " + std::to_string(i) + " has key '" + key +
                        "' that item 0 lacks; every item needs the same keys");
  }
  for (const auto &[key, mt0] : first) {
    std::vector<at::Tensor> parts;
    std::vector<Meta> metas;
    parts.reserve(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      auto it = items[i].find(key);
      if (it == items[i].end())
        throw Error("list_data_collate[" + key + "]", "item " + std::to_string(i) + " lacks key '" +
                                                          key +
                                                          "'; every item needs the same keys");
      const at::Tensor &t = it->second.data;
      if (!t.defined())
        throw Error("list_data_collate[" + key + "]",
                    "item " + std::to_string(i) + " holds no tensor");
      if (t.sizes() != mt0.data.sizes() || t.scalar_type() != mt0.data.scalar_type())
        throw Error("list_data_collate[" + key + "]",
                    "expected every item to match item 0 " + shapeOf(mt0.data) + " " +
                        std::string(c10::toString(mt0.data.scalar_type())) + ", item " +
                        std::to_string(i) + " is " + shapeOf(t) + " " +
                        c10::toString(t.scalar_type()) +
                        "; crop or pad to one size before batching");
      parts.push_back(t);
      metas.push_back(it->second.meta);
    }
    batch[key] = MetaTensor(at::stack(parts, 0), mt0.meta);
    batch.item_meta[key] = std::move(metas);
  }
  return batch;
}

std::vector<Data> decollate_batch(const Batch &batch) { return split(batch, &batch.item_meta); }

std::vector<Data> decollate_batch(const Data &batch) { return split(batch, nullptr); }

} // namespace med::data
