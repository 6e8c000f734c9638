// EnsureChannelFirst (array form on 3D, 4D and channel-last data) and the dictionary forms
// LoadImaged, EnsureChannelFirstd and SaveImaged, including missing keys.
#include <ATen/ops/arange.h>
#include <ATen/ops/equal.h>

#include "io_test_util.h"

namespace med::io::test {
namespace {

MetaTensor volume(std::vector<int64_t> shape, c10::optional<int> channel) {
  int64_t n = 1;
  for (int64_t s : shape)
    n *= s;
  MetaTensor img(at::arange(n, at::kFloat).view(shape));
  img.meta.spatial_shape.assign(shape.begin(), shape.begin() + 3);
  if (channel)
    img.meta.original_channel_dim = *channel;
  img.meta.filename_or_obj = "vol.nii";
  return img;
}

TEST(EnsureChannelFirst, AddsChannelTo3D) {
  const MetaTensor img = volume({4, 3, 2}, c10::nullopt);
  const MetaTensor out = EnsureChannelFirst()(img);
  EXPECT_EQ(out.data.sizes().vec(), (std::vector<int64_t>{1, 4, 3, 2}));
  EXPECT_TRUE(at::equal(out.data[0], img.data));
  EXPECT_FALSE(out.meta.original_channel_dim.has_value()); // metadata untouched
  EXPECT_EQ(out.meta.spatial_shape, img.meta.spatial_shape);
}

TEST(EnsureChannelFirst, MovesLastAxisOf4DToFront) {
  const MetaTensor img = volume({4, 3, 2, 5}, -1);
  const MetaTensor out = EnsureChannelFirst()(img);
  EXPECT_EQ(out.data.sizes().vec(), (std::vector<int64_t>{5, 4, 3, 2}));
  EXPECT_TRUE(out.data.is_contiguous());
  EXPECT_TRUE(at::equal(out.data[3], img.data.select(3, 3)));
  ASSERT_TRUE(out.meta.original_channel_dim.has_value());
  EXPECT_EQ(*out.meta.original_channel_dim, -1);
}

TEST(EnsureChannelFirst, OptionsOverrideMeta) {
  const MetaTensor img = volume({4, 3, 2, 5}, -1);
  const MetaTensor axis1 = EnsureChannelFirst(EnsureChannelFirstOptions().channel_dim(1))(img);
  EXPECT_EQ(axis1.data.sizes().vec(), (std::vector<int64_t>{3, 4, 2, 5}));
  const MetaTensor none = EnsureChannelFirst(EnsureChannelFirstOptions().no_channel(true))(img);
  EXPECT_EQ(none.data.sizes().vec(), (std::vector<int64_t>{1, 4, 3, 2, 5}));
  EXPECT_THROW(EnsureChannelFirst(EnsureChannelFirstOptions().channel_dim(7))(img), Error);
}

TEST(EnsureChannelFirst, RealFourDimensionalImage) {
  MED_REQUIRE_FILE(kExample4d);
  const MetaTensor img = EnsureChannelFirst()(LoadImage()(kExample4d));
  EXPECT_EQ(img.data.sizes().vec(), (std::vector<int64_t>{2, 128, 96, 24}));
}

TEST(Dictionary, LoadEnsureSave) {
  MED_REQUIRE_FILE(kCh2);
  MED_REQUIRE_FILE(kExample4d);
  ScratchDir dir("dict");
  const Data loaded = LoadImaged({"image", "label"})({{"image", kCh2}, {"label", kExample4d}});
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded.at("image").data.sizes().vec(), (std::vector<int64_t>{181, 217, 181}));
  EXPECT_EQ(loaded.at("image").meta.filename_or_obj, kCh2);

  Data d = EnsureChannelFirstd({"image", "label"})(loaded);
  EXPECT_EQ(d.at("image").data.sizes().vec(), (std::vector<int64_t>{1, 181, 217, 181}));
  EXPECT_EQ(d.at("label").data.sizes().vec(), (std::vector<int64_t>{2, 128, 96, 24}));

  // Save only the small one, as .nrrd (fast), named after its own source file.
  const Data same = SaveImaged(
      {"label"},
      SaveImageOptions().output_dir(dir.path().string()).output_ext(".nrrd").output_postfix("seg"))(
      d);
  EXPECT_EQ(same.size(), 2u);
  const std::string out = dir / "example4d/example4d_seg.nrrd";
  ASSERT_TRUE(std::filesystem::exists(out));
  const MetaTensor back = EnsureChannelFirst()(LoadImage()(out));
  EXPECT_TRUE(at::equal(back.data, d.at("label").data));
}

TEST(Dictionary, MissingKeys) {
  MED_REQUIRE_FILE(kCh2);
  ScratchDir dir("dict-missing");
  const std::map<std::string, std::string> paths = {{"image", kCh2}};
  try {
    LoadImaged({"image", "label"})(paths);
    ADD_FAILURE() << "expected med::Error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("label"), std::string::npos) << e.what();
  }
  const Data d = LoadImaged({"image", "label"}, LoadImageOptions().dtype(at::kByte), true)(paths);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d.at("image").data.scalar_type(), at::kByte);

  EXPECT_THROW(EnsureChannelFirstd({"label"})(d), Error);
  EXPECT_EQ(EnsureChannelFirstd({"label"}, {}, true)(d).at("image").data.dim(), 3);

  const SaveImageOptions opts = SaveImageOptions().output_dir(dir.path().string());
  EXPECT_THROW(SaveImaged({"image", "label"}, opts)(d), Error);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << "a missing key writes nothing";
  EXPECT_NO_THROW(SaveImaged({"label"}, opts, true)(d));
  EXPECT_THROW(SaveImaged({"a", "b"}, SaveImageOptions().output_path(dir / "x.nii")), Error);
}

} // namespace
} // namespace med::io::test
