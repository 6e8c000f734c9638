// One chain end to end: load ch2 -> compiled ScaleIntensityRange -> ThresholdIntensity -> save
// -> reload; equals a plain ATen implementation written here, independently of the library.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <filesystem>
#include <unistd.h>

#include "med/io/image_io.h"
#include "med/transforms/compose.h"
#include "med/transforms/intensity.h"

namespace T = med::transforms;

namespace {

const char *kCh2 = "/usr/share/mricron/templates/ch2.nii.gz";

TEST(EndToEnd, Ch2ThroughCompiledChainEqualsPlainATen) {
  if (!std::filesystem::exists(kCh2))
    GTEST_SKIP() << kCh2 << " missing (Debian package mricron-data)";
  med::MetaTensor img = med::io::EnsureChannelFirst()(
      med::io::LoadImage(med::io::LoadImageOptions().dtype(c10::nullopt))(kCh2));
  ASSERT_EQ(img.data.scalar_type(), at::kByte);
  ASSERT_EQ(img.data.sizes(), (at::IntArrayRef{1, 181, 217, 181}));

  T::Compose chain({T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(20, 200, 0, 1).clip(true)),
                    T::ThresholdIntensity(T::ThresholdIntensityOptions(0.25))});
  med::MetaTensor out = chain.compile(T::Schedule::cpu().threads(2))(img);

  // The same chain written directly in ATen.
  at::Tensor x = img.data.to(at::kFloat);
  at::Tensor y = at::clamp((x - 20.0) / 180.0 * 1.0 + 0.0, 0.0, 1.0);
  at::Tensor want = at::where(y > 0.25, y, at::zeros_like(y));
  EXPECT_TRUE(at::allclose(out.data, want, 1e-6, 1e-7));
  EXPECT_GT((out.data > 0).sum().item<int64_t>(), 1000000) << "brain voxels survive";

  auto dir = std::filesystem::temp_directory_path() / ("medulla-e2e-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "ch2_chain.nii").string();
  med::io::SaveImage().save(out, path);
  med::MetaTensor back = med::io::EnsureChannelFirst()(med::io::LoadImage()(path));
  EXPECT_TRUE(at::equal(back.data, want));
  EXPECT_LT(med::rt::maxAbsDiff(back.meta.affine, img.meta.affine), 1e-6);
  std::filesystem::remove_all(dir);
}

} // namespace
