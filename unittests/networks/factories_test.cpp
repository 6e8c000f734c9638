// Layer factories: the right module for each name and dimension, with MONAI's defaults, checked
// against the formulas written out with plain ATen ops.
#include <gtest/gtest.h>

#include <cmath>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>
#include <torch/nn/functional/instancenorm.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/instancenorm.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/modules/pooling.h>

#include "med/networks/layers/factories.h"

namespace L = med::networks::layers;
namespace nn = torch::nn;

namespace {

at::Tensor randn(std::vector<int64_t> shape, int seed = 0) {
  at::manual_seed(seed);
  return at::randn(shape);
}

void expectClose(const at::Tensor &a, const at::Tensor &b, double tol = 1e-5) {
  ASSERT_EQ(a.sizes(), b.sizes());
  EXPECT_LE((a - b).abs().max().item<double>(), tol);
}

at::Tensor run(nn::AnyModule &m, const at::Tensor &x) { return m.forward(x); }

/// The module held by `m` as a T, or null when it is another type.
template <class T> T *as(const nn::AnyModule &m) { return dynamic_cast<T *>(m.ptr().get()); }
template <class T> bool is(const nn::AnyModule &m) { return as<T>(m) != nullptr; }

TEST(ActFactory, PyTorchActivationsWithMonaiDefaults) {
  at::Tensor x = randn({2, 3, 4, 5});
  nn::AnyModule prelu = L::act("prelu"); // case-insensitive
  ASSERT_TRUE(is<nn::PReLUImpl>(prelu));
  expectClose(run(prelu, x), at::where(x >= 0, x, 0.25 * x));
  EXPECT_EQ(prelu.ptr()->parameters().size(), 1u);

  nn::AnyModule leaky = L::act({"LEAKYRELU", {{"negative_slope", 0.1}}});
  expectClose(run(leaky, x), at::where(x > 0, x, 0.1 * x));

  at::Tensor y = x.clone();
  nn::AnyModule selu = L::act({"SELU", {{"inplace", true}}});
  run(selu, y);
  const double alpha = 1.6732632423543772, scale = 1.0507009873554805;
  expectClose(y, scale * (at::clamp_min(x, 0) + at::clamp_max(alpha * (at::exp(x) - 1), 0)));

  nn::AnyModule relu = L::act("RELU");
  expectClose(run(relu, x), at::clamp_min(x, 0));
  nn::AnyModule relu6 = L::act("RELU6"), elu = L::act({"ELU", {{"alpha", 2}}});
  expectClose(run(relu6, x * 4), at::clamp(x * 4, 0, 6));
  expectClose(run(elu, x), at::where(x > 0, x, 2.0 * (at::exp(x) - 1)));
  nn::AnyModule sig = L::act("SIGMOID"), tanh = L::act("TANH"), gelu = L::act("GELU");
  expectClose(run(sig, x), 1 / (1 + at::exp(-x)));
  expectClose(run(tanh, x), at::tanh(x));
  expectClose(run(gelu, x), 0.5 * x * (1 + at::erf(x / std::sqrt(2.0))));
  nn::AnyModule soft = L::act("SOFTMAX"), logsoft = L::act({"LOGSOFTMAX", {{"dim", 2}}});
  expectClose(run(soft, x).sum(1), at::ones({2, 4, 5}));
  expectClose(run(logsoft, x).exp().sum(2), at::ones({2, 3, 5}));
}

TEST(ActFactory, MonaiActivations) {
  at::Tensor x = randn({2, 3, 4, 6}, 1);
  nn::AnyModule swish = L::act({"SWISH", {{"alpha", 2.0}}}), mem = L::act("MEMSWISH");
  nn::AnyModule mish = L::act("MISH"), geglu = L::act("GEGLU");
  expectClose(run(swish, x), x / (1 + at::exp(-2 * x)));
  expectClose(run(mem, x), x / (1 + at::exp(-x)));
  expectClose(run(mish, x), x * at::tanh(at::log(1 + at::exp(x))));
  at::Tensor a = x.narrow(3, 0, 3), g = x.narrow(3, 3, 3);
  expectClose(run(geglu, x), a * 0.5 * g * (1 + at::erf(g / std::sqrt(2.0))));
}

TEST(NormFactory, InstanceAndBatchByDimension) {
  at::Tensor x = randn({2, 4, 5, 6, 3}, 2);
  nn::AnyModule inst = L::norm("INSTANCE", 3, 4);
  ASSERT_TRUE(is<nn::InstanceNorm3dImpl>(inst));
  EXPECT_EQ(inst.ptr()->parameters().size(), 0u); // affine false by default
  at::Tensor mean = x.mean({2, 3, 4}, true);
  at::Tensor var = (x - mean).pow(2).mean({2, 3, 4}, true);
  expectClose(run(inst, x), (x - mean) / at::sqrt(var + 1e-5));

  nn::AnyModule bn = L::norm({"batch", {{"eps", 1e-3}}}, 2, 8);
  auto *b = as<nn::BatchNorm2dImpl>(bn);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->weight.numel(), 8);
  EXPECT_EQ(b->buffers().size(), 3u);
  EXPECT_DOUBLE_EQ(b->options.eps(), 1e-3);
  EXPECT_TRUE(is<nn::InstanceNorm1dImpl>(L::norm("INSTANCE", 1, 2)));
  EXPECT_TRUE(is<nn::BatchNorm3dImpl>(L::norm("BATCH", 3, 2)));
  nn::AnyModule affineNorm = L::norm({"INSTANCE", {{"affine", true}}}, 2, 5);
  auto *affine = as<nn::InstanceNorm2dImpl>(affineNorm);
  ASSERT_NE(affine, nullptr);
  EXPECT_EQ(affine->weight.numel(), 5);
}

TEST(NormFactory, GroupLayerLocalResponseAndEmptyName) {
  at::Tensor x = randn({2, 6, 4, 5}, 3);
  nn::AnyModule gn = L::norm({"GROUP", {{"num_groups", 3}}}, 2, 6);
  at::Tensor g = x.reshape({2, 3, -1});
  at::Tensor mean = g.mean(2, true), var = (g - mean).pow(2).mean(2, true);
  expectClose(run(gn, x), ((g - mean) / at::sqrt(var + 1e-5)).reshape(x.sizes()));
  nn::AnyModule ln = L::norm({"LAYER", {{"normalized_shape", std::vector<int64_t>{4, 5}}}}, 2, 6);
  at::Tensor lm = x.mean({2, 3}, true), lv = (x - lm).pow(2).mean({2, 3}, true);
  expectClose(run(ln, x), (x - lm) / at::sqrt(lv + 1e-5));
  EXPECT_TRUE(is<nn::LocalResponseNormImpl>(L::norm({"LOCALRESPONSE", {{"size", 3}}}, 2, 6)));
  nn::AnyModule id = L::get_norm_layer("", 3, 6);
  EXPECT_TRUE(at::equal(run(id, x), x));
}

TEST(ConvFactory, ConvAndTransposedByDimension) {
  at::Tensor x = randn({1, 2, 6, 7, 5}, 4);
  nn::AnyModule c = L::conv(
      {"CONV", {{"in_channels", 2}, {"out_channels", 4}, {"kernel_size", 3}, {"padding", 1}}}, 3);
  auto *c3 = as<nn::Conv3dImpl>(c);
  ASSERT_NE(c3, nullptr);
  EXPECT_EQ(c3->weight.sizes(), at::IntArrayRef({4, 2, 3, 3, 3}));
  expectClose(run(c, x), at::conv3d(x, c3->weight, c3->bias, 1, 1));

  nn::AnyModule same = L::conv({"conv",
                                {{"in_channels", 2},
                                 {"out_channels", 1},
                                 {"kernel_size", std::vector<int64_t>{3, 5}},
                                 {"padding", "same"},
                                 {"bias", false}}},
                               2);
  at::Tensor x2 = randn({1, 2, 8, 9}, 5);
  EXPECT_EQ(run(same, x2).sizes(), at::IntArrayRef({1, 1, 8, 9}));
  EXPECT_FALSE(as<nn::Conv2dImpl>(same)->bias.defined());

  nn::AnyModule up = L::conv(
      {"CONVTRANS", {{"in_channels", 2}, {"out_channels", 3}, {"kernel_size", 2}, {"stride", 2}}},
      2);
  auto *t2 = as<nn::ConvTranspose2dImpl>(up);
  ASSERT_NE(t2, nullptr);
  EXPECT_EQ(t2->weight.sizes(), at::IntArrayRef({2, 3, 2, 2}));
  EXPECT_EQ(run(up, x2).sizes(), at::IntArrayRef({1, 3, 16, 18}));
  EXPECT_TRUE(is<nn::Conv1dImpl>(
      L::conv({"CONV", {{"in_channels", 1}, {"out_channels", 1}, {"kernel_size", 1}}}, 1)));
}

TEST(PoolFactory, MaxAvgAdaptive) {
  at::Tensor x = randn({2, 3, 6, 8}, 6);
  nn::AnyModule mx = L::pool({"MAX", {{"kernel_size", 2}}}, 2); // stride defaults to kernel
  at::Tensor blocks = x.reshape({2, 3, 3, 2, 4, 2});
  expectClose(run(mx, x), std::get<0>(std::get<0>(blocks.max(5)).max(3)));
  nn::AnyModule avg = L::pool({"AVG", {{"kernel_size", 2}}}, 2);
  expectClose(run(avg, x), blocks.mean({3, 5}));
  at::Tensor v = randn({2, 3, 4, 4, 6}, 7);
  nn::AnyModule aavg = L::pool({"ADAPTIVEAVG", {{"output_size", 1}}}, 3);
  expectClose(run(aavg, v), v.mean({2, 3, 4}, true));
  at::Tensor s = randn({2, 3, 10}, 8);
  nn::AnyModule amax = L::pool({"ADAPTIVEMAX", {{"output_size", 1}}}, 1);
  expectClose(run(amax, s), std::get<0>(s.max(2, true)));
}

TEST(DropoutFactory, DimensionsAndProbability) {
  at::Tensor x = at::ones({4, 6, 3, 3, 3});
  nn::AnyModule d3 = L::dropout({"DROPOUT", {{"p", 0.5}}}, 3);
  ASSERT_TRUE(is<nn::Dropout3dImpl>(d3));
  at::Tensor y = run(d3, x); // training mode: whole channels are zeroed or scaled by 2
  at::Tensor perChannel = y.flatten(2);
  EXPECT_TRUE(at::equal(std::get<0>(perChannel.max(2)), std::get<0>(perChannel.min(2))));
  EXPECT_TRUE(((perChannel == 0) | (perChannel == 2)).all().item<bool>());
  d3.ptr()->eval();
  EXPECT_TRUE(at::equal(run(d3, x), x));
  EXPECT_TRUE(is<nn::DropoutImpl>(L::dropout("DROPOUT", 1)));
  EXPECT_TRUE(is<nn::Dropout2dImpl>(L::dropout("DROPOUT", 2)));
  EXPECT_TRUE(is<nn::AlphaDropoutImpl>(L::dropout("ALPHADROPOUT")));
  nn::AnyModule byP = L::get_dropout_layer(0.3, 1);
  EXPECT_DOUBLE_EQ(as<nn::DropoutImpl>(byP)->options.p(), 0.3);
}

} // namespace
