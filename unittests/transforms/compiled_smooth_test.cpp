// GaussianSmooth and RandGaussianSmooth compiled (one med.filter_axis kernel per axis) against
// their eager ATen references: 2-D and 3-D, odd sizes, several input types, the three kernel
// constructions, fused and unfused, 1 and 2 threads, random calls that fire and that do not,
// and batches.
#include "compiled_util.h"
#include "med/transforms/intensity.h"
#include "med/transforms/smooth.h"

namespace {

bool tracesPasses(const T::Compose &chain, c10::ScalarType dtype, int rank) {
  int passes = 0;
  for (const std::string &ir : chain.compile().ir(dtype, "", rank))
    passes += ir.find("med.filter_axis") != std::string::npos;
  return passes == rank;
}

TEST(CompiledSmooth, GaussianSmoothEqualsEager) {
  const med::rt::RandomKey key{1, 0, 0, 0};
  for (auto shape : {std::vector<int64_t>{2, 17, 9, 12}, std::vector<int64_t>{1, 23, 30}})
    for (const char *approx : {"erf", "sampled", "scalespace"})
      for (std::vector<double> sigma : {std::vector<double>{1.0}, std::vector<double>{0.6, 2.5}}) {
        const int rank = static_cast<int>(shape.size()) - 1;
        if (sigma.size() == 2 && rank == 3)
          sigma.push_back(1.3);
        T::Compose chain({T::GaussianSmooth(T::GaussianSmoothOptions(sigma).approx(approx))});
        ASSERT_TRUE(tracesPasses(chain, at::kFloat, rank));
        med::MetaTensor img = smooth(shape, 3);
        img.data = img.data * 200.0f - 50.0f;
        expectCompiledEqualsEager(chain, img, key, 2e-4,
                                  std::string(approx) + " rank " + std::to_string(rank));
      }
}

TEST(CompiledSmooth, IntegerAndDoubleImagesGiveFloat32) {
  const med::rt::RandomKey key{1, 0, 0, 0};
  T::Compose chain({T::GaussianSmooth(T::GaussianSmoothOptions(1.5))});
  med::MetaTensor img = smooth({1, 11, 14, 9}, 4);
  for (auto dtype : {at::kShort, at::kByte, at::kDouble}) {
    med::MetaTensor typed = img;
    typed.data = (img.data * 100.0f).to(dtype);
    expectCompiledEqualsEager(chain, typed, key, 1e-4, std::string(c10::toString(dtype)));
  }
}

TEST(CompiledSmooth, NeighboursFuseAroundThePasses) {
  // ShiftIntensity before the first pass starts its kernel; ScaleIntensityRange after the last
  // joins it as the epilogue. Inf and NaN voxels spread as the convolution spreads them.
  const med::rt::RandomKey key{2, 0, 0, 0};
  T::Compose chain(
      {T::ShiftIntensity(T::ShiftIntensityOptions(3.0)),
       T::GaussianSmooth(T::GaussianSmoothOptions({0.8, 1.2, 0.5})),
       T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(-10, 10, 0, 1).clip(true))});
  med::MetaTensor img = smooth({1, 12, 10, 16}, 5);
  img.data = img.data * 20.0f - 10.0f;
  img.data[0][5][5][5] = std::numeric_limits<float>::infinity();
  img.data[0][1][2][3] = std::numeric_limits<float>::quiet_NaN();
  const med::MetaTensor ref = chain.eager(img, key);
  for (bool fuse : {true, false}) {
    med::MetaTensor out = chain.compile(T::Schedule::cpu().threads(2).fuse(fuse)).run(img, key);
    EXPECT_TRUE(at::equal(at::isnan(out.data), at::isnan(ref.data)));
    at::Tensor a = at::nan_to_num(out.data, 0.0), b = at::nan_to_num(ref.data, 0.0);
    EXPECT_LE((a - b).abs().max().item<double>(), 1e-5);
  }
}

TEST(CompiledSmooth, RandGaussianSmoothFiresOrPassesThrough) {
  T::Compose chain({T::RandGaussianSmooth(T::RandGaussianSmoothOptions()
                                              .sigma_x({0.3, 1.6})
                                              .sigma_y({0.25, 0.5})
                                              .sigma_z({1.0, 2.0})
                                              .prob(0.5))});
  ASSERT_TRUE(tracesPasses(chain, at::kFloat, 3));
  med::MetaTensor img = smooth({2, 13, 11, 10}, 6);
  int fired = 0;
  for (uint64_t sample = 0; sample < 8; ++sample) {
    const med::rt::RandomKey key{7, 1, sample, 0};
    const med::MetaTensor ref = chain.eager(img, key);
    fired += !at::equal(ref.data, img.data);
    expectCompiledEqualsEager(chain, img, key, 1e-5, "sample " + std::to_string(sample));
  }
  EXPECT_GT(fired, 0);
  EXPECT_LT(fired, 8); // both kinds of call were checked
  // An Inf voxel spreads over the drawn kernel's reach only: the zero taps that pad a narrow
  // draw to the traced width are not read (0 * Inf would be NaN).
  med::MetaTensor spike = img;
  spike.data = img.data.clone();
  spike.data[1][6][5][4] = std::numeric_limits<float>::infinity();
  auto compiled = chain.compile(T::Schedule::cpu().threads(2));
  for (uint64_t sample = 0; sample < 8; ++sample) {
    const med::rt::RandomKey key{7, 1, sample, 0};
    const at::Tensor ref = chain.eager(spike, key).data, out = compiled.run(spike, key).data;
    EXPECT_TRUE(at::equal(at::isinf(out), at::isinf(ref))) << sample;
    EXPECT_FALSE(at::isnan(out).any().item<bool>()) << sample;
  }
  // A batch: one launch per pass for all samples, each with its own draw.
  std::vector<med::MetaTensor> imgs{img, smooth({2, 13, 11, 10}, 8), img};
  std::vector<med::rt::RandomKey> keys{{7, 2, 0, 0}, {7, 2, 1, 0}, {7, 2, 2, 0}};
  auto pipeline = chain.compile(T::Schedule::cpu().threads(2));
  std::vector<med::MetaTensor> outs = pipeline.runBatch(imgs, keys);
  for (size_t i = 0; i < imgs.size(); ++i)
    EXPECT_TRUE(at::equal(outs[i].data, pipeline.run(imgs[i], keys[i]).data)) << i;
}

TEST(CompiledSmooth, SigmaPerAxisMustFitTheImage) {
  T::Compose chain({T::GaussianSmooth(T::GaussianSmoothOptions({1.0, 2.0, 3.0}))});
  med::MetaTensor img = smooth({1, 8, 8}, 1);
  expectError([&] { chain.compile()(img); }, {"GaussianSmooth.sigma", "2 spatial axes"});
}

} // namespace
