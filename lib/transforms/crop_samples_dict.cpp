// RandSpatialCropSamples (RandSpatialCrop's draws from child streams) and the dictionary forms of
// the multi-sample crops: centres (or RandSpatialCrop draws) from the source key, then every key
// cropped with the same box; other entries copied into each sample.
#include <ATen/Functions.h>

#include "med/core/error.h"
#include "med/transforms/crop_samples.h"

namespace med::transforms {
namespace {

const MetaTensor &entry(const Data &data, const std::string &key, const std::string &where) {
  auto it = data.find(key);
  if (it == data.end())
    throw Error(where, "key '" + key + "' is not in the data");
  return it->second;
}

// Checks the keys (missing ones throw unless allowed) and returns those present.
std::vector<std::string> presentKeys(const Data &data, const std::vector<std::string> &keys,
                                     bool allowMissing, const std::string &where) {
  std::vector<std::string> out;
  for (const std::string &k : keys) {
    if (data.count(k))
      out.push_back(k);
    else if (!allowMissing)
      throw Error(where + ".keys", "key '" + k + "' is not in the data");
  }
  return out;
}

void checkShape(const MetaTensor &t, const std::vector<int64_t> &shape, const std::string &key,
                const std::string &where) {
  if (detail::spatialShapeOf(t, where) != shape)
    throw Error(where, "key '" + key +
                           "' has a spatial shape other than the source key's; every "
                           "key is cropped with the same box");
}

// One sample per centre: every present key cropped around it with `userSize`.
std::vector<Data> cropKeys(const Data &data, const std::vector<std::string> &keys,
                           const std::vector<CropCenter> &centers,
                           const std::vector<int64_t> &shape, const std::vector<int64_t> &userSize,
                           const std::string &where) {
  for (const std::string &k : keys)
    checkShape(data.at(k), shape, k, where);
  auto size = detail::cropSize(userSize, shape, where + ".spatial_size");
  std::vector<Data> out(centers.size(), data);
  for (size_t i = 0; i < centers.size(); ++i)
    for (const std::string &k : keys)
      out[i][k] = detail::cropAround(data.at(k), centers[i], size);
  return out;
}

std::vector<int64_t> indicesOf(const Data &data, const std::string &key, const std::string &where) {
  at::Tensor t = entry(data, key, where).data.cpu().reshape({-1}).to(at::kLong).contiguous();
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
}

} // namespace

// --- RandSpatialCropSamples ----------------------------------------------------------------------

namespace {
RandSpatialCropOptions innerOptions(const RandSpatialCropSamplesOptions &o) {
  if (o.num_samples() < 1)
    throw Error("RandSpatialCropSamples.num_samples",
                "expected at least 1 sample, got " + std::to_string(o.num_samples()));
  auto inner = RandSpatialCropOptions(o.roi_size())
                   .max_roi_size(o.max_roi_size())
                   .random_center(o.random_center())
                   .random_size(o.random_size());
  try {
    RandSpatialCrop check{inner};
  } catch (const Error &e) { // name this transform, not the inner one
    const std::string &where = e.where();
    const size_t dot = where.find('.');
    throw Error("RandSpatialCropSamples" + (dot == std::string::npos ? "" : where.substr(dot)),
                std::string(e.what()).substr(where.size() + 2));
  }
  return inner;
}
} // namespace

RandSpatialCropSamples::RandSpatialCropSamples(Options o)
    : o_(std::move(o)), crop_(innerOptions(o_)) {}

std::vector<double> RandSpatialCropSamples::draw(const rt::Rng &rng, int64_t i) const {
  rt::Rng r = rng.child(static_cast<uint32_t>(i));
  std::vector<double> params;
  crop_.sample(r, params);
  return params;
}

std::vector<MetaTensor> RandSpatialCropSamples::operator()(const MetaTensor &img,
                                                           const rt::RandomKey &key) const {
  rt::Rng rng(key);
  std::vector<MetaTensor> out;
  for (int64_t i = 0; i < o_.num_samples(); ++i)
    out.push_back(crop_.eager(img, draw(rng, i).data()));
  return out;
}

// --- RandSpatialCropSamplesd ---------------------------------------------------------------------

RandSpatialCropSamplesd::RandSpatialCropSamplesd(std::vector<std::string> keys,
                                                 RandSpatialCropSamplesOptions o,
                                                 bool allow_missing_keys)
    : keys_(std::move(keys)), t_(std::move(o)), allowMissing_(allow_missing_keys) {
  if (keys_.empty())
    throw Error("RandSpatialCropSamplesd.keys", "expected at least one key");
}

std::vector<Data> RandSpatialCropSamplesd::operator()(const Data &data,
                                                      const rt::RandomKey &key) const {
  const std::string n = "RandSpatialCropSamplesd";
  auto keys = presentKeys(data, keys_, allowMissing_, n);
  const int64_t count = t_.options().num_samples();
  if (keys.empty())
    return std::vector<Data>(count, data);
  auto shape = detail::spatialShapeOf(data.at(keys[0]), n);
  for (const std::string &k : keys)
    checkShape(data.at(k), shape, k, n);
  rt::Rng rng(key);
  std::vector<Data> out(count, data);
  for (int64_t i = 0; i < count; ++i) {
    std::vector<double> params = t_.draw(rng, i); // one draw shared by every key
    for (const std::string &k : keys)
      out[i][k] = t_.cropper().eager(data.at(k), params.data());
  }
  return out;
}

// --- RandCropByPosNegLabeld ----------------------------------------------------------------------

RandCropByPosNegLabeld::RandCropByPosNegLabeld(std::vector<std::string> keys, std::string label_key,
                                               RandCropByPosNegLabelOptions o,
                                               std::string image_key, std::string fg_indices_key,
                                               std::string bg_indices_key, bool allow_missing_keys)
    : keys_(std::move(keys)), labelKey_(std::move(label_key)), imageKey_(std::move(image_key)),
      fgKey_(std::move(fg_indices_key)), bgKey_(std::move(bg_indices_key)), o_(std::move(o)),
      allowMissing_(allow_missing_keys) {
  RandCropByPosNegLabel check{o_}; // validates the options
  if (fgKey_.empty() != bgKey_.empty())
    throw Error("RandCropByPosNegLabeld." +
                    std::string(fgKey_.empty() ? "fg_indices_key" : "bg_indices_key"),
                "fg_indices_key and bg_indices_key are used together; give both or neither");
}

std::vector<Data> RandCropByPosNegLabeld::operator()(const Data &data,
                                                     const rt::RandomKey &key) const {
  const std::string n = "RandCropByPosNegLabeld";
  const MetaTensor &label = entry(data, labelKey_, n + ".label_key");
  const MetaTensor *image = imageKey_.empty() ? nullptr : &entry(data, imageKey_, n + ".image_key");
  RandCropByPosNegLabelOptions o = o_;
  if (!fgKey_.empty())
    o.fg_indices(indicesOf(data, fgKey_, n + ".fg_indices_key"))
        .bg_indices(indicesOf(data, bgKey_, n + ".bg_indices_key"));
  auto centers = RandCropByPosNegLabel(o).centers(label, image, key);
  return cropKeys(data, presentKeys(data, keys_, allowMissing_, n), centers,
                  detail::spatialShapeOf(label, n), o_.spatial_size(), n);
}

// --- RandCropByLabelClassesd ---------------------------------------------------------------------

RandCropByLabelClassesd::RandCropByLabelClassesd(std::vector<std::string> keys,
                                                 std::string label_key,
                                                 RandCropByLabelClassesOptions o,
                                                 std::string image_key, bool allow_missing_keys)
    : keys_(std::move(keys)), labelKey_(std::move(label_key)), imageKey_(std::move(image_key)),
      t_(std::move(o)), allowMissing_(allow_missing_keys) {}

std::vector<Data> RandCropByLabelClassesd::operator()(const Data &data,
                                                      const rt::RandomKey &key) const {
  const std::string n = "RandCropByLabelClassesd";
  const MetaTensor &label = entry(data, labelKey_, n + ".label_key");
  const MetaTensor *image = imageKey_.empty() ? nullptr : &entry(data, imageKey_, n + ".image_key");
  auto centers = t_.centers(label, image, key);
  return cropKeys(data, presentKeys(data, keys_, allowMissing_, n), centers,
                  detail::spatialShapeOf(label, n), t_.options().spatial_size(), n);
}

// --- RandWeightedCropd ---------------------------------------------------------------------------

RandWeightedCropd::RandWeightedCropd(std::vector<std::string> keys, std::string w_key,
                                     RandWeightedCropOptions o, bool allow_missing_keys)
    : keys_(std::move(keys)), wKey_(std::move(w_key)), t_(std::move(o)),
      allowMissing_(allow_missing_keys) {}

std::vector<Data> RandWeightedCropd::operator()(const Data &data, const rt::RandomKey &key) const {
  const std::string n = "RandWeightedCropd";
  const MetaTensor &w = entry(data, wKey_, n + ".w_key");
  auto centers = t_.centers(w, key);
  return cropKeys(data, presentKeys(data, keys_, allowMissing_, n), centers,
                  detail::spatialShapeOf(w, n), t_.options().spatial_size(), n);
}

} // namespace med::transforms
