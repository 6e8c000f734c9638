// GradCAM / GradCAM++ on a tiny linear conv net whose maps are known in closed form:
// features A_c = w_c * x (1x1 conv), logits_k = sum_c V_kc mean(A_c) (global average pool + fc),
// so d logit_k / d A_c(ij) = V_kc / (H W) everywhere.
#include <gtest/gtest.h>

#include <cmath>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/named_any.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include "med/core/error.h"
#include "med/visualize/class_activation_maps.h"

namespace V = med::visualize;
namespace nn = torch::nn;

namespace {

const double kW[2] = {2.0, -1.0};                                // conv weights per channel
const double kV[3][2] = {{1.0, 0.5}, {-1.0, 3.0}, {0.25, -2.0}}; // fc weights

nn::Conv2d makeConv() {
  nn::Conv2d conv(nn::Conv2dOptions(1, 2, 1).bias(false));
  torch::NoGradGuard g;
  conv->weight.copy_(at::tensor({kW[0], kW[1]}).reshape({2, 1, 1, 1}));
  return conv;
}

nn::Linear makeFc() {
  nn::Linear fc(nn::LinearOptions(2, 3).bias(false));
  torch::NoGradGuard g;
  fc->weight.copy_(
      at::tensor({kV[0][0], kV[0][1], kV[1][0], kV[1][1], kV[2][0], kV[2][1]}).reshape({3, 2}));
  return fc;
}

/// A Sequential that can sit inside another one (LibTorch needs a non-template forward for that).
struct BlockImpl : nn::SequentialImpl {
  using nn::SequentialImpl::SequentialImpl;
  at::Tensor forward(at::Tensor x) { return nn::SequentialImpl::forward(x); }
};
TORCH_MODULE(Block);

nn::Sequential makeNet() {
  return nn::Sequential(makeConv(), nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(1)),
                        nn::Flatten(), makeFc());
}

at::Tensor input() {
  return at::tensor(
             {0.5, -1.0, 2.0, 0.0, 1.0, 3.0, -2.0, 0.25, 1.5, -0.5, 0.0, 1.0, 2.5, 0.75, -1.5, 0.1})
      .reshape({1, 1, 4, 4})
      .to(at::kFloat);
}

/// Hand-derived GradCAM map for class k: relu(sum_c V_kc / 16 * w_c * x).
double gradcamAt(int k, double x) {
  double s = 0;
  for (int c = 0; c < 2; ++c)
    s += kV[k][c] / 16.0 * kW[c] * x;
  return std::max(s, 0.0);
}

TEST(GradCAM, LinearNetMatchesClosedForm) {
  auto net = makeNet();
  at::Tensor x = input();
  V::GradCAM cam(net, "0");
  EXPECT_EQ(cam.feature_map_size({1, 1, 4, 4}), (std::vector<int64_t>{1, 2, 4, 4}));
  for (int k = 0; k < 3; ++k) {
    at::Tensor m = cam.compute_map(x, k);
    ASSERT_EQ(m.sizes(), (std::vector<int64_t>{1, 1, 4, 4}));
    for (int64_t i = 0; i < 16; ++i) {
      const double xv = x.reshape({-1})[i].item<double>();
      EXPECT_NEAR(m.reshape({-1})[i].item<double>(), gradcamAt(k, xv), 1e-6) << k << " " << i;
    }
  }
  // Full call: same spatial size, so upsampling is the identity; min-max scaled to [0, 1].
  at::Tensor full = cam(x, 1);
  at::Tensor raw = cam.compute_map(x, 1);
  at::Tensor expect = (raw - raw.min()) / (raw.max() - raw.min());
  EXPECT_TRUE(at::allclose(full, expect, 1e-5, 1e-6));
  EXPECT_NEAR(full.max().item<double>(), 1.0, 1e-6);
  // Default class = argmax of the logits.
  at::Tensor logits = net->forward(x);
  const int64_t top = logits.argmax(1).item<int64_t>();
  EXPECT_TRUE(at::allclose(cam.compute_map(x), cam.compute_map(x, top)));
  // Parameters' .grad untouched.
  for (const auto &p : net->parameters())
    EXPECT_FALSE(p.grad().defined());
}

TEST(GradCAM, BatchUsesEachSamplesClassAndUpsamples) {
  auto net = makeNet();
  at::Tensor x = at::cat({input(), -input()}, 0);
  V::GradCAM cam(net, "0");
  at::Tensor m = cam.compute_map(x, 2);
  for (int64_t i = 0; i < 16; ++i) {
    const double xv = input().reshape({-1})[i].item<double>();
    EXPECT_NEAR(m[0].reshape({-1})[i].item<double>(), gradcamAt(2, xv), 1e-6);
    EXPECT_NEAR(m[1].reshape({-1})[i].item<double>(), gradcamAt(2, -xv), 1e-6);
  }
  // Target after pooling to 2x2: map is upsampled back to 4x4 bilinearly.
  nn::Sequential pooled(Block(makeConv(), nn::AvgPool2d(nn::AvgPool2dOptions(2))),
                        nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(1)), nn::Flatten(),
                        makeFc());
  V::GradCAM cam2(pooled, "0.1");
  EXPECT_EQ(cam2.feature_map_size({2, 1, 4, 4}), (std::vector<int64_t>{2, 2, 2, 2}));
  at::Tensor up = cam2(x, 0);
  EXPECT_EQ(up.sizes(), (std::vector<int64_t>{2, 1, 4, 4}));
}

TEST(GradCAMpp, LinearNetMatchesClosedForm) {
  auto net = makeNet();
  at::Tensor x = input();
  V::GradCAMpp cam(net, "0");
  const int k = 1;
  const double score = net->forward(x)[0][k].item<double>();
  // Reference: per channel, grad g_c = V_kc / 16 is constant; A_c = w_c x.
  double sum_x = x.sum().item<double>();
  double weights[2];
  for (int c = 0; c < 2; ++c) {
    const double g = kV[k][c] / 16.0;
    double denom = 2 * g * g + kW[c] * sum_x * g * g * g;
    if (denom == 0.0)
      denom = 1.0;
    const double alpha = g * g / (denom + 1e-7);
    weights[c] = 16 * alpha * std::max(std::exp(score) * g, 0.0);
  }
  at::Tensor m = cam.compute_map(x, k);
  for (int64_t i = 0; i < 16; ++i) {
    const double xv = x.reshape({-1})[i].item<double>();
    const double expect = std::max(weights[0] * kW[0] * xv + weights[1] * kW[1] * xv, 0.0);
    EXPECT_NEAR(m.reshape({-1})[i].item<double>(), expect, 1e-5 * (1 + std::abs(expect)));
  }
}

TEST(GradCAM, FeatureSplitAndErrors) {
  auto net = makeNet();
  V::FeatureSplit split{
      [net](const at::Tensor &x) mutable { return net->at<nn::Conv2dImpl>(0).forward(x); },
      [net](const at::Tensor &f) mutable {
        auto h = f.mean({2, 3});
        return net->at<nn::LinearImpl>(3).forward(h);
      },
      net.ptr()};
  V::GradCAM viaSplit(split);
  V::GradCAM viaName(net, "0");
  EXPECT_TRUE(at::allclose(viaSplit.compute_map(input(), 0), viaName.compute_map(input(), 0)));
  try {
    V::GradCAM bad(net, "fc");
    FAIL();
  } catch (const med::Error &e) {
    EXPECT_EQ(e.where(), "GradCAM.target_layer");
    EXPECT_NE(std::string(e.what()).find("0, 1, 2, 3"), std::string::npos);
  }
  EXPECT_THROW(V::GradCAMpp(net, "0.x"), med::Error);
  V::GradCAM cam(net, "0");
  EXPECT_THROW(cam(input(), 3), med::Error);
  V::GradCAM flat(net, "2"); // output of Flatten has no spatial axes
  EXPECT_THROW(flat(input()), med::Error);
  // A head that ignores the features: zero gradient, zero map.
  V::GradCAM blind(V::FeatureSplit{[](const at::Tensor &x) { return x * 2; },
                                   [](const at::Tensor &f) {
                                     return at::ones({f.size(0), 3});
                                   },
                                   nullptr});
  EXPECT_EQ(blind.compute_map(input(), 0).abs().sum().item<double>(), 0.0);
  // eval mode restored afterwards
  net->train();
  cam(input());
  EXPECT_TRUE(net->is_training());
}

} // namespace
