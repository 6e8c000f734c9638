// LoadImage on real images from Debian packages: shapes, dtypes, values and affines against the
// manifest (what nibabel/pydicom read), and the CT5N DICOM series.
#include <algorithm>
#include <cmath>
#include <fstream>

#include <ATen/ops/arange.h>
#include <ATen/ops/equal.h>
#include <ATen/ops/max.h>
#include <ATen/ops/min.h>
#include <ATen/ops/zeros.h>
#include <nlohmann/json.hpp>

#include "io_test_util.h"

namespace med::io::test {
namespace {

/// The manifest entry of `path`, or a null json when the manifest or the entry is absent.
nlohmann::json manifestEntry(const std::string &path) {
  std::ifstream in(MED_MANIFEST);
  if (!in)
    return nullptr;
  const nlohmann::json manifest = nlohmann::json::parse(in);
  for (const auto &e : manifest)
    if (e.value("path", "") == path)
      return e;
  return nullptr;
}

Affine affineFromJson(const nlohmann::json &rows) {
  Affine a{};
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c)
      a[r * 4 + c] = rows.at(r).at(c).get<double>();
  return a;
}

class ManifestAffine : public ::testing::TestWithParam<std::string> {};

TEST_P(ManifestAffine, MatchesNibabel) {
  const std::string path = GetParam();
  if (!std::filesystem::exists(MED_MANIFEST))
    GTEST_SKIP() << "manifest not found: " << MED_MANIFEST;
  MED_REQUIRE_FILE(path);
  const nlohmann::json e = manifestEntry(path);
  ASSERT_FALSE(e.is_null()) << path << " is not in the manifest";

  const MetaTensor img = LoadImage(LoadImageOptions().dtype(c10::nullopt))(path);
  const auto shape = e.at("shape").get<std::vector<int64_t>>();
  EXPECT_EQ(img.data.sizes().vec(), shape) << path;
  expectAffineNear(img.meta.affine, affineFromJson(e.at("affine_ras")), 1e-4, path);
  expectAffineNear(img.meta.original_affine, img.meta.affine, 0.0, path);
  EXPECT_EQ(img.meta.filename_or_obj, path);
  const std::vector<int64_t> spatial(shape.begin(),
                                     shape.begin() + std::min<size_t>(3, shape.size()));
  EXPECT_EQ(img.meta.spatial_shape, spatial);

  // Values prove the byte order and the pixel type are right (anatomical.nii is big-endian).
  EXPECT_DOUBLE_EQ(at::min(img.data).item<double>(), e.at("min").get<double>()) << path;
  EXPECT_DOUBLE_EQ(at::max(img.data).item<double>(), e.at("max").get<double>()) << path;
  const std::string dtype = e.at("dtype").get<std::string>();
  const at::ScalarType expected = dtype == "uint8" ? at::kByte : at::kShort; // int16, >i2
  EXPECT_EQ(img.data.scalar_type(), expected) << path << " (" << dtype << ")";
}

INSTANTIATE_TEST_SUITE_P(
    Debian, ManifestAffine,
    ::testing::Values(
        std::string("/usr/share/mricron/templates/ch2.nii.gz"),
        std::string("/usr/share/mricron/templates/ch2bet.nii.gz"),
        std::string("/usr/share/doc/insighttoolkit5-examples/examples/Data/"
                    "KmeansTest_T1UCharRaw.nii.gz"),
        std::string("/usr/share/doc/insighttoolkit5-examples/examples/Data/"
                    "KmeansTest_T1RawSkullStrip.nii.gz"),
        std::string("/usr/lib/python3/dist-packages/nibabel/tests/data/example4d.nii.gz"),
        std::string("/usr/lib/python3/dist-packages/nibabel/tests/data/anatomical.nii")));

/// Overwrites `bytes.size()` bytes of `file` at `offset`.
void patch(const std::string &file, std::streamoff offset, const std::string &bytes) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(offset);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
template <typename T> std::string bytesOf(T v) {
  return std::string(reinterpret_cast<const char *>(&v), sizeof(T));
}

// nibabel (MONAI's NIfTI reader) uses the sform whenever sform_code > 0; ITK 5.2 would take the
// qform when both are set. A header whose sform and qform disagree tells which one won.
TEST(LoadImage, NiftiSformWinsOverQformAsInNibabel) {
  ScratchDir dir("sform");
  MetaTensor img(at::zeros({1, 4, 3, 2}, at::kFloat));
  img.meta.spatial_shape = {4, 3, 2};
  const std::string path = dir / "s.nii";
  SaveImage().save(img, path); // ITK writes qform_code = sform_code = 1, both identity-LPS

  patch(path, 280 + 12, bytesOf(25.0f)); // srow_x[3]: the sform's x origin
  patch(path, 254, bytesOf(int16_t(2))); // sform_code = ALIGNED_ANAT
  const MetaTensor both = LoadImage()(path);
  EXPECT_DOUBLE_EQ(both.meta.affine[3], 25.0);
  EXPECT_DOUBLE_EQ(both.meta.original_affine[3], 25.0);

  patch(path, 254, bytesOf(int16_t(0))); // no sform: the qform (ITK's reading) is used
  EXPECT_DOUBLE_EQ(LoadImage()(path).meta.affine[3], 0.0);

  // A sheared sform loads as nibabel gives it, but ITK cannot write it back.
  patch(path, 254, bytesOf(int16_t(1)));
  patch(path, 280 + 4, bytesOf(0.5f)); // srow_x[1]
  const MetaTensor sheared = LoadImage()(path);
  EXPECT_DOUBLE_EQ(sheared.meta.affine[1], 0.5);
  EXPECT_THROW(SaveImage().save(EnsureChannelFirst()(sheared), dir / "back.nii"), Error);
}

// scl_slope / scl_inter are applied (as nibabel does), which makes integer data float.
TEST(LoadImage, NiftiScaleSlopeAndInterceptApply) {
  ScratchDir dir("slope");
  MetaTensor img(at::arange(24, at::kShort).view({1, 4, 3, 2}));
  img.meta.spatial_shape = {4, 3, 2};
  const std::string path = dir / "slope.nii";
  SaveImage(SaveImageOptions().output_dtype(c10::nullopt)).save(img, path);
  patch(path, 112, bytesOf(2.5f) + bytesOf(10.0f)); // scl_slope, scl_inter
  const MetaTensor back = LoadImage(LoadImageOptions().dtype(c10::nullopt))(path);
  EXPECT_EQ(back.data.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(back.data, img.data[0].to(at::kFloat).mul(2.5).add(10.0)));
}

TEST(LoadImage, DefaultDtypeIsFloat32) {
  MED_REQUIRE_FILE(kCh2);
  const MetaTensor img = LoadImage()(kCh2);
  EXPECT_EQ(img.data.scalar_type(), at::kFloat);
  EXPECT_EQ(img.data.sizes().vec(), (std::vector<int64_t>{181, 217, 181}));
  EXPECT_TRUE(img.data.is_contiguous());
  EXPECT_FALSE(img.meta.original_channel_dim.has_value()); // MONAI's "no_channel"
}

TEST(LoadImage, FourDimensionalNiftiKeepsTimeLast) {
  MED_REQUIRE_FILE(kExample4d);
  const MetaTensor img = LoadImage()(kExample4d);
  EXPECT_EQ(img.data.sizes().vec(), (std::vector<int64_t>{128, 96, 24, 2}));
  ASSERT_TRUE(img.meta.original_channel_dim.has_value());
  EXPECT_EQ(*img.meta.original_channel_dim, -1);
  EXPECT_EQ(img.meta.spatial_shape, (std::vector<int64_t>{128, 96, 24}));
}

TEST(LoadImage, DicomSeriesIsSortedByPosition) {
  MED_REQUIRE_FILE(kCt5n);
  const MetaTensor ct = LoadImage(LoadImageOptions().dtype(c10::nullopt))(kCt5n);
  EXPECT_EQ(ct.data.sizes().vec(), (std::vector<int64_t>{16, 16, 5}));
  EXPECT_EQ(ct.meta.spatial_shape, (std::vector<int64_t>{16, 16, 5}));
  // GDCM sizes the rescaled type from the stored type's range: int16 - 1024 needs int32.
  EXPECT_EQ(ct.data.scalar_type(), at::kInt);
  EXPECT_FALSE(ct.meta.original_channel_dim.has_value());

  // The files are stored in descending z (2062: z = 8.7625 ... 3353: z = -1.2375). Sorted
  // ascending, the first slice is 3353 and z grows by the 2.5 mm slice step. Pixel spacing
  // 0.488281, iop = identity rows: in RAS the first two columns point to -x and -y.
  Affine expected = rt::identityAffine();
  expected[0] = -0.488281;
  expected[5] = -0.488281;
  expected[10] = 2.5;
  expected[3] = 72.199997;
  expected[7] = 143.0;
  expected[11] = -1.2375;
  expectAffineNear(ct.meta.affine, expected, 1e-4, "CT5N");

  // Each slice equals its own file read alone, in sorted order (3353 first, 2062 last).
  const std::vector<std::string> sorted = {"3353", "3023", "2693", "2392", "2062"};
  ScratchDir tmp("dicom-slices");
  for (size_t k = 0; k < sorted.size(); ++k) {
    const std::string copy = tmp / (sorted[k] + ".dcm");
    std::filesystem::copy_file(std::string(kCt5n) + "/" + sorted[k], copy);
    const MetaTensor slice = LoadImage(LoadImageOptions().dtype(c10::nullopt))(copy);
    ASSERT_EQ(slice.data.numel(), 16 * 16) << sorted[k];
    EXPECT_TRUE(at::equal(slice.data.reshape({16, 16}), ct.data.select(2, static_cast<int64_t>(k))))
        << "slice " << k << " should be file " << sorted[k];
    EXPECT_NEAR(slice.meta.affine[11], -1.2375 + 2.5 * static_cast<double>(k), 1e-4) << k;
  }
  // The -1024 intercept is applied: the stored int16 values (the last 512 bytes of each file)
  // range over 136..1109, so Hounsfield units range over -888..85; file 3353 starts with the
  // stored values 991, 999 and file 2062 with 974 (x runs along a row of the file).
  EXPECT_EQ(at::min(ct.data).item<int64_t>(), 136 - 1024);
  EXPECT_EQ(at::max(ct.data).item<int64_t>(), 1109 - 1024);
  EXPECT_EQ(ct.data[0][0][0].item<int64_t>(), 991 - 1024);
  EXPECT_EQ(ct.data[1][0][0].item<int64_t>(), 999 - 1024);
  EXPECT_EQ(ct.data[0][0][4].item<int64_t>(), 974 - 1024);
}

TEST(LoadImage, DicomSeriesAgreesWithManifest) {
  MED_REQUIRE_FILE(kCt5n);
  if (!std::filesystem::exists(MED_MANIFEST))
    GTEST_SKIP() << "manifest not found: " << MED_MANIFEST;
  std::ifstream in(MED_MANIFEST);
  const nlohmann::json manifest = nlohmann::json::parse(in);
  std::vector<nlohmann::json> slices;
  for (const auto &e : manifest)
    if (e.value("path", "").rfind(std::string(kCt5n) + "/", 0) == 0)
      slices.push_back(e);
  ASSERT_EQ(slices.size(), 5u);
  std::sort(slices.begin(), slices.end(), [](const auto &a, const auto &b) {
    return a.at("ipp").at(2).template get<double>() < b.at("ipp").at(2).template get<double>();
  });
  const auto ipp0 = slices.front().at("ipp").get<std::vector<double>>();
  const auto ippN = slices.back().at("ipp").get<std::vector<double>>();
  const auto iop = slices.front().at("iop").get<std::vector<double>>();
  const auto ps = slices.front().at("pixel_spacing").get<std::vector<double>>(); // (row, col)
  const double lps[3] = {-1.0, -1.0, 1.0};

  const MetaTensor ct = LoadImage()(kCt5n);
  const Affine &a = ct.meta.affine;
  for (int r = 0; r < 3; ++r) {
    EXPECT_NEAR(a[r * 4 + 0], lps[r] * iop[r] * ps[1], 1e-4) << "column 0, row " << r;
    EXPECT_NEAR(a[r * 4 + 1], lps[r] * iop[3 + r] * ps[0], 1e-4) << "column 1, row " << r;
    EXPECT_NEAR(a[r * 4 + 2], lps[r] * (ippN[r] - ipp0[r]) / 4.0, 1e-4) << "column 2, row " << r;
    EXPECT_NEAR(a[r * 4 + 3], lps[r] * ipp0[r], 1e-4) << "origin, row " << r;
  }
  EXPECT_GT(a[10], 0.0) << "slices must be sorted by ascending z";
  const auto rescale = slices.front().at("rescale").get<std::vector<double>>();
  EXPECT_DOUBLE_EQ(rescale[1], -1024.0);
}

} // namespace
} // namespace med::io::test
