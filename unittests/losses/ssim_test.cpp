// SSIMLoss against MONAI's stored SSIMMetric results (1 - per-item SSIM) and a window loop.
#include <cstring>
#include <filesystem>
#include <fstream>

#include "med/core/error.h"
#include "med/losses/ssim.h"
#include "reference.h"

namespace med::losses::test {
namespace {

/// Reads a little-endian float32 C-order .npy (version 1.0) of the given shape.
at::Tensor readNpyF32(const std::filesystem::path &p, std::vector<int64_t> shape) {
  std::ifstream f(p, std::ios::binary);
  char magic[8];
  f.read(magic, 8);
  uint16_t hlen = 0;
  f.read(reinterpret_cast<char *>(&hlen), 2);
  std::string header(hlen, ' ');
  f.read(header.data(), hlen);
  EXPECT_NE(header.find("<f4"), std::string::npos) << p;
  at::Tensor t = at::empty(shape, at::kFloat);
  f.read(reinterpret_cast<char *>(t.data_ptr<float>()), std::streamsize(t.nbytes()));
  EXPECT_TRUE(bool(f)) << p;
  return t;
}

TEST(SSIMLoss, MatchesMonaiSSIMMetricGolden) {
  std::filesystem::path dir = std::filesystem::path(MED_GOLDEN_DIR) / "seed0" / "metrics";
  if (!std::filesystem::exists(dir))
    GTEST_SKIP() << "golden folder not found: " << dir;
  struct Case {
    std::string name, kernel;
    int64_t nd, win;
    std::vector<int64_t> shape;
    std::vector<double> ssim; // MONAI's per_item
  };
  std::vector<Case> cases = {{"ssim2d_gaussian_w11",
                              "gaussian",
                              2,
                              11,
                              {2, 1, 32, 28},
                              {0.8577128648757935, 0.8351020216941833}},
                             {"ssim3d_gaussian_w7",
                              "gaussian",
                              3,
                              7,
                              {2, 1, 32, 28, 24},
                              {0.8564236164093018, 0.8570827841758728}},
                             {"ssim3d_uniform_w5",
                              "uniform",
                              3,
                              5,
                              {2, 1, 32, 28, 24},
                              {0.8495622873306274, 0.8484120965003967}}};
  for (const Case &c : cases) {
    at::Tensor p = readNpyF32(dir / c.name / "input_y_pred.npy", c.shape);
    at::Tensor y = readNpyF32(dir / c.name / "input_y.npy", c.shape);
    SSIMLoss loss(SSIMLossOptions(c.nd).kernel_type(c.kernel).win_size(c.win).reduction("none"));
    at::Tensor out = loss(p, y);
    ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2, 1}));
    for (int64_t b = 0; b < 2; ++b)
      EXPECT_NEAR(out[b][0].item<double>(), 1 - c.ssim[b], 2e-6) << c.name;
  }
}

TEST(SSIMLoss, UniformWindowLoops2D) {
  at::manual_seed(80);
  at::Tensor x = at::rand({1, 1, 6, 5}, at::kDouble), y = at::rand({1, 1, 6, 5}, at::kDouble);
  double c1 = 1e-4, c2 = 9e-4, total = 0;
  for (int64_t i = 0; i + 3 <= 6; ++i)
    for (int64_t j = 0; j + 3 <= 5; ++j) {
      at::Tensor a = x[0][0].slice(0, i, i + 3).slice(1, j, j + 3);
      at::Tensor b = y[0][0].slice(0, i, i + 3).slice(1, j, j + 3);
      double ma = a.mean().item<double>(), mb = b.mean().item<double>();
      double va = (a * a).mean().item<double>() - ma * ma,
             vb = (b * b).mean().item<double>() - mb * mb;
      double cov = (a * b).mean().item<double>() - ma * mb;
      total += (2 * ma * mb + c1) / (ma * ma + mb * mb + c1) * (2 * cov + c2) / (va + vb + c2);
    }
  SSIMLoss loss(SSIMLossOptions(2).kernel_type("uniform").win_size(3));
  EXPECT_NEAR(loss(x, y).item<double>(), 1 - total / 12, 1e-6);
  EXPECT_NEAR(loss(x, x).item<double>(), 0.0, 1e-6);
  EXPECT_THROW(loss(x, y.slice(3, 0, 4)), med::Error);
  EXPECT_THROW(SSIMLoss(SSIMLossOptions(4)), med::Error);
}

} // namespace
} // namespace med::losses::test
