// load_decathlon_datalist, DecathlonDataset and MedNISTDataset.
#include "med/data/decathlon.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "data_internal.h"
#include "med/core/error.h"

namespace med::data {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

json readJson(const std::string &path, const std::string &who) {
  if (!fs::is_regular_file(path))
    throw Error(who, "data list file '" + path + "' does not exist");
  std::ifstream in(path);
  try {
    return json::parse(in);
  } catch (const json::exception &e) {
    throw Error(who, "'" + path + "' is not valid JSON: " + e.what());
  }
}

std::string joinPath(const std::string &base, const std::string &p) {
  return (fs::path(base) / p).lexically_normal().string();
}

// One value of a datalist element into the item, as MONAI's _append_paths / _compute_path.
void addValue(Item &item, const std::string &base, const std::string &key, const json &v,
              bool alwaysPath, const std::string &where) {
  if (v.is_string()) {
    std::string joined = joinPath(base, v.get<std::string>());
    if (alwaysPath)
      item.paths[key] = joined;
    else if (fs::exists(joined))
      item.paths[key] = joined;
    else
      item.text[key] = v.get<std::string>();
  } else if (v.is_boolean() || v.is_number_integer() || v.is_number_unsigned()) {
    item.data[key] = MetaTensor(at::scalar_tensor(v.get<int64_t>(), at::kLong));
  } else if (v.is_number_float()) {
    item.data[key] = MetaTensor(at::scalar_tensor(v.get<double>(), at::kDouble));
  } else if (v.is_array() &&
             std::all_of(v.begin(), v.end(), [](const json &x) { return x.is_number(); })) {
    bool ints = std::all_of(v.begin(), v.end(), [](const json &x) {
      return x.is_number_integer() || x.is_number_unsigned();
    });
    std::vector<double> vals;
    for (const json &x : v)
      vals.push_back(x.get<double>());
    at::Tensor t = at::tensor(vals, at::kDouble);
    item.data[key] = MetaTensor(ints ? t.to(at::kLong) : t);
  } else {
    throw Error(where + "[" + key + "]", "expected a path, a number or a list of numbers, got " +
                                             std::string(v.type_name()) +
                                             " (lists of paths are not supported)");
  }
}

const char *kDecathlonTasks[] = {"Task01_BrainTumour", "Task02_Heart",         "Task03_Liver",
                                 "Task04_Hippocampus", "Task05_Prostate",      "Task06_Lung",
                                 "Task07_Pancreas",    "Task08_HepaticVessel", "Task09_Spleen",
                                 "Task10_Colon"};

void checkSection(const std::string &section, const std::string &who) {
  if (section != "training" && section != "validation" && section != "test")
    throw Error(who + ".section",
                "expected \"training\", \"validation\" or \"test\", got \"" + section + "\"");
}

void checkFrac(double f, const std::string &who) {
  if (!(f >= 0.0 && f <= 1.0))
    throw Error(who, "expected a fraction in [0, 1], got " + std::to_string(f));
}

std::vector<Item> decathlonItems(const std::string &root, const std::string &task,
                                 const std::string &section, const DecathlonDatasetOptions &o) {
  const std::string who = "DecathlonDataset";
  checkSection(section, who);
  checkFrac(o.val_frac(), who + ".val_frac");
  if (std::find(std::begin(kDecathlonTasks), std::end(kDecathlonTasks), task) ==
      std::end(kDecathlonTasks))
    throw Error(who + ".task",
                "expected one of Task01_BrainTumour ... Task10_Colon, got \"" + task + "\"");
  fs::path dir = fs::path(root) / task;
  if (!fs::is_regular_file(dir / "dataset.json"))
    throw Error(who + ".root_dir", "cannot find " + (dir / "dataset.json").string() +
                                       ". Medulla does not "
                                       "download: get " +
                                       task +
                                       ".tar from http://medicaldecathlon.com (or MONAI's "
                                       "mirror) and extract it into " +
                                       root + " so that " + dir.string() +
                                       " holds dataset.json, imagesTr/, labelsTr/ and imagesTs/");
  std::string file = (dir / "dataset.json").string();
  if (section == "test")
    return load_decathlon_datalist(file, false, "test");
  std::vector<Item> all = load_decathlon_datalist(file, true, "training");
  std::vector<int64_t> idx(all.size());
  for (size_t i = 0; i < idx.size(); ++i)
    idx[i] = static_cast<int64_t>(i);
  detail::numpyShuffle(idx, o.seed());
  auto val = static_cast<size_t>(static_cast<double>(all.size()) * o.val_frac());
  std::vector<Item> out;
  size_t from = section == "training" ? val : 0, to = section == "training" ? idx.size() : val;
  for (size_t i = from; i < to; ++i)
    out.push_back(all[static_cast<size_t>(idx[i])]);
  return out;
}

std::pair<std::vector<Item>, std::vector<std::string>>
mednistItems(const std::string &root, const std::string &section, const MedNISTDatasetOptions &o) {
  const std::string who = "MedNISTDataset";
  checkSection(section, who);
  checkFrac(o.val_frac(), who + ".val_frac");
  checkFrac(o.test_frac(), who + ".test_frac");
  fs::path dir = fs::path(root) / "MedNIST";
  if (!fs::is_directory(dir))
    throw Error(who + ".root_dir",
                "cannot find " + dir.string() +
                    ". Medulla does not download: get MedNIST.tar.gz "
                    "(MONAI's MedNIST link) and extract it into " +
                    root + " so that " + dir.string() +
                    " holds one folder of images per class (AbdomenCT, BreastMRI, "
                    "CXR, ChestCT, Hand, HeadCT)");
  std::vector<std::string> classes;
  for (const auto &e : fs::directory_iterator(dir))
    if (e.is_directory())
      classes.push_back(e.path().filename().string());
  std::sort(classes.begin(), classes.end());
  if (classes.empty())
    throw Error(who + ".root_dir", dir.string() + " has no class folders; expected one folder "
                                                  "of images per class");
  std::vector<Item> all;
  for (size_t c = 0; c < classes.size(); ++c) {
    std::vector<std::string> files;
    for (const auto &e : fs::directory_iterator(dir / classes[c]))
      if (e.is_regular_file())
        files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    for (const std::string &f : files)
      all.push_back(Item({{"image", f}},
                         {{"label", MetaTensor(at::scalar_tensor(int64_t(c), at::kLong))}},
                         {{"class_name", classes[c]}}));
  }
  std::vector<int64_t> idx(all.size());
  for (size_t i = 0; i < idx.size(); ++i)
    idx[i] = static_cast<int64_t>(i);
  detail::numpyShuffle(idx, o.seed());
  auto n = static_cast<double>(all.size());
  auto test = static_cast<size_t>(n * o.test_frac()), val = static_cast<size_t>(n * o.val_frac());
  size_t from = 0, to = test;
  if (section == "validation") {
    from = test;
    to = std::min(idx.size(), test + val);
  } else if (section == "training") {
    from = std::min(idx.size(), test + val);
    to = idx.size();
  }
  std::vector<Item> out;
  for (size_t i = from; i < to; ++i)
    out.push_back(all[static_cast<size_t>(idx[i])]);
  return {out, classes};
}

} // namespace

std::vector<Item> load_decathlon_datalist(const std::string &data_list_file_path,
                                          bool is_segmentation, const std::string &data_list_key,
                                          std::optional<std::string> base_dir) {
  const std::string who = "load_decathlon_datalist";
  json j = readJson(data_list_file_path, who);
  if (!j.is_object() || !j.contains(data_list_key))
    throw Error(who + ".data_list_key",
                "data list '" + data_list_key + "' is not in '" + data_list_file_path + "'");
  const json &list = j[data_list_key];
  if (!list.is_array())
    throw Error(who + ".data_list_key",
                "'" + data_list_key + "' in '" + data_list_file_path + "' is not a list");
  std::string base = base_dir ? *base_dir : fs::path(data_list_file_path).parent_path().string();
  std::vector<Item> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const json &el = list[i];
    std::string where = who + "[" + data_list_key + "][" + std::to_string(i) + "]";
    Item item;
    if (el.is_string() && data_list_key == "test") {
      addValue(item, base, "image", el, true, where);
    } else if (el.is_object()) {
      for (const auto &[k, v] : el.items())
        addValue(item, base, k, v, k == "image" || (is_segmentation && k == "label"), where);
    } else {
      throw Error(where, "expected an object of key -> path, got " + std::string(el.type_name()));
    }
    out.push_back(std::move(item));
  }
  return out;
}

DecathlonDataset::DecathlonDataset(const std::string &root_dir, const std::string &task,
                                   const std::string &section, Pipeline transform,
                                   DecathlonDatasetOptions options)
    : CacheDataset(decathlonItems(root_dir, task, section, options), std::move(transform),
                   options.cache()) {
  json j = readJson((fs::path(root_dir) / task / "dataset.json").string(), "DecathlonDataset");
  for (const char *k : {"training", "test"})
    j.erase(k);
  properties_ = j.dump();
}

MedNISTDataset::MedNISTDataset(const std::string &root_dir, const std::string &section,
                               Pipeline transform, MedNISTDatasetOptions options)
    : MedNISTDataset(mednistItems(root_dir, section, options), std::move(transform), options) {}

MedNISTDataset::MedNISTDataset(std::pair<std::vector<Item>, std::vector<std::string>> data,
                               Pipeline transform, const MedNISTDatasetOptions &options)
    : CacheDataset(std::move(data.first), std::move(transform), options.cache()),
      classNames_(std::move(data.second)) {}

} // namespace med::data
