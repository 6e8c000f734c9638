// load_decathlon_datalist, DecathlonDataset and MedNISTDataset over fake folders.
#include <fstream>

#include <nlohmann/json.hpp>

#include "data_test_util.h"
#include "med/io/image_io.h"

namespace med::data::test {
namespace {

namespace fs = std::filesystem;

void writeText(const std::string &path, const std::string &text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

// A (3, 4, 2) float NIfTI whose voxels all equal `value`.
void writeNifti(const std::string &path, float value) {
  fs::create_directories(fs::path(path).parent_path());
  med::io::SaveImage(med::io::SaveImageOptions().channel_dim(c10::nullopt))
      .save(MetaTensor(at::full({3, 4, 2}, value)), path);
}

std::string messageOf(const std::function<void()> &f) {
  try {
    f();
  } catch (const med::Error &e) {
    return e.what();
  }
  return "no error";
}

TEST(DecathlonDatalist, ResolvesPathsAsMonai) {
  ScratchDir dir("datalist");
  writeText(dir / "extra/notes.txt", "x");
  writeText(dir / "list.json", R"({
    "training": [
      {"image": "./imagesTr/a.nii.gz", "label": "labelsTr/a.nii.gz", "age": 42,
       "spacing": [1.5, 2], "notes": "extra/notes.txt", "site": "paris"}],
    "validation": [{"image": "imagesTr/b.nii.gz", "label": 1}],
    "test": ["imagesTs/c.nii.gz", "./imagesTs/d.nii.gz"]})");
  auto train = load_decathlon_datalist(dir / "list.json");
  ASSERT_EQ(train.size(), 1u);
  const Item &t = train[0];
  EXPECT_EQ(t.paths.at("image"), dir / "imagesTr/a.nii.gz");
  EXPECT_EQ(t.paths.at("label"), dir / "labelsTr/a.nii.gz");
  EXPECT_EQ(t.paths.at("notes"), dir / "extra/notes.txt"); // exists, so it is a path
  EXPECT_EQ(t.text.at("site"), "paris");                   // does not exist: kept as text
  EXPECT_EQ(t.data.at("age").data.item<int64_t>(), 42);
  EXPECT_EQ(t.data.at("age").data.scalar_type(), at::kLong);
  EXPECT_TRUE(at::equal(t.data.at("spacing").data, at::tensor({1.5, 2.0}, at::kDouble)));

  auto val = load_decathlon_datalist(dir / "list.json", false, "validation", "/base");
  EXPECT_EQ(val[0].paths.at("image"), "/base/imagesTr/b.nii.gz");
  EXPECT_EQ(val[0].data.at("label").data.item<int64_t>(), 1);
  auto test = load_decathlon_datalist(dir / "list.json", false, "test");
  ASSERT_EQ(test.size(), 2u);
  EXPECT_EQ(test[1].paths.at("image"), dir / "imagesTs/d.nii.gz");

  std::string missingKey =
      messageOf([&] { load_decathlon_datalist(dir / "list.json", true, "nope"); });
  EXPECT_NE(missingKey.find("'nope'"), std::string::npos) << missingKey;
  std::string missingFile = messageOf([&] { load_decathlon_datalist(dir / "absent.json"); });
  EXPECT_NE(missingFile.find("absent.json"), std::string::npos) << missingFile;
  writeText(dir / "bad.json", "{ not json");
  EXPECT_THROW(load_decathlon_datalist(dir / "bad.json"), med::Error);
}

TEST(DecathlonDataset, SplitsAndLoadsAFakeTask) {
  ScratchDir dir("decathlon");
  std::string task = dir / "Task09_Spleen";
  nlohmann::json list = {
      {"name", "Spleen"}, {"training", nlohmann::json::array()}, {"test", nlohmann::json::array()}};
  for (int i = 0; i < 10; ++i) {
    std::string n = "spleen_" + std::to_string(i) + ".nii.gz";
    writeNifti(task + "/imagesTr/" + n, static_cast<float>(i));
    writeNifti(task + "/labelsTr/" + n, static_cast<float>(i % 2));
    list["training"].push_back({{"image", "./imagesTr/" + n}, {"label", "./labelsTr/" + n}});
  }
  writeNifti(task + "/imagesTs/spleen_99.nii.gz", 99.f);
  list["test"].push_back("./imagesTs/spleen_99.nii.gz");
  writeText(task + "/dataset.json", list.dump());

  // numpy.random.RandomState(0).permutation(10) = [2 8 4 9 1 6 7 3 0 5]; val_frac 0.2 takes 2.
  DecathlonDataset val(dir.path().string(), "Task09_Spleen", "validation");
  ASSERT_EQ(val.size(), 2);
  EXPECT_EQ(val.get(0).at("image").data.max().item<float>(), 2.f);
  EXPECT_EQ(val.get(1).at("image").data.max().item<float>(), 8.f);
  EXPECT_EQ(val.get(1).at("image").data.sizes(), (std::vector<int64_t>{3, 4, 2}));
  EXPECT_EQ(val.get(0).at("image").meta.filename_or_obj, task + "/imagesTr/spleen_2.nii.gz");
  DecathlonDataset train(
      dir.path().string(), "Task09_Spleen", "training",
      T::Compose({T::ScaleIntensityd({"image"},
                                     T::ScaleIntensityOptions().minv({}).maxv({}).factor(1.0))}));
  ASSERT_EQ(train.size(), 8);
  EXPECT_EQ(train.cache_num(), 8);
  EXPECT_EQ(train.get(0).at("image").data.max().item<float>(), 8.f); // item 4, scaled by 2
  DecathlonDataset test(dir.path().string(), "Task09_Spleen", "test");
  ASSERT_EQ(test.size(), 1);
  EXPECT_FALSE(test.get(0).count("label"));
  EXPECT_NE(test.properties().find("Spleen"), std::string::npos);

  std::string missing =
      messageOf([&] { DecathlonDataset(dir / "nowhere", "Task09_Spleen", "test"); });
  EXPECT_NE(missing.find(dir / "nowhere/Task09_Spleen/dataset.json"), std::string::npos) << missing;
  EXPECT_NE(missing.find("Task09_Spleen.tar"), std::string::npos) << missing;
  EXPECT_THROW(DecathlonDataset(dir.path().string(), "Task09_Spleen", "train"), med::Error);
  EXPECT_THROW(DecathlonDataset(dir.path().string(), "Task11_Nothing", "test"), med::Error);
}

TEST(MedNISTDataset, ReadsClassFolders) {
  ScratchDir dir("mednist");
  // Two classes of five 2D PNGs; image j of class c is filled with 10 c + j.
  for (int c = 0; c < 2; ++c)
    for (int j = 0; j < 5; ++j) {
      std::string path =
          dir / ("MedNIST/" + std::string(c ? "Hand" : "CXR") + "/00" + std::to_string(j) + ".png");
      fs::create_directories(fs::path(path).parent_path());
      med::io::SaveImage(
          med::io::SaveImageOptions().channel_dim(c10::nullopt).output_dtype(at::kByte))
          .save(MetaTensor(at::full({4, 3}, 10 * c + j, at::kByte)), path);
    }
  // permutation(10) = [2 8 4 9 1 6 7 3 0 5]: test = item 2, validation = item 8, rest training.
  MedNISTDataset test(dir.path().string(), "test"), val(dir.path().string(), "validation"),
      train(dir.path().string(), "training");
  EXPECT_EQ(test.class_names(), (std::vector<std::string>{"CXR", "Hand"}));
  ASSERT_EQ(test.size(), 1);
  ASSERT_EQ(val.size(), 1);
  ASSERT_EQ(train.size(), 8);
  Data t = test.get(0), v = val.get(0);
  EXPECT_EQ(t.at("image").data.sizes(), (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(t.at("image").data.max().item<float>(), 2.f);
  EXPECT_EQ(t.at("label").data.item<int64_t>(), 0);
  EXPECT_EQ(v.at("image").data.max().item<float>(), 13.f);
  EXPECT_EQ(v.at("label").data.item<int64_t>(), 1);
  EXPECT_EQ(train.items()[0].text.at("class_name"), "CXR"); // item 4
  std::string missing = messageOf([&] { MedNISTDataset(dir / "empty", "test"); });
  EXPECT_NE(missing.find(dir / "empty/MedNIST"), std::string::npos) << missing;
  EXPECT_NE(missing.find("MedNIST.tar.gz"), std::string::npos) << missing;
}

} // namespace
} // namespace med::data::test
