// Gaussian smoothing and sharpening: MONAI golden cases, kernels, and the random forms
// (reproducible, prob 0 = identity, compiled Compose == eager for the same key).
#include "med/transforms/compose.h"
#include "med/transforms/intensity.h"
#include "med/transforms/smooth.h"

#include "test_util.h"

namespace {

// The golden README's tolerance: |a - r| <= atol * max(1, max|r|) + rtol * |r|.
void expectGoldenClose(const at::Tensor &out, const at::Tensor &ref, const std::string &what) {
  ASSERT_EQ(out.sizes(), ref.sizes()) << what;
  at::Tensor a = out.to(at::kDouble), r = ref.to(at::kDouble);
  const double atol = 1e-5 * std::max(1.0, r.abs().max().item<double>());
  EXPECT_TRUE(((a - r).abs() <= atol + 1e-4 * r.abs()).all().item<bool>())
      << what << ": max diff " << (a - r).abs().max().item<double>();
}

std::vector<double> sigmaOf(const json &v) {
  if (v.is_number())
    return {v.get<double>()};
  return v.get<std::vector<double>>();
}

void runGolden(const std::string &name) {
  auto g = loadCase(name);
  if (!g)
    GTEST_SKIP() << "golden case " << name << " not found under " MED_GOLDEN_DIR;
  T::GaussianSmoothOptions o(sigmaOf(g->c["params"]["sigma"]));
  o.approx(g->c["params"]["approx"].get<std::string>());
  med::MetaTensor img = g->input();
  at::Tensor ref = readNpy(g->dir / "output_out.npy");
  expectGoldenClose(T::GaussianSmooth(o).eager(img).data, ref, name + " eager");
  med::MetaTensor out = T::Compose({T::GaussianSmooth(o)}).compile()(img);
  expectGoldenClose(out.data, ref, name + " compiled");
  EXPECT_EQ(out.data.scalar_type(), at::kFloat);
  EXPECT_LT(med::rt::maxAbsDiff(out.meta.affine, img.meta.affine), 1e-12);
}

TEST(GaussianSmooth, GoldenSigma1Erf) { runGolden("gaussian_smooth_sigma1_erf"); }
TEST(GaussianSmooth, GoldenSigma15Sampled) { runGolden("gaussian_smooth_sigma1.5_sampled"); }
TEST(GaussianSmooth, GoldenSigma1Scalespace) { runGolden("gaussian_smooth_sigma1_scalespace"); }
TEST(GaussianSmooth, GoldenAnisotropicErf) { runGolden("gaussian_smooth_aniso_erf"); }

TEST(GaussianSmooth, KernelsAreMonaisShapes) {
  for (const char *approx : {"erf", "sampled", "scalespace"}) {
    at::Tensor k = T::detail::gaussianKernel1d(1.0, approx);
    EXPECT_EQ(k.numel(), 9) << approx; // tail = int(max(4 sigma, 0.5) + 0.5) = 4
    EXPECT_NEAR(k.sum().item<double>(), 1.0, 1e-3) << approx;
    EXPECT_TRUE(at::allclose(k, k.flip(0))) << approx;
  }
  EXPECT_EQ(T::detail::gaussianKernel1d(0.1, "erf").numel(), 3);
  EXPECT_EQ(T::detail::gaussianKernel1d(2.5, "erf").numel(), 21);
}

TEST(GaussianSmooth, ConstantInteriorStaysAndBordersSeeZeroPadding) {
  med::MetaTensor img(at::full({2, 30, 30}, 5.0));
  at::Tensor out = T::GaussianSmooth(T::GaussianSmoothOptions(1.0)).eager(img).data;
  EXPECT_NEAR(out[0][15][15].item<double>(), 5.0, 1e-4);
  EXPECT_LT(out[1][0][0].item<double>(), 4.0); // zero padding darkens the corner
  // Integer input becomes float32, as MONAI's GaussianSmooth.
  med::MetaTensor ints(at::full({1, 9, 9}, 3, at::kShort));
  EXPECT_EQ(T::GaussianSmooth().eager(ints).data.scalar_type(), at::kFloat);
}

TEST(GaussianSharpen, IsBlurPlusAlphaTimesDetail) {
  med::MetaTensor img = volume({1, 12, 10, 8});
  T::GaussianSharpenOptions o;
  o.sigma1({1.5}).sigma2({0.5}).alpha(4.0);
  at::Tensor b = T::GaussianSmooth(T::GaussianSmoothOptions(1.5)).eager(img).data;
  at::Tensor bb = T::GaussianSmooth(T::GaussianSmoothOptions(0.5)).eager(img.withData(b)).data;
  at::Tensor out = T::GaussianSharpen(o).eager(img).data;
  EXPECT_TRUE(at::allclose(out, b + 4.0 * (b - bb), 1e-5, 1e-3));
  // Defaults (3, 1, 30): a constant interior stays constant.
  med::MetaTensor flat(at::full({1, 60, 60}, 2.0));
  at::Tensor s = T::GaussianSharpen().eager(flat).data;
  EXPECT_NEAR(s[0][30][30].item<double>(), 2.0, 1e-3);
}

TEST(GaussianSmooth, InvalidParametersNameTheParameter) {
  expectError([] { T::GaussianSmooth(T::GaussianSmoothOptions(0.0)); },
              {"GaussianSmooth.sigma", "> 0"});
  expectError([] { T::GaussianSmooth(T::GaussianSmoothOptions(1.0).approx("box")); },
              {"GaussianSmooth.sigma.approx", "box"});
  expectError(
      [] {
        T::GaussianSmooth(T::GaussianSmoothOptions({1.0, 2.0})).eager(volume({1, 4, 4, 4}));
      },
      {"GaussianSmooth.sigma", "3 spatial axes"});
  expectError([] { T::GaussianSharpen(T::GaussianSharpenOptions().sigma2({-1.0})); },
              {"GaussianSharpen.sigma2"});
  expectError(
      [] {
        T::RandGaussianSmooth(T::RandGaussianSmoothOptions().sigma_y({2.0, 1.0}));
      },
      {"RandGaussianSmooth.sigma_y"});
  expectError([] { T::RandGaussianSharpen(T::RandGaussianSharpenOptions().prob(2)); },
              {"RandGaussianSharpen.prob"});
  expectError(
      [] {
        T::RandGaussianSharpen(T::RandGaussianSharpenOptions().sigma2_x({0.0, 1.0}));
      },
      {"RandGaussianSharpen.sigma2_x"});
}

TEST(RandGaussianSmooth, FiresWithTheDrawnSigmasAndProbZeroIsIdentity) {
  med::MetaTensor img = volume({1, 10, 9, 8});
  T::RandGaussianSmooth t(T::RandGaussianSmoothOptions().prob(1.0));
  med::rt::Rng rng(med::rt::RandomKey{3, 0, 1, 0});
  std::vector<double> p;
  t.sample(rng, p);
  ASSERT_EQ(static_cast<int>(p.size()), t.numParams());
  for (int i = 1; i < 4; ++i) {
    EXPECT_GE(p[i], 0.25);
    EXPECT_LT(p[i], 1.5);
  }
  at::Tensor expect =
      T::GaussianSmooth(T::GaussianSmoothOptions({p[1], p[2], p[3]})).eager(img).data;
  EXPECT_TRUE(at::equal(t.eager(img, p.data()).data, expect));
  T::RandGaussianSmooth off(T::RandGaussianSmoothOptions().prob(0.0));
  EXPECT_TRUE(at::equal(off.eager(img).data, img.data));
  // Traced: the draws, then per axis a pass with the shape and the 13 taps of sigma 1.5.
  med::frontend::ChainSpec c;
  c.spatialRank = 3;
  t.trace(c);
  ASSERT_EQ(c.ops.size(), 3u);
  EXPECT_EQ(c.numParams, 4 + 3 * (3 + 13));
  for (const auto &op : c.ops)
    EXPECT_EQ(op.op, "filter_axis");
}

TEST(RandGaussianSharpen, Sigma2IsDrawnUpToSigma1) {
  T::RandGaussianSharpen t(T::RandGaussianSharpenOptions().prob(1.0));
  for (uint64_t s = 0; s < 50; ++s) {
    med::rt::Rng rng(med::rt::RandomKey{1, 0, s, 0});
    std::vector<double> p;
    t.sample(rng, p);
    ASSERT_EQ(static_cast<int>(p.size()), t.numParams());
    for (int i = 0; i < 3; ++i) {
      EXPECT_GE(p[1 + i], 0.5);
      EXPECT_LT(p[1 + i], 1.0);
      EXPECT_GE(p[4 + i], 0.5);
      EXPECT_LE(p[4 + i], p[1 + i]);
    }
    EXPECT_GE(p[7], 10.0);
    EXPECT_LT(p[7], 30.0);
  }
}

TEST(RandGaussianSmooth, CompiledComposeEqualsEagerAndIsReproducible) {
  med::MetaTensor img(at::randn({1, 16, 14, 12}) * 100);
  T::Compose chain({T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(-300, 300, 0, 1)),
                    T::RandGaussianSmooth(T::RandGaussianSmoothOptions().prob(0.7)),
                    T::ShiftIntensity(T::ShiftIntensityOptions(1.0)),
                    T::RandGaussianSharpen(T::RandGaussianSharpenOptions().prob(0.7))});
  auto run = chain.compile(T::Schedule::cpu().threads(2));
  for (uint64_t s = 0; s < 6; ++s) {
    med::rt::RandomKey key{42, 1, s, 0};
    at::Tensor a = run.run(img, key).data;
    EXPECT_TRUE(at::allclose(a, chain.eager(img, key).data, 1e-5, 1e-5)) << s;
    EXPECT_TRUE(at::equal(a, run.run(img, key).data)) << s;
  }
}

} // namespace
