// RandBiasField compiled (med.bias_field, an elementwise op that fuses with its neighbours)
// against its eager ATen reference, which builds the whole field as a float64 tensor: 2-D and
// 3-D, degrees 1 to 4, several input types, calls that fire and that do not, fused with a
// resample before it and intensity ops around it, batches.
#include "compiled_util.h"
#include "med/transforms/intensity.h"
#include "med/transforms/intensity_aug.h"
#include "med/transforms/resample_random.h"

namespace {

// Both results are float32 roundings of the same float64 product (up to the last bit of exp):
// at most one float32 ulp apart.
void expectWithinUlp(const at::Tensor &out, const at::Tensor &ref, const std::string &what) {
  ASSERT_EQ(out.sizes(), ref.sizes()) << what;
  ASSERT_EQ(out.scalar_type(), at::kFloat) << what;
  at::Tensor ulp = ref.abs().to(at::kDouble) * 1.2e-7 + 1e-38;
  EXPECT_TRUE(((out.to(at::kDouble) - ref.to(at::kDouble)).abs() <= ulp).all().item<bool>())
      << what;
}

TEST(CompiledBias, RandBiasFieldEqualsEager) {
  for (auto shape : {std::vector<int64_t>{2, 13, 9, 11}, std::vector<int64_t>{1, 1, 17, 6},
                     std::vector<int64_t>{3, 21, 14}})
    for (int64_t degree : {1, 3, 4}) {
      T::Compose chain({T::RandBiasField(
          T::RandBiasFieldOptions().degree(degree).coeff_range({-0.3, 0.4}).prob(0.6))});
      const int rank = static_cast<int>(shape.size()) - 1;
      bool traced = false;
      for (const std::string &ir : chain.compile().ir(at::kFloat, "", rank))
        traced = traced || ir.find("med.bias_field") != std::string::npos;
      ASSERT_TRUE(traced);
      med::MetaTensor img = smooth(shape, 2);
      img.data = img.data * 300.0f - 100.0f;
      int fired = 0;
      for (uint64_t sample = 0; sample < 8; ++sample) {
        const med::rt::RandomKey key{5, 0, sample, 0};
        const at::Tensor ref = chain.eager(img, key).data;
        fired += !at::equal(ref, img.data);
        for (int threads : {1, 2})
          expectWithinUlp(chain.compile(T::Schedule::cpu().threads(threads)).run(img, key).data,
                          ref,
                          "degree " + std::to_string(degree) + " rank " + std::to_string(rank) +
                              " sample " + std::to_string(sample));
      }
      EXPECT_GT(fired, 0);
      EXPECT_LT(fired, 8); // both kinds of call were checked
    }
}

TEST(CompiledBias, OtherInputTypesGiveFloat32) {
  T::Compose chain({T::RandBiasField(T::RandBiasFieldOptions().prob(1.0))});
  med::MetaTensor img = smooth({1, 10, 12, 9}, 3);
  const med::rt::RandomKey key{1, 1, 1, 0};
  for (auto dtype : {at::kShort, at::kByte, at::kDouble}) {
    med::MetaTensor typed = img;
    typed.data = (img.data * 200.0f).to(dtype);
    expectWithinUlp(chain.compile().run(typed, key).data, chain.eager(typed, key).data,
                    std::string(c10::toString(dtype)));
  }
}

TEST(CompiledBias, FusesAfterAResampleAndAroundIntensityOps) {
  // The field indexes the resample's output window: row * row length + column.
  T::Compose chain(
      {T::ScaleIntensity(T::ScaleIntensityOptions()),
       T::RandAffine(T::RandAffineOptions().prob(1.0).rotate_range({0.3}).padding_mode("zeros")),
       T::RandBiasField(T::RandBiasFieldOptions().coeff_range({0.0, 0.1}).prob(1.0)),
       T::ShiftIntensity(T::ShiftIntensityOptions(0.25))});
  med::MetaTensor img = smooth({1, 16, 12, 10}, 4);
  for (uint64_t sample = 0; sample < 3; ++sample) {
    const med::rt::RandomKey key{9, 0, sample, 0};
    // The resample's float32 positions (eager) and f64 (kernel) move values slightly.
    expectCompiledEqualsEager(chain, img, key, 2e-5, "sample " + std::to_string(sample));
  }
  std::vector<med::MetaTensor> imgs{img, smooth({1, 16, 12, 10}, 5)};
  std::vector<med::rt::RandomKey> keys{{9, 1, 0, 0}, {9, 1, 1, 0}};
  auto pipeline = chain.compile(T::Schedule::cpu().threads(2));
  std::vector<med::MetaTensor> outs = pipeline.runBatch(imgs, keys);
  for (size_t i = 0; i < imgs.size(); ++i)
    EXPECT_TRUE(at::equal(outs[i].data, pipeline.run(imgs[i], keys[i]).data)) << i;
}

} // namespace
