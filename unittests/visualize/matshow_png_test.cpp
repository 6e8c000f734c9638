// matshow3d's grid layout and the PNG writer (read back through med::io::LoadImage, i.e. ITK's
// libpng reader, which also checks the chunk CRCs).
#include <gtest/gtest.h>

#include <filesystem>

#include <ATen/Functions.h>
#include <ATen/TensorIndexing.h>
#include <ATen/TensorOperators.h>

#include "med/core/error.h"
#include "med/io/image_io.h"
#include "med/visualize/png.h"
#include "med/visualize/utils.h"

namespace V = med::visualize;
using at::indexing::Slice;

namespace {

std::string tempPath(const std::string &name) {
  auto dir = std::filesystem::temp_directory_path() / "med-visualize-tests";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

TEST(Matshow3d, GridLayoutEveryNAndPadding) {
  at::Tensor vol = at::arange(30, at::kFloat).reshape({5, 2, 3}); // 5 frames of 2 x 3
  auto r = V::matshow3d(vol, V::Matshow3dOptions().every_n(2));
  // frames 0, 2, 4 -> ceil(sqrt(3)) = 2 per row -> 2 x 2 grid of (2+2) x (3+2) cells
  ASSERT_EQ(r.image.sizes(), (std::vector<int64_t>{8, 10}));
  EXPECT_EQ(r.vmin, 0.0);
  EXPECT_EQ(r.vmax, 29.0); // range of the whole volume, before subsampling
  EXPECT_TRUE(at::equal(r.image.index({Slice(1, 3), Slice(1, 4)}), vol[0]));
  EXPECT_TRUE(at::equal(r.image.index({Slice(1, 3), Slice(6, 9)}), vol[2]));
  EXPECT_TRUE(at::equal(r.image.index({Slice(5, 7), Slice(1, 4)}), vol[4]));
  EXPECT_TRUE(at::isnan(r.image.index({Slice(4, 8), Slice(5, 10)})).all().item<bool>());
  EXPECT_TRUE(at::isnan(r.image[0]).all().item<bool>());           // top margin
  EXPECT_TRUE(at::isnan(r.image.select(1, 4)).all().item<bool>()); // right margin of cell 0
  EXPECT_EQ(at::isnan(r.image).sum().item<int64_t>(), 80 - 3 * 6);
}

TEST(Matshow3d, FrameDimFramesPerRowMarginAndRange) {
  at::Tensor vol = at::arange(24, at::kFloat).reshape({2, 3, 4}); // frames along the last axis
  auto r = V::matshow3d(vol, V::Matshow3dOptions()
                                 .frame_dim(-1)
                                 .frames_per_row(4)
                                 .margin(0)
                                 .vmin(-1.0)
                                 .vmax(5.0)
                                 .fill_value(7.0));
  ASSERT_EQ(r.image.sizes(), (std::vector<int64_t>{2, 12}));
  for (int64_t f = 0; f < 4; ++f)
    EXPECT_TRUE(at::equal(r.image.index({Slice(), Slice(3 * f, 3 * f + 3)}), vol.select(2, f)));
  EXPECT_EQ(r.vmin, -1.0);
  EXPECT_EQ(r.vmax, 5.0);
  // 2-D input: one frame; 4-D input: leading axes flattened into frames.
  EXPECT_EQ(V::matshow3d(at::ones({3, 4})).image.sizes(), (std::vector<int64_t>{5, 6}));
  EXPECT_EQ(V::matshow3d(at::ones({2, 3, 4, 5}), V::Matshow3dOptions().margin(0)).image.sizes(),
            (std::vector<int64_t>{8, 15}));
}

TEST(Matshow3d, ChannelDimKeepsColour) {
  at::Tensor vol = at::rand({3, 4, 2, 2}); // (C, D, H, W)
  auto r = V::matshow3d(vol, V::Matshow3dOptions().channel_dim(0).margin(0));
  ASSERT_EQ(r.image.sizes(), (std::vector<int64_t>{4, 4, 3}));
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < 2; ++y)
      for (int64_t x = 0; x < 2; ++x) {
        EXPECT_EQ(r.image[2 + y][2 + x][c].item<float>(), vol[c][3][y][x].item<float>());
        EXPECT_EQ(r.image[y][2 + x][c].item<float>(), vol[c][1][y][x].item<float>());
      }
  EXPECT_THROW(V::matshow3d(at::rand({2, 4, 2, 2}), V::Matshow3dOptions().channel_dim(0)),
               med::Error);
  EXPECT_THROW(V::matshow3d(vol, V::Matshow3dOptions().frame_dim(7)), med::Error);
}

TEST(Png, RgbRoundTripThroughLoadImage) {
  at::Tensor rgb = at::randint(0, 256, {3, 4, 5}, at::kByte); // 4 rows of 5 pixels
  rgb[0][0][0] = 255;
  rgb[2][3][4] = 0;
  const std::string path = tempPath("rgb.png");
  V::write_png(path, rgb);
  auto loaded = med::io::LoadImage(med::io::LoadImageOptions().dtype(c10::nullopt))(path);
  // LoadImage's layout: (x, y, colour).
  ASSERT_EQ(loaded.data.sizes(), (std::vector<int64_t>{5, 4, 3}));
  EXPECT_TRUE(at::equal(loaded.data.permute({2, 1, 0}).to(at::kByte), rgb));
}

TEST(Png, GreyAndRgbaRoundTrip) {
  at::Tensor grey = at::randint(0, 256, {7, 3}, at::kByte);
  const std::string path = tempPath("grey.png");
  V::write_png(path, grey);
  auto loaded = med::io::LoadImage(med::io::LoadImageOptions().dtype(c10::nullopt))(path);
  ASSERT_EQ(loaded.data.sizes(), (std::vector<int64_t>{3, 7}));
  EXPECT_TRUE(at::equal(loaded.data.t().to(at::kByte), grey));

  at::Tensor rgba = at::randint(0, 256, {4, 2, 6}, at::kByte);
  const std::string p4 = tempPath("rgba.png");
  V::write_png(p4, rgba);
  auto l4 = med::io::LoadImage(med::io::LoadImageOptions().dtype(c10::nullopt))(p4);
  ASSERT_EQ(l4.data.sizes(), (std::vector<int64_t>{6, 2, 4}));
  EXPECT_TRUE(at::equal(l4.data.permute({2, 1, 0}).to(at::kByte), rgba));
}

TEST(Png, SignatureAndBadInput) {
  std::string bytes = V::encode_png(at::zeros({1, 2, 2}, at::kByte));
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(bytes.substr(12, 4), "IHDR");
  EXPECT_EQ(bytes.substr(bytes.size() - 8, 4), "IEND");
  EXPECT_THROW(V::encode_png(at::zeros({1, 2, 2})), med::Error);            // float
  EXPECT_THROW(V::encode_png(at::zeros({2, 2, 2}, at::kByte)), med::Error); // 2 channels
}

TEST(Png, MatshowGridColorizedToFile) {
  at::Tensor vol = at::arange(8, at::kFloat).reshape({2, 2, 2});
  auto r = V::matshow3d(vol); // 2 frames in one row, NaN margins
  at::Tensor rgba = V::colorize(r.image, r.vmin, r.vmax);
  ASSERT_EQ(rgba.sizes(), (std::vector<int64_t>{4, 4, 8}));
  // gray colormap: value 7 (= vmax) -> 255, 0 -> 0, value 3 -> floor(3/7 * 256) = entry 109.
  EXPECT_EQ(rgba[0][2][6].item<int>(), 255);
  EXPECT_EQ(rgba[1][1][1].item<int>(), 0);
  EXPECT_EQ(rgba[0][2][2].item<int>(), 109);
  EXPECT_EQ(rgba[3][0][0].item<int>(), 0);   // NaN margin transparent
  EXPECT_EQ(rgba[3][1][1].item<int>(), 255); // data opaque
  const std::string path = tempPath("grid.png");
  V::write_png(path, rgba);
  auto loaded = med::io::LoadImage(med::io::LoadImageOptions().dtype(c10::nullopt))(path);
  EXPECT_TRUE(at::equal(loaded.data.permute({2, 1, 0}).to(at::kByte), rgba));
}

} // namespace
