// Shared helpers of the I/O tests: temporary folders, affines and data paths.
#pragma once

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "med/io/image_io.h"

namespace med::io::test {

/// A fresh folder /tmp/medulla-io-test-<pid>/<name>, removed with its content at scope exit
/// (and the per-process folder with it when it is left empty).
class ScratchDir {
public:
  explicit ScratchDir(const std::string &name)
      : path_(std::filesystem::path("/tmp") / ("medulla-io-test-" + std::to_string(::getpid())) /
              name) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    std::filesystem::remove(path_.parent_path(), ec); // the per-process folder, once empty
  }
  std::string operator/(const std::string &file) const { return (path_ / file).string(); }
  const std::filesystem::path &path() const { return path_; }

private:
  std::filesystem::path path_;
};

/// A non-trivial RAS affine for `dims` (2 or 3) spatial axes: permuted and flipped axes,
/// non-unit spacing and an origin, drawn from `seed`.
inline Affine randomAffine(int dims, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<int> perm(dims);
  for (int i = 0; i < dims; ++i)
    perm[i] = i;
  do
    std::shuffle(perm.begin(), perm.end(), rng);
  while (perm[0] == 0); // make sure the axes really are permuted
  std::uniform_real_distribution<double> spacing(0.4, 3.0), origin(-120.0, 120.0);
  Affine a = rt::identityAffine();
  for (int c = 0; c < dims; ++c) {
    a[c * 4 + c] = 0.0;
    const double sign = (rng() & 1) ? -1.0 : 1.0;
    a[perm[c] * 4 + c] = sign * spacing(rng);
  }
  for (int r = 0; r < dims; ++r)
    a[r * 4 + 3] = origin(rng);
  return a;
}

/// EXPECT that two affines agree element-wise within `tol`.
inline void expectAffineNear(const Affine &actual, const Affine &expected, double tol,
                             const std::string &what) {
  for (int i = 0; i < 16; ++i)
    EXPECT_NEAR(actual[i], expected[i], tol)
        << what << ": element (" << i / 4 << ", " << i % 4 << ")";
}

inline constexpr const char *kCt5n =
    "/usr/lib/python3/dist-packages/pydicom/data/test_files/dicomdirtests/98892001/CT5N";
inline constexpr const char *kCh2 = "/usr/share/mricron/templates/ch2.nii.gz";
inline constexpr const char *kExample4d =
    "/usr/lib/python3/dist-packages/nibabel/tests/data/example4d.nii.gz";

/// Skips the current test when `path` (a Debian test-data file) is not installed.
#define MED_REQUIRE_FILE(path)                                                                     \
  if (!std::filesystem::exists(path))                                                              \
  GTEST_SKIP() << "test data not installed: " << (path)

} // namespace med::io::test
