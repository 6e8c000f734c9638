// Every I/O mistake throws med::Error naming the file and what was expected, and a failed write
// leaves nothing behind.
#include <fstream>
#include <functional>

#include <ATen/ops/arange.h>
#include <ATen/ops/full.h>
#include <ATen/ops/zeros.h>
#include <sys/stat.h>

#include "io_test_util.h"

namespace med::io::test {
namespace {

/// Runs `fn`, expects a med::Error whose what() contains every string of `parts`.
void expectError(const std::function<void()> &fn, const std::vector<std::string> &parts) {
  try {
    fn();
    ADD_FAILURE() << "expected med::Error mentioning " << parts.front();
  } catch (const Error &e) {
    for (const std::string &p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
          << "what() = \"" << e.what() << "\" should contain \"" << p << "\"";
  } catch (const std::exception &e) {
    ADD_FAILURE() << "expected med::Error, got another exception: " << e.what();
  }
}

bool isEmptyDir(const std::filesystem::path &dir) {
  return std::filesystem::directory_iterator(dir) == std::filesystem::directory_iterator();
}

MetaTensor smallImage() {
  MetaTensor img(at::zeros({1, 4, 3, 2}, at::kFloat));
  img.meta.spatial_shape = {4, 3, 2};
  img.meta.filename_or_obj = "small.nii";
  return img;
}

TEST(LoadImageErrors, MissingFile) {
  const std::string path = "/nonexistent/medulla/brain.nii.gz";
  EXPECT_THROW(LoadImage()(path), Error);
  expectError([&] { LoadImage()(path); }, {path, "no such file"});
}

TEST(LoadImageErrors, UnknownExtension) {
  ScratchDir dir("err-ext");
  const std::string path = dir / "notes.txt";
  std::ofstream(path) << "not an image";
  EXPECT_THROW(LoadImage()(path), Error);
  expectError([&] { LoadImage()(path); }, {path, "expected one of .nii, .nii.gz"});
}

TEST(LoadImageErrors, TruncatedNiftiGz) {
  MED_REQUIRE_FILE(kCh2);
  ScratchDir dir("err-trunc");
  const std::string path = dir / "half.nii.gz";
  {
    std::ifstream in(kCh2, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(path, std::ios::binary).write(bytes.data(), bytes.size() / 2);
  }
  EXPECT_THROW(LoadImage()(path), Error);
  expectError([&] { LoadImage()(path); }, {path});
}

/// Keeps the first half of `file`.
void truncateToHalf(const std::string &file) {
  std::filesystem::resize_file(file, std::filesystem::file_size(file) / 2);
}

TEST(LoadImageErrors, TruncatedFilesOfEveryFormat) {
  ScratchDir dir("err-trunc-all");
  MetaTensor img(at::arange(2 * 24 * 20 * 16, at::kFloat).sin().view({2, 24, 20, 16}));
  img.meta.spatial_shape = {24, 20, 16};
  MetaTensor png(
      at::arange(3 * 40 * 30, at::kFloat).sin().mul(120).add(120).to(at::kByte).view({3, 40, 30}));
  png.meta.spatial_shape = {40, 30};
  for (const std::string ext : {".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd", ".png"}) {
    const std::string path = dir / ("t" + ext);
    if (ext == ".png")
      SaveImage(SaveImageOptions().output_dtype(at::kByte)).save(png, path);
    else
      SaveImage().save(img, path);
    ASSERT_NO_THROW(LoadImage()(path)) << path;
    truncateToHalf(ext == ".mhd" || ext == ".nhdr" ? dir / "t.raw" : path);
    EXPECT_THROW(LoadImage()(path), Error) << path;
    expectError([&] { LoadImage()(path); }, {path});
  }
}

TEST(LoadImageErrors, CorruptFile) {
  ScratchDir dir("err-corrupt");
  const std::string path = dir / "garbage.nrrd";
  std::ofstream(path) << "this is not a NRRD header\n";
  EXPECT_THROW(LoadImage()(path), Error);
  expectError([&] { LoadImage()(path); }, {path});
}

TEST(LoadImageErrors, FolderWithoutDicom) {
  ScratchDir dir("err-nodicom");
  std::ofstream(dir / "readme.txt") << "no DICOM here";
  const std::string path = dir.path().string();
  EXPECT_THROW(LoadImage()(path), Error);
  expectError([&] { LoadImage()(path); }, {path, "no DICOM files"});
}

TEST(SaveImageErrors, UnwritableOutputFolder) {
  ScratchDir dir("err-unwritable");
  std::ofstream(dir / "file") << "a file, not a folder";
  // A path through a regular file cannot be created, even by root.
  const std::string path = dir / "file/sub/out.nii";
  EXPECT_THROW(SaveImage().save(smallImage(), path), Error);
  expectError([&] { SaveImage().save(smallImage(), path); }, {path, "writable"});

  if (::geteuid() != 0) { // permissions do not stop root
    const std::filesystem::path ro = dir.path() / "readonly";
    std::filesystem::create_directory(ro);
    ::chmod(ro.c_str(), 0555);
    const std::string p2 = (ro / "out.nii").string();
    expectError([&] { SaveImage().save(smallImage(), p2); }, {p2, "writable"});
    ::chmod(ro.c_str(), 0755);
    EXPECT_TRUE(isEmptyDir(ro));
  }
}

TEST(SaveImageErrors, ShearedAffineLeavesNothing) {
  ScratchDir dir("err-shear");
  MetaTensor img = smallImage();
  img.meta.affine[1] = 0.5; // x picks up a component of the j axis: sheared
  const std::string path = dir / "sheared.nii.gz";
  EXPECT_THROW(SaveImage().save(img, path), Error);
  expectError([&] { SaveImage().save(img, path); }, {path, "sheared"});
  EXPECT_TRUE(isEmptyDir(dir.path()));
  // Output folders created for a failed write are removed again.
  const std::string nested = dir / "a/b/sheared.nii";
  expectError([&] { SaveImage().save(img, nested); }, {nested, "sheared"});
  // An ITK failure inside the temporary folder (NIfTI-1 sizes are 16-bit) cleans up too.
  MetaTensor wide(at::zeros({1, 40000, 1, 1}, at::kFloat));
  wide.meta.spatial_shape = {40000, 1, 1};
  const std::string tooWide = dir / "c/d/wide.nii";
  expectError([&] { SaveImage().save(wide, tooWide); }, {tooWide, "32767"});
  EXPECT_TRUE(isEmptyDir(dir.path()));
}

TEST(SaveImageErrors, PngNeeds2DUnsignedData) {
  ScratchDir dir("err-png");
  const std::string path = dir / "bad.png";
  MetaTensor flat(at::zeros({1, 4, 3}, at::kFloat));
  flat.meta.spatial_shape = {4, 3};
  expectError([&] { SaveImage().save(flat, path); }, {path, "uint8"});
  expectError([&] { SaveImage().save(smallImage(), path); }, {path, "2D"});
  MetaTensor negative(at::full({1, 4, 3}, -3, at::kInt));
  negative.meta.spatial_shape = {4, 3};
  expectError(
      [&] { SaveImage(SaveImageOptions().output_dtype(c10::nullopt)).save(negative, path); },
      {path, "[0, 65535]"});
  MetaTensor twoChannels(at::zeros({2, 4, 3}, at::kByte));
  twoChannels.meta.spatial_shape = {4, 3};
  expectError([&] { SaveImage().save(twoChannels, path); }, {path, "1, 3 or 4 channels"});
  EXPECT_TRUE(isEmptyDir(dir.path()));
}

TEST(SaveImageErrors, BadOptionsAndInputs) {
  ScratchDir dir("err-opts");
  const std::string txt = dir / "out.txt";
  expectError([&] { SaveImage().save(smallImage(), txt); }, {txt, "expected one of .nii"});
  const std::string nii = dir / "out.nii";
  expectError([&] { SaveImage(SaveImageOptions().resample(true)).save(smallImage(), nii); },
              {nii, "resample"});
  MetaTensor noChannel(at::zeros({4, 3, 2}, at::kFloat));
  noChannel.meta.spatial_shape = {4, 3, 2};
  expectError([&] { SaveImage().save(noChannel, nii); }, {nii, "EnsureChannelFirst"});
  MetaTensor anonymous(at::zeros({1, 4, 3, 2}, at::kFloat));
  expectError([&] { SaveImage(SaveImageOptions().output_dir(dir.path().string()))(anonymous); },
              {"filename_or_obj"});
  EXPECT_TRUE(isEmptyDir(dir.path()));
}

} // namespace
} // namespace med::io::test
