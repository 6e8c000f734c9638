// SaveImage -> LoadImage round trips per format: voxels and affines survive, writes are atomic
// (no temporary folder is left) and outputs are named as MONAI names them.
#include <algorithm>
#include <cmath>
#include <set>

#include <ATen/ops/empty.h>
#include <ATen/ops/equal.h>

#include "io_test_util.h"

namespace med::io::test {
namespace {

/// A deterministic, non-symmetric test volume of the given shape and dtype.
at::Tensor pattern(std::vector<int64_t> shape, at::ScalarType dtype, double scale = 0.37) {
  at::Tensor t = at::empty(shape, at::kDouble);
  double *p = t.data_ptr<double>();
  for (int64_t i = 0; i < t.numel(); ++i)
    p[i] = std::round(1000.0 * std::sin(scale * static_cast<double>(i) + 0.1)) / 8.0;
  return t.to(dtype);
}

/// The names in `dir` (so that a leftover temporary folder shows up).
std::set<std::string> listing(const std::filesystem::path &dir) {
  std::set<std::string> names;
  for (const auto &e : std::filesystem::directory_iterator(dir))
    names.insert(e.path().filename().string());
  return names;
}

MetaTensor makeImage(at::Tensor data, const Affine &affine, std::vector<int64_t> spatial) {
  MetaTensor img(std::move(data));
  img.meta.affine = affine;
  img.meta.original_affine = affine;
  img.meta.spatial_shape = std::move(spatial);
  img.meta.filename_or_obj = "roundtrip.nii.gz";
  return img;
}

class RoundTrip3D : public ::testing::TestWithParam<std::string> {};

TEST_P(RoundTrip3D, VoxelsAndAffineSurvive) {
  const std::string ext = GetParam();
  ScratchDir dir("rt3d" + std::string(ext == ".nii.gz" ? "-niigz" : ext.substr(1)));
  const Affine affine = randomAffine(3, 1234u + static_cast<unsigned>(ext.size()));
  const MetaTensor img = makeImage(pattern({7, 5, 4}, at::kFloat), affine, {7, 5, 4});
  const std::string path = dir / ("image" + ext);
  SaveImage().save(EnsureChannelFirst()(img), path);

  const MetaTensor back = LoadImage(LoadImageOptions().dtype(c10::nullopt))(path);
  EXPECT_EQ(back.data.scalar_type(), at::kFloat);
  ASSERT_EQ(back.data.sizes().vec(), (std::vector<int64_t>{7, 5, 4}));
  EXPECT_TRUE(at::equal(back.data, img.data)) << path;
  expectAffineNear(back.meta.affine, affine, 1e-4, path);
  EXPECT_FALSE(back.meta.original_channel_dim.has_value());

  std::set<std::string> expected = {"image" + ext};
  if (ext == ".mhd" || ext == ".nhdr")
    expected.insert("image.raw");
  EXPECT_EQ(listing(dir.path()), expected) << "only the image (and its companion) is left";
}

TEST_P(RoundTrip3D, IntegerTypeAndChannelsSurvive) {
  const std::string ext = GetParam();
  ScratchDir dir("rtvec" + std::string(ext == ".nii.gz" ? "-niigz" : ext.substr(1)));
  const Affine affine = randomAffine(3, 99u);
  // Channel-first int16 with 3 channels: written as a vector image, read back channel-last.
  const MetaTensor img = makeImage(pattern({3, 6, 5, 4}, at::kShort, 0.11), affine, {6, 5, 4});
  const std::string path = dir / ("vec" + ext);
  SaveImage(SaveImageOptions().output_dtype(c10::nullopt)).save(img, path);

  const MetaTensor back = LoadImage(LoadImageOptions().dtype(c10::nullopt))(path);
  ASSERT_EQ(back.data.sizes().vec(), (std::vector<int64_t>{6, 5, 4, 3}));
  ASSERT_TRUE(back.meta.original_channel_dim.has_value());
  EXPECT_EQ(*back.meta.original_channel_dim, -1);
  EXPECT_EQ(back.data.scalar_type(), at::kShort);
  const MetaTensor first = EnsureChannelFirst()(back);
  EXPECT_TRUE(at::equal(first.data, img.data)) << path;
  expectAffineNear(back.meta.affine, affine, 1e-4, path);
}

INSTANTIATE_TEST_SUITE_P(Formats, RoundTrip3D,
                         ::testing::Values(".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd"),
                         [](const auto &info) {
                           std::string n = info.param.substr(1);
                           std::replace(n.begin(), n.end(), '.', '_');
                           return n;
                         });

TEST(RoundTrip, Nifti2D) {
  ScratchDir dir("rt2d");
  const Affine affine = randomAffine(2, 7u);
  const MetaTensor img = makeImage(pattern({1, 9, 6}, at::kFloat), affine, {9, 6});
  const std::string path = dir / "slice.nii";
  SaveImage().save(img, path);
  const MetaTensor back = LoadImage()(path);
  ASSERT_EQ(back.data.sizes().vec(), (std::vector<int64_t>{9, 6}));
  EXPECT_TRUE(at::equal(back.data, img.data[0]));
  expectAffineNear(back.meta.affine, affine, 1e-4, path);
}

TEST(RoundTrip, Png2DGrayRgbAnd16Bit) {
  ScratchDir dir("rtpng");
  const LoadImage load(LoadImageOptions().dtype(c10::nullopt));

  const MetaTensor gray =
      makeImage(pattern({1, 9, 6}, at::kFloat).abs().to(at::kByte), rt::identityAffine(), {9, 6});
  SaveImage(SaveImageOptions().output_dtype(at::kByte)).save(gray, dir / "gray.png");
  const MetaTensor g = load(dir / "gray.png");
  EXPECT_EQ(g.data.scalar_type(), at::kByte);
  ASSERT_EQ(g.data.sizes().vec(), (std::vector<int64_t>{9, 6}));
  EXPECT_TRUE(at::equal(g.data, gray.data[0]));
  expectAffineNear(g.meta.affine, rt::identityAffine(), 0.0, "PNG has no geometry");
  EXPECT_FALSE(g.meta.original_channel_dim.has_value());

  const MetaTensor rgb = makeImage(pattern({3, 9, 6}, at::kFloat, 0.7).abs().to(at::kByte),
                                   rt::identityAffine(), {9, 6});
  SaveImage(SaveImageOptions().output_dtype(at::kByte)).save(rgb, dir / "rgb.png");
  const MetaTensor c = load(dir / "rgb.png");
  ASSERT_EQ(c.data.sizes().vec(), (std::vector<int64_t>{9, 6, 3}));
  ASSERT_TRUE(c.meta.original_channel_dim.has_value());
  EXPECT_EQ(*c.meta.original_channel_dim, -1);
  EXPECT_TRUE(at::equal(EnsureChannelFirst()(c).data, rgb.data));

  // LibTorch 1.13 has no uint16: 16-bit PNG data is int32 in [0, 65535].
  at::Tensor wide = pattern({1, 9, 6}, at::kDouble).abs().mul(500).to(at::kInt);
  wide.view(-1)[0] = 65535;
  SaveImage(SaveImageOptions().output_dtype(c10::nullopt))
      .save(makeImage(wide, rt::identityAffine(), {9, 6}), dir / "wide.png");
  const MetaTensor w = load(dir / "wide.png");
  EXPECT_EQ(w.data.scalar_type(), at::kInt);
  EXPECT_TRUE(at::equal(w.data, wide[0]));
  EXPECT_EQ(listing(dir.path()), (std::set<std::string>{"gray.png", "rgb.png", "wide.png"}));
}

TEST(RoundTrip, RealImageThroughDefaultNaming) {
  MED_REQUIRE_FILE(kExample4d);
  ScratchDir dir("rtnaming");
  // example4d is oblique: its rotation must survive RAS -> LPS -> RAS.
  const MetaTensor img = EnsureChannelFirst()(LoadImage()(kExample4d)); // (2, 128, 96, 24)
  const SaveImage save(SaveImageOptions().output_dir(dir.path().string()).output_ext(".mha"));
  const std::string out = save.outputPath(img);
  EXPECT_EQ(out, (dir.path() / "example4d" / "example4d_trans.mha").string());
  save(img);
  const MetaTensor back = EnsureChannelFirst()(LoadImage()(out));
  EXPECT_TRUE(at::equal(back.data, img.data));
  expectAffineNear(back.meta.affine, img.meta.affine, 1e-4, out);

  const SaveImage flat(
      SaveImageOptions().output_dir(dir.path().string()).output_postfix("").separate_folder(false));
  EXPECT_EQ(flat.outputPath(img), (dir.path() / "example4d.nii.gz").string());
  SaveImageOptions explicitPath;
  explicitPath.output_path(dir / "x.nrrd");
  EXPECT_EQ(SaveImage(explicitPath).outputPath(img), dir / "x.nrrd");
}

TEST(RoundTrip, OverwriteReplacesAtomically) {
  ScratchDir dir("rtover");
  const Affine affine = randomAffine(3, 5u);
  const std::string path = dir / "v.mhd";
  SaveImage().save(makeImage(pattern({1, 4, 4, 4}, at::kFloat), affine, {4, 4, 4}), path);
  const MetaTensor second = makeImage(pattern({1, 4, 4, 4}, at::kFloat, 0.9), affine, {4, 4, 4});
  SaveImage().save(second, path);
  EXPECT_TRUE(at::equal(LoadImage()(path).data, second.data[0]));
  EXPECT_EQ(listing(dir.path()), (std::set<std::string>{"v.mhd", "v.raw"}));
}

} // namespace
} // namespace med::io::test
