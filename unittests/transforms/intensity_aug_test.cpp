// MaskIntensity and the host random intensity augmentations: hand-checked properties, prob 0 =
// identity, reproducibility for a fixed key, compiled Compose == Compose::eager.
#include <ATen/ops/fft_fftn.h>
#include <ATen/ops/fft_fftshift.h>

#include "med/transforms/compose.h"
#include "med/transforms/intensity.h"
#include "med/transforms/intensity_aug.h"

#include "test_util.h"

namespace {

// The parameters a transform draws for `key` (what Compose passes to eager()).
std::vector<double> draw(const T::RandomTransform &t, med::rt::RandomKey key) {
  med::rt::Rng rng(key);
  std::vector<double> p;
  t.sample(rng, p);
  EXPECT_EQ(static_cast<int>(p.size()), t.numParams()) << t.name();
  return p;
}

med::MetaTensor positiveVolume() {
  med::MetaTensor img = volume({2, 12, 10, 8});
  return img.withData(img.data + 1.0);
}

TEST(MaskIntensity, KeepsVoxelsWhereTheMaskIsPositive) {
  med::MetaTensor img = positiveVolume();
  at::Tensor mask = (at::arange(12 * 10 * 8).reshape({1, 12, 10, 8}) % 3) - 1.0;
  at::Tensor out = T::MaskIntensity(T::MaskIntensityOptions(mask)).eager(img).data;
  EXPECT_TRUE(at::equal(out, img.data * (mask > 0).to(at::kFloat)));
  // A per-channel mask and a custom select_fn.
  at::Tensor two = at::stack({mask[0], -mask[0]});
  T::MaskIntensityOptions o(two);
  o.select_fn([](const at::Tensor &m) { return m < 0; });
  EXPECT_TRUE(at::equal(T::MaskIntensity(o).eager(img).data, img.data * (two < 0)));
  expectError(
      [&] {
        T::MaskIntensity(T::MaskIntensityOptions(at::ones({3, 12, 10, 8}))).eager(img);
      },
      {"MaskIntensity.mask_data", "channels"});
  expectError([] { T::MaskIntensity(T::MaskIntensityOptions(at::Tensor())); },
              {"MaskIntensity.mask_data"});
}

TEST(RandCoarseDropout, FillsExactlyTheDrawnBoxes) {
  med::MetaTensor img = positiveVolume(); // no zeros
  T::RandCoarseDropoutOptions o(3, {3, 4, 2});
  o.fill_value(0.0).max_holes(6).max_spatial_size(std::vector<int64_t>{5, -1, 4}).prob(1.0);
  T::RandCoarseDropout t(o);
  for (uint64_t s = 0; s < 10; ++s) {
    auto p = draw(t, {5, 0, s, 0});
    auto boxes = t.holes(img.data, p.data());
    EXPECT_GE(boxes.size(), 3u);
    EXPECT_LE(boxes.size(), 6u);
    at::Tensor expect = at::ones_like(img.data, at::kBool);
    for (const auto &b : boxes) {
      EXPECT_GE(b[0].second, 3);
      EXPECT_LE(b[0].second, 5);
      EXPECT_GE(b[1].second, 4);
      EXPECT_LE(b[2].second, 4);
      at::Tensor r = expect;
      for (int d = 0; d < 3; ++d)
        r = r.narrow(d + 1, b[d].first, b[d].second);
      r.fill_(false);
    }
    at::Tensor out = t.eager(img, p.data()).data;
    EXPECT_TRUE(at::equal(out != 0, expect)) << s;
    EXPECT_TRUE(at::equal(at::where(expect, img.data, 0.0), out)) << s;
  }
  // dropout_holes=false keeps only the boxes; a (low, high) fill draws per voxel.
  T::RandCoarseDropoutOptions k(2, {4});
  k.dropout_holes(false).fill_value(T::FillValue(-2.0, -1.0)).prob(1.0);
  T::RandCoarseDropout keep(k);
  auto p = draw(keep, {1, 0, 0, 0});
  at::Tensor out = keep.eager(img, p.data()).data;
  at::Tensor inBox = out > 0;
  EXPECT_EQ(at::where(inBox, out, 0.0).count_nonzero().item<int64_t>(),
            inBox.sum().item<int64_t>());
  at::Tensor outside = out.masked_select(~inBox);
  EXPECT_GE(outside.min().item<double>(), -2.0);
  EXPECT_LT(outside.max().item<double>(), -1.0);
  EXPECT_TRUE(at::equal(out.masked_select(inBox), img.data.masked_select(inBox)));
  expectError([] { T::RandCoarseDropout(T::RandCoarseDropoutOptions(0, {4})); },
              {"RandCoarseDropout.holes"});
  expectError([] { T::RandCoarseDropout(T::RandCoarseDropoutOptions(3, {4}).max_holes(2)); },
              {"RandCoarseDropout.max_holes"});
}

// Compiled, RandCoarseDropout is med.coarse_dropout: the same boxes (shape operands drawn per
// call) and the same per-voxel fill uniforms in f64, so results equal the reference bit for bit.
TEST(RandCoarseDropout, CompiledEqualsEagerBitForBit) {
  std::vector<T::RandCoarseDropoutOptions> options;
  options.push_back(T::RandCoarseDropoutOptions(3, {3}).max_holes(6).prob(0.8));
  options.push_back(
      T::RandCoarseDropoutOptions(2, {4}).fill_value(T::FillValue(-2.0, 5.0)).prob(0.8));
  options.push_back(T::RandCoarseDropoutOptions(2, {5, -1, 3})
                        .dropout_holes(false)
                        .fill_value(7.0)
                        .max_spatial_size(std::vector<int64_t>{8, -1, 6})
                        .prob(0.8));
  for (const auto &o : options) {
    T::Compose chain({T::RandCoarseDropout(o), T::ShiftIntensity(T::ShiftIntensityOptions(1.0))});
    EXPECT_TRUE(T::RandCoarseDropout(o).traceable());
    for (at::ScalarType dtype : {at::kFloat, at::kDouble, at::kShort})
      for (std::vector<int64_t> shape : {std::vector<int64_t>{2, 12, 9, 7}, {1, 23, 17}}) {
        if (o.spatial_size().size() == 3 && shape.size() == 3)
          continue; // sizes per axis of a 3-D image
        at::Tensor x = (at::randn(shape, at::kDouble) * 50).to(dtype);
        med::MetaTensor img(x);
        for (int threads : {1, 2})
          for (bool fuse : {true, false}) {
            auto run = chain.compile(T::Schedule::cpu().threads(threads).fuse(fuse));
            for (uint64_t s = 0; s < 5; ++s) {
              const med::rt::RandomKey key{6, 2, s, 0};
              at::Tensor got = run.run(img, key).data, want = chain.eager(img, key).data;
              EXPECT_TRUE(at::equal(got, want))
                  << c10::toString(dtype) << " rank " << shape.size() - 1 << " threads " << threads
                  << " fuse " << fuse << " sample " << s << " holes " << o.dropout_holes()
                  << ": max difference "
                  << (got.to(at::kDouble) - want.to(at::kDouble)).abs().max().item<double>();
            }
          }
      }
  }
  // More boxes than the kernel takes: a host step, still the reference.
  T::RandCoarseDropout many(T::RandCoarseDropoutOptions(65, {2}).fill_value(0.0).prob(1.0));
  EXPECT_FALSE(many.traceable());
  T::Compose manyChain({many});
  med::MetaTensor y(at::randn({1, 20, 20, 20}));
  EXPECT_TRUE(at::equal(manyChain.compile().run(y, {1, 0, 0, 0}).data,
                        manyChain.eager(y, {1, 0, 0, 0}).data));
}

TEST(RandHistogramShift, IsMonotoneAndKeepsTheRange) {
  med::MetaTensor img(at::randn({1, 20, 20, 10}) * 50);
  T::RandHistogramShift t(T::RandHistogramShiftOptions(4, 12).prob(1.0));
  for (uint64_t s = 0; s < 8; ++s) {
    auto p = draw(t, {9, 0, s, 0});
    auto [ref, flt] = t.controlPoints(p.data());
    EXPECT_GE(ref.size(), 4u);
    EXPECT_LE(ref.size(), 12u);
    for (size_t i = 1; i < flt.size(); ++i)
      EXPECT_LE(flt[i - 1], flt[i]);
    at::Tensor x = img.data.flatten();
    at::Tensor y = t.eager(img, p.data()).data.flatten();
    at::Tensor order = at::argsort(x);
    at::Tensor ys = y.index_select(0, order);
    const double span = (x.max() - x.min()).item<double>();
    EXPECT_GE((ys.slice(0, 1) - ys.slice(0, 0, -1)).min().item<double>(), -1e-5 * span) << s;
    EXPECT_NEAR(y.min().item<double>(), x.min().item<double>(), 1e-4 * span);
    EXPECT_NEAR(y.max().item<double>(), x.max().item<double>(), 1e-4 * span);
  }
  expectError([] { T::RandHistogramShift(T::RandHistogramShiftOptions(2)); },
              {"RandHistogramShift.num_control_points"});
}

// Compiled, RandHistogramShift is a med.extrema split and a med.histogram_shift map (with the
// ShiftIntensity after it fused in); the counts drawn vary (4..12), so most calls leave some of
// the kernel's control-point operands unused.
TEST(RandHistogramShift, CompiledEqualsEagerAcrossTypesShapesThreadsAndSchedules) {
  T::Compose chain({T::RandHistogramShift(T::RandHistogramShiftOptions(4, 12).prob(0.8)),
                    T::ShiftIntensity(T::ShiftIntensityOptions(0.25))});
  EXPECT_TRUE(T::RandHistogramShift(T::RandHistogramShiftOptions(4, 12)).traceable());
  for (at::ScalarType dtype : {at::kFloat, at::kDouble, at::kShort})
    for (std::vector<int64_t> shape : {std::vector<int64_t>{1, 20, 18, 9}, {2, 33, 17}}) {
      at::Tensor x = (at::randn(shape, at::kDouble) * 300).to(dtype);
      med::MetaTensor img(x);
      for (int threads : {1, 2})
        for (bool fuse : {true, false}) {
          auto run = chain.compile(T::Schedule::cpu().threads(threads).fuse(fuse));
          for (uint64_t s = 0; s < 6; ++s) {
            const med::rt::RandomKey key{21, 0, s, 0};
            at::Tensor got = run.run(img, key).data, want = chain.eager(img, key).data;
            const std::string where = std::string(c10::toString(dtype)) + " rank " +
                                      std::to_string(shape.size() - 1) + " threads " +
                                      std::to_string(threads) + " sample " + std::to_string(s);
            ASSERT_EQ(got.scalar_type(), dtype) << where;
            // float32 and float64 follow the reference's operations; an int16 result may
            // truncate to the neighbouring integer where the two round differently.
            const double atol = dtype == at::kShort ? 1.0 : dtype == at::kFloat ? 1e-3 : 1e-9;
            EXPECT_TRUE(at::allclose(got.to(at::kDouble), want.to(at::kDouble), 0, atol))
                << where << ": max difference "
                << (got.to(at::kDouble) - want.to(at::kDouble)).abs().max().item<double>();
          }
        }
    }
  // NaN spreads through min and max to every voxel, as in the reference; a constant image and
  // a call that does not fire come back unchanged.
  T::Compose alone({T::RandHistogramShift(T::RandHistogramShiftOptions(5).prob(1.0))});
  at::Tensor withNan = at::randn({1, 9, 8, 7});
  withNan.view(-1)[100] = NAN;
  at::Tensor nanOut = alone.compile().run(med::MetaTensor(withNan), {1, 0, 0, 0}).data;
  EXPECT_TRUE(at::isnan(nanOut).all().item<bool>());
  EXPECT_TRUE(
      at::isnan(alone.eager(med::MetaTensor(withNan), {1, 0, 0, 0}).data).all().item<bool>());
  at::Tensor flat = at::full({1, 6, 5, 4}, 3.5);
  EXPECT_TRUE(at::equal(alone.compile().run(med::MetaTensor(flat), {1, 0, 0, 0}).data, flat));
  at::Tensor big = at::randint(-100000000, 100000000, {1, 7, 6, 5}, at::kInt);
  T::Compose never({T::RandHistogramShift(T::RandHistogramShiftOptions(5).prob(0.0))});
  EXPECT_TRUE(at::equal(never.compile().run(med::MetaTensor(big), {1, 0, 0, 0}).data, big));
  // More control points than a kernel takes as operands: the transform runs as a host step.
  T::RandHistogramShift many(T::RandHistogramShiftOptions(300).prob(1.0));
  EXPECT_FALSE(many.traceable());
  T::Compose manyChain({many, T::ShiftIntensity(T::ShiftIntensityOptions(1.0))});
  at::Tensor y = at::randn({1, 10, 9, 8});
  EXPECT_TRUE(at::allclose(manyChain.compile().run(med::MetaTensor(y), {2, 0, 0, 0}).data,
                           manyChain.eager(med::MetaTensor(y), {2, 0, 0, 0}).data, 1e-5, 1e-5));
}

TEST(RandBiasField, MultipliesByTheExpOfTheLegendreField) {
  // Degree 1 in 2D: terms (0,0), (1,0), (1,1) -> c0 + c1 x + c2 x y on [-1, 1]^2.
  med::MetaTensor img(at::ones({1, 5, 4}) * 2.0);
  T::RandBiasField t(T::RandBiasFieldOptions().degree(1).coeff_range({0.1, 0.5}).prob(1.0));
  auto p = draw(t, {2, 0, 0, 0});
  med::rt::Rng rng(T::detail::subStream(p.data()));
  double c[3];
  for (double &v : c)
    v = rng.uniform(0.1, 0.5);
  at::Tensor x = at::linspace(-1, 1, 5, at::kDouble).view({-1, 1});
  at::Tensor y = at::linspace(-1, 1, 4, at::kDouble).view({1, -1});
  at::Tensor field = c[0] + c[1] * x + c[2] * x * y;
  at::Tensor out = t.eager(img, p.data()).data;
  EXPECT_EQ(out.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::allclose(out[0].to(at::kDouble), 2.0 * at::exp(field), 1e-6, 1e-6));
  // 3D degree 3: 20 coefficients, all channels share the field.
  med::MetaTensor vol = positiveVolume();
  T::RandBiasField t3(T::RandBiasFieldOptions().prob(1.0));
  auto p3 = draw(t3, {2, 0, 1, 0});
  at::Tensor o3 = t3.eager(vol, p3.data()).data;
  EXPECT_TRUE(at::allclose(o3[0] / vol.data[0], o3[1] / vol.data[1], 1e-5, 1e-6));
  expectError([] { T::RandBiasField(T::RandBiasFieldOptions().degree(0)); },
              {"RandBiasField.degree"});
}

TEST(RandRicianNoise, IsNonNegativeAndUsesTwoNoiseStreams) {
  med::MetaTensor img(at::randn({2, 10, 10, 6}));
  T::RandRicianNoise t(
      T::RandRicianNoiseOptions().std({0.3}).mean({0.1}).sample_std(false).prob(1.0));
  auto p = draw(t, {4, 0, 0, 0});
  at::Tensor out = t.eager(img, p.data()).data;
  EXPECT_GE(out.min().item<double>(), 0.0);
  // sqrt((x + n1)^2 + n2^2) with n1, n2 from two distinct voxel streams.
  auto k1 = med::rt::streamKey(T::detail::subStream(p.data(), 1));
  auto k2 = med::rt::streamKey(T::detail::subStream(p.data(), 2));
  EXPECT_NE(k1, k2);
  at::Tensor n1 = at::empty({img.data.numel()}, at::kDouble), n2 = at::empty_like(n1);
  for (int64_t i = 0; i < n1.numel(); ++i) {
    n1[i] = 0.1 + 0.3 * med::rt::voxelNormal(k1, i);
    n2[i] = 0.1 + 0.3 * med::rt::voxelNormal(k2, i);
  }
  at::Tensor x = img.data.flatten();
  at::Tensor expect = at::sqrt((x + n1.to(at::kFloat)).pow(2) + n2.to(at::kFloat).pow(2));
  EXPECT_TRUE(at::allclose(out.flatten(), expect, 1e-5, 1e-6));
  // Channel-wise with relative std: still >= 0, and channels get different noise levels.
  T::RandRicianNoise cw(
      T::RandRicianNoiseOptions().channel_wise(true).relative(true).std({0.5, 2.0}).prob(1.0));
  at::Tensor o2 = cw.eager(img, draw(cw, {4, 0, 1, 0}).data()).data;
  EXPECT_GE(o2.min().item<double>(), 0.0);
  expectError(
      [] {
        T::RandRicianNoise(T::RandRicianNoiseOptions().std({1.0, 2.0}));
      },
      {"RandRicianNoise.std", "channel_wise"});
}

// The (channel, flat k-space index) locations where two images' centred spectra differ.
std::vector<std::vector<int64_t>> changedK(const at::Tensor &a, const at::Tensor &b) {
  std::vector<int64_t> dims{1, 2, 3};
  at::Tensor ka = at::fft_fftshift(at::fft_fftn(a.to(at::kDouble), c10::nullopt, dims), dims);
  at::Tensor kb = at::fft_fftshift(at::fft_fftn(b.to(at::kDouble), c10::nullopt, dims), dims);
  at::Tensor diff = (ka - kb).abs().flatten(1);
  const double tol = 1e-3 * at::abs(ka).max().item<double>();
  std::vector<std::vector<int64_t>> out;
  for (int64_t c = 0; c < diff.size(0); ++c) {
    at::Tensor idx = (diff[c] > tol).nonzero().flatten();
    out.emplace_back(idx.data_ptr<int64_t>(), idx.data_ptr<int64_t>() + idx.numel());
  }
  return out;
}

TEST(RandKSpaceSpikeNoise, ChangesOneKSpaceLocationPerChannel) {
  med::MetaTensor img(at::randn({3, 8, 10, 6}, at::kDouble).to(at::kFloat));
  for (bool channelWise : {true, false}) {
    T::RandKSpaceSpikeNoise t(T::RandKSpaceSpikeNoiseOptions()
                                  .intensity_range(std::vector<T::AugRange>{{12.0, 13.0}})
                                  .channel_wise(channelWise)
                                  .prob(1.0));
    for (uint64_t s = 0; s < 5; ++s) {
      at::Tensor out = t.eager(img, draw(t, {8, 0, s, 0}).data()).data;
      EXPECT_EQ(out.scalar_type(), at::kFloat);
      auto changed = changedK(img.data, out);
      for (const auto &c : changed) {
        // The spike, and its conjugate-symmetric partner that taking the real part restores.
        EXPECT_GE(c.size(), 1u) << s;
        EXPECT_LE(c.size(), 2u) << s;
      }
      if (!channelWise)
        for (const auto &c : changed)
          EXPECT_EQ(c, changed[0]) << "one location for all channels";
    }
  }
  // The default range (MONAI's 0.95 / 1.1 of 2.5 mean log|k|) also spikes one location.
  T::RandKSpaceSpikeNoise dflt(T::RandKSpaceSpikeNoiseOptions().prob(1.0));
  at::Tensor out = dflt.eager(img, draw(dflt, {8, 1, 0, 0}).data()).data;
  EXPECT_FALSE(at::allclose(out, img.data));
  expectError(
      [] {
        T::RandKSpaceSpikeNoise(T::RandKSpaceSpikeNoiseOptions()
                                    .intensity_range(std::vector<T::AugRange>{{1, 2}, {3, 4}})
                                    .channel_wise(false));
      },
      {"RandKSpaceSpikeNoise.intensity_range"});
}

// Compiled, RandRicianNoise (not channel_wise) is med.rician_noise: two float32 Box-Muller
// normals per voxel from the same Philox streams the reference draws in double, so values agree
// to float32 rounding of the noise; relative calls split at the host's std.
TEST(RandRicianNoise, CompiledEqualsEagerAcrossTypesOptionsThreadsAndSchedules) {
  std::vector<T::RandRicianNoiseOptions> options = {
      T::RandRicianNoiseOptions().std({0.3}).mean({0.1}).prob(0.7),
      T::RandRicianNoiseOptions().std({0.2}).sample_std(false).relative(true).prob(0.7)};
  for (const auto &o : options) {
    T::Compose chain({T::ShiftIntensity(T::ShiftIntensityOptions(0.5)), T::RandRicianNoise(o),
                      T::ScaleIntensity(T::ScaleIntensityOptions().minv({}).maxv({}).factor(0.5))});
    EXPECT_TRUE(T::RandRicianNoise(o).traceable());
    for (at::ScalarType dtype : {at::kFloat, at::kDouble, at::kShort})
      for (std::vector<int64_t> shape : {std::vector<int64_t>{2, 13, 9, 7}, {1, 31, 17}}) {
        at::Tensor x = (at::randn(shape, at::kDouble) * 20).to(dtype);
        med::MetaTensor img(x);
        for (int threads : {1, 2})
          for (bool fuse : {true, false}) {
            auto run = chain.compile(T::Schedule::cpu().threads(threads).fuse(fuse));
            for (uint64_t s = 0; s < 5; ++s) {
              const med::rt::RandomKey key{8, 1, s, 0};
              at::Tensor got = run.run(img, key).data, want = chain.eager(img, key).data;
              ASSERT_EQ(got.scalar_type(), at::kFloat);
              const double err = (got - want).abs().max().item<double>();
              // |x| up to ~100, noise up to a few units: float32 ulps of the result.
              EXPECT_LE(err, 5e-5) << c10::toString(dtype) << " threads " << threads << " fuse "
                                   << fuse << " sample " << s << " relative " << o.relative();
            }
          }
      }
  }
  // channel_wise runs as a host step, equal to the reference by construction.
  T::RandRicianNoise cw(T::RandRicianNoiseOptions().channel_wise(true).std({0.5, 2.0}).prob(1));
  EXPECT_FALSE(cw.traceable());
  T::Compose cwChain({cw, T::ShiftIntensity(T::ShiftIntensityOptions(1.0))});
  med::MetaTensor two(at::randn({2, 8, 7, 6}));
  EXPECT_TRUE(at::allclose(cwChain.compile().run(two, {3, 0, 0, 0}).data,
                           cwChain.eager(two, {3, 0, 0, 0}).data, 1e-5, 1e-5));
}

T::Compose augChain(double prob) {
  return T::Compose({T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(-100, 100, 0, 1)),
                     T::RandCoarseDropout(T::RandCoarseDropoutOptions(2, {3}).prob(prob)),
                     T::RandHistogramShift(T::RandHistogramShiftOptions().prob(prob)),
                     T::ShiftIntensity(T::ShiftIntensityOptions(0.5)),
                     T::RandBiasField(T::RandBiasFieldOptions().prob(prob)),
                     T::RandRicianNoise(T::RandRicianNoiseOptions().std({0.05}).prob(prob)),
                     T::RandKSpaceSpikeNoise(T::RandKSpaceSpikeNoiseOptions().prob(prob))});
}

TEST(IntensityAug, CompiledComposeEqualsEagerAndIsReproducible) {
  med::MetaTensor img(at::randn({2, 12, 11, 7}) * 40);
  T::Compose chain = augChain(0.8);
  for (int threads : {1, 2}) {
    auto run = chain.compile(T::Schedule::cpu().threads(threads));
    for (uint64_t s = 0; s < 5; ++s) {
      med::rt::RandomKey key{17, 3, s, 0};
      at::Tensor a = run.run(img, key).data;
      EXPECT_TRUE(at::allclose(a, chain.eager(img, key).data, 1e-5, 1e-5)) << s;
      EXPECT_TRUE(at::equal(a, run.run(img, key).data)) << s;
    }
  }
  med::rt::RandomKey k1{17, 3, 0, 0}, k2{17, 3, 1, 0};
  EXPECT_FALSE(at::equal(chain.eager(img, k1).data, chain.eager(img, k2).data));
}

TEST(IntensityAug, ProbZeroIsIdentity) {
  med::MetaTensor img(at::randn({2, 9, 8, 7}) * 40);
  T::Compose chain = augChain(0.0);
  at::Tensor expect = (img.data + 100.0) / 200.0 + 0.5;
  for (uint64_t s = 0; s < 3; ++s)
    EXPECT_TRUE(at::allclose(chain.compile().run(img, {1, 0, s, 0}).data, expect, 1e-5, 1e-6));
}

TEST(IntensityAug, TwoDImagesAndDictionaryKeysShareTheCallsDraws) {
  med::MetaTensor img(at::randn({1, 16, 12}) * 10);
  T::Compose chain(
      {T::RandCoarseDropoutd({"a", "b"}, T::RandCoarseDropoutOptions(2, {3}).prob(1)),
       T::RandHistogramShiftd({"a", "b"}, T::RandHistogramShiftOptions().prob(1)),
       T::RandBiasFieldd({"a", "b"}, T::RandBiasFieldOptions().prob(1)),
       T::RandRicianNoised({"a", "b"}, T::RandRicianNoiseOptions().prob(1)),
       T::RandKSpaceSpikeNoised({"a", "b"}, T::RandKSpaceSpikeNoiseOptions().prob(1))});
  med::Data d{{"a", img}, {"b", img}};
  med::Data out = chain.compile().run(d, {3, 0, 0, 0});
  EXPECT_EQ(out.at("a").data.sizes(), img.data.sizes());
  EXPECT_TRUE(at::equal(out.at("a").data, out.at("b").data));
  EXPECT_FALSE(at::allclose(out.at("a").data, img.data));
  med::Data ref = chain.eager(d, {3, 0, 0, 0});
  // The compiled Rician noise differs from the reference's by float32 rounding (a few 1e-6 of
  // its ~10-unit values), which the k-space step's FFT sums over the image into every voxel.
  const double scale = ref.at("a").data.abs().max().item<double>();
  const double err = (out.at("a").data - ref.at("a").data).abs().max().item<double>();
  EXPECT_LE(err, 1e-5 * scale) << "scale " << scale;
}

} // namespace
