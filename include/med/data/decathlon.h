// MONAI's Medical Segmentation Decathlon and MedNIST readers, over local folders (no download).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/arg.h>

#include "med/data/cache_dataset.h"

namespace med::data {

/// Reads a Decathlon-style JSON datalist (MONAI's load_decathlon_datalist). Each element of
/// json[data_list_key] becomes an Item: "image" (and "label" when is_segmentation) are joined to
/// base_dir (default: the JSON's folder) and normalised; other string values become paths only if
/// the joined file exists (else kept in Item::text); numbers become 0-d tensors (int64 or float64)
/// and lists of numbers 1-d tensors in Item::data. A "test" list of plain strings is read as
/// {"image": path} items. Throws med::Error for a missing file, bad JSON or missing key.
///
///   auto train = med::data::load_decathlon_datalist("Task09_Spleen/dataset.json");
///   auto test = med::data::load_decathlon_datalist("Task09_Spleen/dataset.json", false, "test");
std::vector<Item> load_decathlon_datalist(const std::string &data_list_file_path,
                                          bool is_segmentation = true,
                                          const std::string &data_list_key = "training",
                                          std::optional<std::string> base_dir = std::nullopt);

/// Options of DecathlonDataset (MONAI's defaults) and the cache it is.
struct DecathlonDatasetOptions {
  TORCH_ARG(uint32_t, seed) = 0;
  TORCH_ARG(double, val_frac) = 0.2;
  TORCH_ARG(CacheDatasetOptions, cache) = {};
};

/// MONAI's DecathlonDataset over `root_dir/<task>/` in the official layout (dataset.json,
/// imagesTr/, labelsTr/, imagesTs/). "training" and "validation" split the JSON's "training"
/// list as MONAI does (numpy RandomState(seed) shuffle; the first int(n * val_frac) shuffled items
/// are validation), "test" reads its "test" list. A CacheDataset (cache_rate 1 by default).
/// A missing folder throws med::Error saying which archive to extract where.
///
///   med::data::DecathlonDataset ds("/data", "Task09_Spleen", "training", pipeline);
class DecathlonDataset : public CacheDataset {
public:
  DecathlonDataset(const std::string &root_dir, const std::string &task, const std::string &section,
                   Pipeline transform = {}, DecathlonDatasetOptions options = {});
  /// The dataset.json fields other than the lists (name, description, modality, labels, ...)
  /// as JSON text.
  const std::string &properties() const { return properties_; }

private:
  std::string properties_;
};

/// Options of MedNISTDataset (MONAI's defaults).
struct MedNISTDatasetOptions {
  TORCH_ARG(uint32_t, seed) = 0;
  TORCH_ARG(double, val_frac) = 0.1;
  TORCH_ARG(double, test_frac) = 0.1;
  TORCH_ARG(CacheDatasetOptions, cache) = {};
};

/// MONAI's MedNISTDataset over `root_dir/MedNIST/<class>/<images>`: classes are the sorted
/// folder names, label = class index (int64 0-d tensor in Item::data), "class_name" in
/// Item::text. Files of a class are taken in sorted order (MONAI takes the folder's listing
/// order). Sections split a numpy RandomState(seed) shuffle as MONAI: test first, then
/// validation, the rest training. A missing folder throws med::Error saying where to extract
/// MedNIST.tar.gz.
///
///   med::data::MedNISTDataset ds("/data", "training", T::Compose({...}));
class MedNISTDataset : public CacheDataset {
public:
  MedNISTDataset(const std::string &root_dir, const std::string &section, Pipeline transform = {},
                 MedNISTDatasetOptions options = {});
  const std::vector<std::string> &class_names() const { return classNames_; }

private:
  MedNISTDataset(std::pair<std::vector<Item>, std::vector<std::string>> data, Pipeline transform,
                 const MedNISTDatasetOptions &options);
  std::vector<std::string> classNames_;
};

} // namespace med::data
