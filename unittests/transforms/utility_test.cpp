// Utility and post transforms: CastToType, EnsureType, SqueezeDim, Lambda, Activations,
// AsDiscrete, KeepLargestConnectedComponent and FillHoles against hand-computed answers.
#include <gtest/gtest.h>

#include <ATen/TensorIndexing.h>

#include <cmath>

#include "med/transforms/compose.h"
#include "med/transforms/intensity.h"
#include "med/transforms/utility.h"
#include "test_util.h"

namespace {

med::MetaTensor labels(std::vector<float> v, std::vector<int64_t> shape) {
  return med::MetaTensor(at::tensor(v).reshape(shape));
}

void expectValues(const med::MetaTensor &m, std::vector<float> v, const std::string &what) {
  at::Tensor ref = at::tensor(v).reshape(m.data.sizes());
  EXPECT_TRUE(at::allclose(m.data.to(at::kFloat), ref, 1e-6, 1e-7)) << what << "\n"
                                                                    << m.data << "\nexpected\n"
                                                                    << ref;
}

TEST(Utility, CastEnsureSqueeze) {
  med::MetaTensor img = volume({1, 4, 5, 1});
  med::MetaTensor c = T::CastToType(T::CastToTypeOptions(at::kShort)).eager(img);
  EXPECT_EQ(c.data.scalar_type(), at::kShort);
  EXPECT_TRUE(at::equal(c.data.to(at::kFloat), img.data));
  EXPECT_EQ(T::EnsureType().eager(c).data.scalar_type(), at::kShort);
  EXPECT_EQ(T::EnsureType(T::EnsureTypeOptions().dtype(at::kDouble)).eager(c).data.scalar_type(),
            at::kDouble);

  med::MetaTensor s = T::SqueezeDim(T::SqueezeDimOptions(-1)).eager(img);
  EXPECT_EQ(s.data.sizes(), (std::vector<int64_t>{1, 4, 5}));
  const med::Affine &a = img.meta.affine;
  med::Affine want = {a[0], a[1], 0, a[3], a[4], a[5], 0, a[7], 0, 0, 1, 0, 0, 0, 0, 1};
  EXPECT_LT(med::rt::maxAbsDiff(s.meta.affine, want), 1e-12);
  med::MetaTensor s0 = T::SqueezeDim().eager(img);
  EXPECT_EQ(s0.data.sizes(), (std::vector<int64_t>{4, 5, 1}));
  EXPECT_EQ(s0.meta.affine, img.meta.affine);
  EXPECT_EQ(T::SqueezeDim(T::SqueezeDimOptions(std::nullopt)).eager(img).data.sizes(),
            (std::vector<int64_t>{4, 5}));
  expectError([&] { T::SqueezeDim(T::SqueezeDimOptions(1)).eager(img); },
              {"SqueezeDim.dim", "singleton"});
  expectError([&] { T::SqueezeDim(T::SqueezeDimOptions(4)).eager(img); }, {"SqueezeDim.dim"});
  expectError([] { T::EnsureType(T::EnsureTypeOptions().data_type("numpy")); },
              {"EnsureType.data_type"});
}

TEST(Utility, CastAndEnsureTypeFuseInCompiledPipelines) {
  // Scaled to [0, 100), truncated to int16, back to float32, shifted: one kernel, equal to the
  // eager chain (Tensor.to truncates toward zero), 2-D and 3-D, one and two threads.
  for (std::vector<int64_t> shape : {std::vector<int64_t>{1, 17, 13}, {2, 9, 8, 7}}) {
    med::MetaTensor img = volume(shape);
    const double top = double(img.data.numel());
    T::Compose chain({T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(0, top, -3, 100)),
                      T::CastToType(T::CastToTypeOptions(at::kShort)),
                      T::EnsureType(T::EnsureTypeOptions().dtype(at::kFloat)),
                      T::ShiftIntensity(T::ShiftIntensityOptions(0.5)), T::EnsureType()});
    med::MetaTensor ref = chain.eager(img);
    ASSERT_EQ(ref.data.scalar_type(), at::kFloat);
    // Hand-checked at the ends: -3 truncates to -3, the last voxel's 99.99... to 99.
    EXPECT_EQ(ref.data.flatten()[0].item<float>(), -2.5f);
    EXPECT_EQ(ref.data.flatten()[-1].item<float>(), 99.5f);
    for (int threads : {1, 2}) {
      med::MetaTensor got = chain.compile(T::Schedule::cpu().threads(threads))(img);
      EXPECT_TRUE(at::equal(got.data, ref.data)) << "threads " << threads;
      EXPECT_EQ(got.meta.affine, img.meta.affine);
    }
    std::vector<std::string> ir = chain.compile().ir(at::kFloat, "", int(shape.size()) - 1);
    ASSERT_EQ(ir.size(), 1u) << "CastToType and EnsureType should fuse, not end the kernel";
    EXPECT_NE(ir[0].find("med.cast"), std::string::npos) << ir[0];
  }
  // EnsureType() and casts to the image's own type (no op), float64 to float32 and to uint8 in
  // range, and a type the kernels do not store (bool: a host step), each compiled equal to
  // eager.
  med::MetaTensor ints(at::arange(-40, 80, at::kShort).reshape({1, 10, 12}));
  med::MetaTensor reals(at::linspace(0.0, 254.9, 120, at::kDouble).reshape({1, 10, 12}));
  std::vector<std::pair<T::Compose, med::MetaTensor>> cases = {
      {T::Compose({T::EnsureType()}), ints},
      {T::Compose({T::EnsureType()}), reals},
      {T::Compose({T::CastToType(T::CastToTypeOptions(at::kDouble))}), reals},
      {T::Compose({T::CastToType(T::CastToTypeOptions(at::kFloat))}), reals},
      {T::Compose({T::CastToType(T::CastToTypeOptions(at::kByte))}), reals},
      {T::Compose({T::ShiftIntensity(T::ShiftIntensityOptions(-1)),
                   T::CastToType(T::CastToTypeOptions(at::kBool))}),
       ints}};
  for (auto &[chain, in] : cases) {
    med::MetaTensor ref = chain.eager(in), got = chain.compile()(in);
    EXPECT_EQ(got.data.scalar_type(), ref.data.scalar_type());
    EXPECT_TRUE(at::equal(got.data, ref.data)) << got.data << "\nexpected\n" << ref.data;
  }
  EXPECT_FALSE(T::CastToType(T::CastToTypeOptions(at::kBool)).traceable());
  EXPECT_FALSE(T::EnsureType(T::EnsureTypeOptions().dtype(at::kHalf)).traceable());
}

TEST(Utility, LambdaIsAFusionBarrierInCompiledPipelines) {
  med::MetaTensor img = volume({1, 6, 5, 4});
  T::Compose chain({T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(0, 120, 0, 1)),
                    T::Lambda(T::LambdaOptions(
                        [](const med::MetaTensor &m) { return m.withData(m.data.flip(1)); })),
                    T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(0, 1, -1, 1))});
  med::MetaTensor ref = chain.eager(img);
  EXPECT_TRUE(at::allclose(ref.data, (img.data.flip(1) / 120) * 2 - 1, 1e-5, 1e-6));
  for (int threads : {1, 2})
    EXPECT_TRUE(at::allclose(chain.compile(T::Schedule::cpu().threads(threads))(img).data, ref.data,
                             1e-5, 1e-6));
  expectError([] { T::Lambda(T::LambdaOptions(nullptr)); }, {"Lambda.func"});
}

TEST(Utility, Activations) {
  med::MetaTensor x = labels({0.f, 0.f, std::log(3.f), 0.f}, {2, 2, 1});
  expectValues(T::Activations(T::ActivationsOptions().softmax(true)).eager(x),
               {0.25f, 0.5f, 0.75f, 0.5f}, "softmax over channels");
  expectValues(T::Activations(T::ActivationsOptions().sigmoid(true)).eager(labels({0}, {1, 1, 1})),
               {0.5f}, "sigmoid");
  auto other = T::ActivationsOptions().other([](const at::Tensor &t) { return t * 2; });
  expectValues(T::Activations(other).eager(labels({1, 2}, {1, 2, 1})), {2, 4}, "other");
  expectError([] { T::Activations(T::ActivationsOptions().sigmoid(true).softmax(true)); },
              {"Activations", "incompatible"});
}

TEST(Utility, AsDiscrete) {
  // Channel scores of 3 voxels: argmax = (1, 0, 2).
  med::MetaTensor p = labels({0.1f, 0.7f, 0.2f, 0.8f, 0.2f, 0.3f, 0.1f, 0.1f, 0.5f}, {3, 3, 1});
  med::MetaTensor am = T::AsDiscrete(T::AsDiscreteOptions().argmax(true)).eager(p);
  EXPECT_EQ(am.data.sizes(), (std::vector<int64_t>{1, 3, 1}));
  EXPECT_EQ(am.data.scalar_type(), at::kFloat);
  expectValues(am, {1, 0, 2}, "argmax");
  expectValues(T::AsDiscrete(T::AsDiscreteOptions().argmax(true).to_onehot(3)).eager(p),
               {0, 1, 0, 1, 0, 0, 0, 0, 1}, "argmax + onehot");
  expectValues(T::AsDiscrete(T::AsDiscreteOptions().threshold(0.5)).eager(p),
               {0, 1, 0, 1, 0, 0, 0, 0, 1}, "threshold");
  expectValues(T::AsDiscrete(T::AsDiscreteOptions().rounding("torchrounding"))
                   .eager(labels({0.4f, 0.6f, 2.5f, -1.5f}, {1, 4, 1})),
               {0, 1, 2, -2}, "rounding (half to even)");
  EXPECT_EQ(T::AsDiscrete(T::AsDiscreteOptions().argmax(true).keepdim(false)).eager(p).data.sizes(),
            (std::vector<int64_t>{3, 1}));
  expectError([] { T::AsDiscrete(T::AsDiscreteOptions().rounding("floor")); },
              {"AsDiscrete.rounding"});
  expectError([] { T::AsDiscrete(T::AsDiscreteOptions().to_onehot(0)); }, {"AsDiscrete.to_onehot"});
  expectError([&] { T::AsDiscrete(T::AsDiscreteOptions().to_onehot(2)).eager(am); },
              {"AsDiscrete.to_onehot", "[0, 1]"});
  expectError([&] { T::AsDiscrete(T::AsDiscreteOptions().to_onehot(3)).eager(p); },
              {"AsDiscrete.to_onehot", "size 1"});
}

using KLCC = T::KeepLargestConnectedComponent;
using KLCCOptions = T::KeepLargestConnectedComponentOptions;

TEST(Components, TwoBlobsKeepsTheLarger) {
  at::Tensor img = at::zeros({1, 6, 6});
  img.index_put_({0, at::indexing::Slice(0, 2), at::indexing::Slice(0, 3)}, 1); // 6 voxels
  img.index_put_({0, at::indexing::Slice(4, 6), at::indexing::Slice(4, 6)}, 1); // 4 voxels
  med::MetaTensor out = KLCC().eager(med::MetaTensor(img));
  EXPECT_EQ(out.data.sum().item<float>(), 6);
  EXPECT_EQ(out.data[0][5][5].item<float>(), 0);
  EXPECT_EQ(out.data[0][0][0].item<float>(), 1);
  EXPECT_EQ(
      KLCC(KLCCOptions().num_components(2)).eager(med::MetaTensor(img)).data.sum().item<float>(),
      10);
  int64_t count = 0;
  at::Tensor l = T::detail::labelComponents(img[0].gt(0), 1, &count);
  EXPECT_EQ(count, 2);
  EXPECT_EQ(l[0][0].item<int>(), 1);
  EXPECT_EQ(l[5][5].item<int>(), 2);
}

TEST(Components, DiagonalContactDependsOnConnectivity) {
  at::Tensor img = at::zeros({1, 5, 5, 5});
  img.index_put_(
      {0, at::indexing::Slice(0, 2), at::indexing::Slice(0, 2), at::indexing::Slice(0, 2)},
      1);                          // a 2x2x2 cube
  img.index_put_({0, 2, 2, 2}, 1); // touches the cube's corner (1,1,1) diagonally only
  img.index_put_({0, 4, 4, 0}, 1); // far away
  for (int64_t c : {1, 2, 3}) {
    int64_t count = 0;
    T::detail::labelComponents(img[0].gt(0), c, &count);
    EXPECT_EQ(count, c == 3 ? 2 : 3) << "connectivity " << c;
  }
  EXPECT_EQ(
      KLCC(KLCCOptions().connectivity(1)).eager(med::MetaTensor(img)).data.sum().item<float>(), 8);
  EXPECT_EQ(
      KLCC(KLCCOptions().connectivity(3)).eager(med::MetaTensor(img)).data.sum().item<float>(), 9);
  EXPECT_EQ(KLCC().eager(med::MetaTensor(img)).data.sum().item<float>(), 9); // unset = full
  // 2D: 4- vs 8-connectivity.
  med::MetaTensor d = labels({1, 0, 0, 0, 1, 0, 0, 0, 1}, {1, 3, 3});
  EXPECT_EQ(KLCC(KLCCOptions().connectivity(1)).eager(d).data.sum().item<float>(), 1);
  EXPECT_EQ(KLCC(KLCCOptions().connectivity(2)).eager(d).data.sum().item<float>(), 3);
}

TEST(Components, LabelsIndependentUnionAndOneHot) {
  med::MetaTensor img = labels({1, 1, 1, 2, 2, 2, 0, 1, 1, 1, 1}, {1, 1, 11});
  expectValues(KLCC().eager(img), {0, 0, 0, 2, 2, 2, 0, 1, 1, 1, 1}, "independent");
  expectValues(KLCC(KLCCOptions().independent(false)).eager(img), {1, 1, 1, 2, 2, 2, 0, 0, 0, 0, 0},
               "union");
  expectValues(KLCC(KLCCOptions().applied_labels(std::vector<int64_t>{2})).eager(img),
               {1, 1, 1, 2, 2, 2, 0, 1, 1, 1, 1}, "label 2 only");
  // One-hot (channel 0 background, channel 1 foreground): 2 blobs in channel 1.
  med::MetaTensor oh = labels({1, 0, 0, 1, 0, 1, 0, 1, 1, 0}, {2, 1, 5});
  expectValues(KLCC().eager(oh), {1, 0, 0, 1, 0, 0, 0, 1, 1, 0}, "one-hot");
  // Equal sizes: MONAI's argsort keeps the later component.
  expectValues(KLCC().eager(labels({1, 0, 1}, {1, 1, 3})), {0, 0, 1}, "tie");
}

TEST(Components, FillHoles) {
  at::Tensor cube = at::zeros({1, 7, 7, 7});
  auto s = [](int64_t a, int64_t b) { return at::indexing::Slice(a, b); };
  cube.index_put_({0, s(1, 6), s(1, 6), s(1, 6)}, 1);
  cube.index_put_({0, s(2, 5), s(2, 5), s(2, 5)}, 0); // hollow: 27 interior voxels
  med::MetaTensor out = T::FillHoles().eager(med::MetaTensor(cube));
  EXPECT_EQ(out.data.sum().item<float>(), 125);
  EXPECT_EQ(out.data[0][0].sum().item<float>(), 0); // outside stays background
  // A hole with label 2 inside takes label 1 too (MONAI); a tunnel to the border is not a hole.
  at::Tensor two = cube.clone();
  two.index_put_({0, 3, 3, 3}, 2);
  out = T::FillHoles(T::FillHolesOptions().applied_labels(std::vector<int64_t>{1}))
            .eager(med::MetaTensor(two));
  EXPECT_EQ(out.data.sum().item<float>(), 125);
  at::Tensor open = cube.clone();
  open.index_put_({0, 3, 3, s(0, 2)}, 0); // (3,3,1) opens the wall
  EXPECT_EQ(T::FillHoles().eager(med::MetaTensor(open)).data.sum().item<float>(),
            open.sum().item<float>());
  // 2D ring whose centre touches the outside diagonally: a hole for 4- not 8-connectivity.
  med::MetaTensor ring = labels({0, 0, 0, 0, 0, //
                                 0, 0, 1, 1, 0, //
                                 0, 1, 0, 1, 0, //
                                 0, 1, 1, 1, 0, //
                                 0, 0, 0, 0, 0},
                                {1, 5, 5});
  EXPECT_EQ(
      T::FillHoles(T::FillHolesOptions().connectivity(1)).eager(ring).data[0][2][2].item<float>(),
      1);
  EXPECT_EQ(
      T::FillHoles(T::FillHolesOptions().connectivity(2)).eager(ring).data[0][2][2].item<float>(),
      0);
  EXPECT_EQ(T::FillHoles().eager(ring).data[0][2][2].item<float>(), 0);
  // One-hot: channel 1 is filled, channel 0 (background) is not touched.
  at::Tensor oh = at::stack({1 - ring.data[0], ring.data[0]});
  med::MetaTensor f =
      T::FillHoles(T::FillHolesOptions().connectivity(1)).eager(med::MetaTensor(oh));
  EXPECT_EQ(f.data[1][2][2].item<float>(), 1);
  EXPECT_TRUE(at::equal(f.data[0], oh[0]));
}

TEST(Components, PostChainCompiledEqualsEager) {
  at::manual_seed(3);
  med::MetaTensor logits(at::randn({3, 9, 8, 7}));
  T::Compose chain({T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(-1, 1, -2, 2)),
                    T::Activations(T::ActivationsOptions().softmax(true)),
                    T::AsDiscrete(T::AsDiscreteOptions().argmax(true)),
                    T::KeepLargestConnectedComponent(), T::FillHoles(),
                    T::AsDiscrete(T::AsDiscreteOptions().to_onehot(3)), T::EnsureType()});
  med::MetaTensor ref = chain.eager(logits);
  EXPECT_EQ(ref.data.sizes(), logits.data.sizes());
  for (int threads : {1, 2})
    EXPECT_TRUE(
        at::equal(chain.compile(T::Schedule::cpu().threads(threads))(logits).data, ref.data));
}

TEST(Components, Errors) {
  expectError([] { KLCC(KLCCOptions().connectivity(4)); },
              {"KeepLargestConnectedComponent.connectivity"});
  expectError([] { KLCC(KLCCOptions().num_components(0)); },
              {"KeepLargestConnectedComponent.num_components"});
  expectError(
      [] {
        KLCC(KLCCOptions().connectivity(3)).eager(labels({1, 1}, {1, 1, 2}));
      },
      {"KeepLargestConnectedComponent.connectivity", "2 spatial axes"});
  expectError(
      [] {
        KLCC(KLCCOptions().is_onehot(false)).eager(labels({1, 1}, {2, 1, 1}));
      },
      {"KeepLargestConnectedComponent", "1 channel"});
  expectError([] { T::FillHoles(T::FillHolesOptions().connectivity(0)); },
              {"FillHoles.connectivity"});
  expectError(
      [] {
        T::FillHoles(T::FillHolesOptions().applied_labels(std::vector<int64_t>{5}))
            .eager(labels({1, 0, 0, 1}, {2, 1, 2}));
      },
      {"FillHoles.applied_labels"});
}

} // namespace
