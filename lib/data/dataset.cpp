// Dataset and the default loader.
#include "med/data/dataset.h"

#include "med/core/error.h"
#include "med/io/image_io.h"

namespace med::data {

Data loadItem(const Item &item) {
  Data out;
  if (!item.paths.empty()) {
    std::vector<std::string> keys;
    for (const auto &[k, v] : item.paths)
      keys.push_back(k);
    out = io::LoadImaged(keys)(item.paths);
  }
  for (const auto &[k, v] : item.data) {
    if (out.count(k))
      throw Error("Dataset.loader", "key '" + k +
                                        "' is both a path and an in-memory value; an item "
                                        "holds each key once");
    out[k] = v;
  }
  return out;
}

Dataset::Dataset(std::vector<Item> data, Pipeline transform, Loader loader)
    : data_(std::make_shared<const std::vector<Item>>(std::move(data))),
      transform_(std::move(transform)), loader_(std::move(loader)) {
  if (!loader_)
    throw Error("Dataset.loader", "expected a callable loader, got an empty std::function");
}

void Dataset::checkIndex(int64_t index, const std::string &who) const {
  if (index < 0 || index >= size())
    throw Error(who + ".index", "expected an index in [0, " + std::to_string(size()) + "), got " +
                                    std::to_string(index));
}

Data Dataset::get(int64_t index, const rt::RandomKey &key) const {
  checkIndex(index, "Dataset");
  return transform_(loader_((*data_)[static_cast<size_t>(index)]), key);
}

} // namespace med::data
