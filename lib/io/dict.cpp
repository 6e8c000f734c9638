// Dictionary forms of the I/O transforms (MONAI's LoadImaged, EnsureChannelFirstd, SaveImaged).
#include "med/io/image_io.h"

namespace med::io {
namespace {

[[noreturn]] void missingKey(const std::string &transform, const std::string &key) {
  throw Error(transform + "['" + key + "']",
              "key '" + key +
                  "' is missing from the data; expected it, or allow_missing_keys=true");
}

} // namespace

LoadImaged::LoadImaged(std::vector<std::string> keys, LoadImageOptions options,
                       bool allow_missing_keys)
    : keys_(std::move(keys)), load_(options), allow_missing_keys_(allow_missing_keys) {}

Data LoadImaged::operator()(const std::map<std::string, std::string> &paths) const {
  Data out;
  for (const std::string &key : keys_) {
    const auto it = paths.find(key);
    if (it == paths.end()) {
      if (allow_missing_keys_)
        continue;
      missingKey("LoadImaged", key);
    }
    out[key] = load_(it->second);
  }
  return out;
}

EnsureChannelFirstd::EnsureChannelFirstd(std::vector<std::string> keys,
                                         EnsureChannelFirstOptions options, bool allow_missing_keys)
    : keys_(std::move(keys)), transform_(options), allow_missing_keys_(allow_missing_keys) {}

Data EnsureChannelFirstd::operator()(const Data &data) const {
  Data out = data;
  for (const std::string &key : keys_) {
    const auto it = data.find(key);
    if (it == data.end()) {
      if (allow_missing_keys_)
        continue;
      missingKey("EnsureChannelFirstd", key);
    }
    out[key] = transform_(it->second);
  }
  return out;
}

SaveImaged::SaveImaged(std::vector<std::string> keys, SaveImageOptions options,
                       bool allow_missing_keys)
    : keys_(std::move(keys)), save_(options), allow_missing_keys_(allow_missing_keys) {
  if (!options.output_path().empty() && keys_.size() > 1)
    throw Error("SaveImaged.output_path", "one explicit output path for " +
                                              std::to_string(keys_.size()) +
                                              " keys would overwrite itself; expected one key or "
                                              "output_dir naming");
}

Data SaveImaged::operator()(const Data &data) const {
  // Check every key first so that a missing one writes nothing.
  for (const std::string &key : keys_)
    if (!allow_missing_keys_ && data.find(key) == data.end())
      missingKey("SaveImaged", key);
  for (const std::string &key : keys_) {
    const auto it = data.find(key);
    if (it != data.end())
      save_(it->second);
  }
  return data;
}

} // namespace med::io
