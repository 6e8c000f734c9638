// ResNet: parameter count of a tiny 2D configuration worked out by hand, its eval-mode forward
// against plain ATen ops, shapes of the factories, shortcut "A", gradients and errors.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "med/core/error.h"
#include "med/networks/nets/resnet.h"
#include "net_test_util.h"

namespace N = med::networks::nets;

using med::networks::testing::countParams;

namespace {

N::ResNetOptions tiny() {
  return N::ResNetOptions("basic", {1, 1, 1, 1}, {2, 4, 8, 16})
      .spatial_dims(2)
      .n_input_channels(1)
      .num_classes(3)
      .conv1_t_size({3});
}

} // namespace

TEST(ResNet, TinyCountAndForwardMatchesPlainATen) {
  auto net = N::ResNet(tiny());
  // stem conv 1->2 k3: 18, bn1 4.
  // layer1 (2->2): convs 36 + 36, bns 4 + 4 = 80.
  // layer2 (2->4, s2): 72 + 144 + 8 + 8, downsample conv 2*4 + 4 bias + bn 8 = 252.
  // layer3 (4->8): 288 + 576 + 16 + 16 + (32 + 8 + 16) = 952.
  // layer4 (8->16): 1152 + 2304 + 32 + 32 + (128 + 16 + 32) = 3696. fc 16*3 + 3 = 51.
  EXPECT_EQ(countParams(*net), 18 + 4 + 80 + 252 + 952 + 3696 + 51);

  at::manual_seed(2);
  // Non-trivial norm statistics so the check sees them.
  for (auto &b : net->named_buffers())
    if (b.key().find("running_mean") != std::string::npos)
      b.value().uniform_(-0.5, 0.5);
  net->eval();
  auto P = net->named_parameters();
  auto Bf = net->named_buffers();
  auto bn = [&](const at::Tensor &h, const std::string &n) {
    return at::batch_norm(h, P[n + ".weight"], P[n + ".bias"], Bf[n + ".running_mean"],
                          Bf[n + ".running_var"], false, 0.1, 1e-5, false);
  };
  auto block = [&](const at::Tensor &x, const std::string &pre, int64_t stride, bool ds) {
    at::Tensor h = at::relu(bn(at::conv2d(x, P[pre + "conv1.weight"], {}, stride, 1), pre + "bn1"));
    h = bn(at::conv2d(h, P[pre + "conv2.weight"], {}, 1, 1), pre + "bn2");
    at::Tensor r = x;
    if (ds)
      r = bn(at::conv2d(x, P[pre + "downsample.0.weight"], P[pre + "downsample.0.bias"], stride),
             pre + "downsample.1");
    return at::relu(h + r);
  };
  at::Tensor x = at::randn({2, 1, 16, 16});
  at::Tensor h = at::relu(bn(at::conv2d(x, P["conv1.weight"], {}, 1, 1), "bn1"));
  h = at::max_pool2d(h, 3, 2, 1);
  h = block(h, "layer1.0.", 1, false);
  h = block(h, "layer2.0.", 2, true);
  h = block(h, "layer3.0.", 2, true);
  h = block(h, "layer4.0.", 2, true);
  at::Tensor ref = at::linear(h.mean({2, 3}), P["fc.weight"], P["fc.bias"]);
  torch::NoGradGuard g;
  at::Tensor y = net->forward(x);
  ASSERT_EQ(y.sizes(), at::IntArrayRef({2, 3}));
  EXPECT_TRUE(at::allclose(y, ref, 1e-4, 1e-5));
}

TEST(ResNet, FactoriesShortcutAAndGradients) {
  auto r50 = N::resnet50(N::ResNetOptions().spatial_dims(2).n_input_channels(2).num_classes(5));
  EXPECT_EQ(r50->forward(at::randn({1, 2, 32, 32})).sizes(), at::IntArrayRef({1, 5}));
  EXPECT_EQ(countParams(*r50),
            countParams(*N::ResNet(N::ResNetOptions("bottleneck", {3, 4, 6, 3}, {64, 128, 256, 512})
                                       .spatial_dims(2)
                                       .n_input_channels(2)
                                       .num_classes(5))));
  auto feats = N::resnet10(N::ResNetOptions().spatial_dims(1).feed_forward(false));
  EXPECT_EQ(feats->forward(at::randn({2, 3, 20})).sizes(), at::IntArrayRef({2, 512}));

  // Shortcut "A" has no downsample parameters: minus the 1x1 convs (+ bias) and norms of
  // layers 2-4 (12 + 8, 40 + 16, 144 + 32).
  auto a = N::ResNet(tiny().shortcut_type("A"));
  EXPECT_EQ(countParams(*a), 5053 - (20 + 56 + 176));
  at::Tensor x = at::randn({2, 1, 16, 16});
  at::Tensor y = a->forward(x);
  EXPECT_EQ(y.sizes(), at::IntArrayRef({2, 3}));
  y.sum().backward();
  for (const auto &p : a->named_parameters())
    ASSERT_TRUE(p.value().grad().defined()) << p.key();

  auto wide = N::ResNet(tiny().widen_factor(2.0).conv1_t_stride({2}).no_max_pool(true));
  EXPECT_EQ(wide->named_parameters()["fc.weight"].sizes(), at::IntArrayRef({3, 32}));
  EXPECT_EQ(wide->forward(x).sizes(), at::IntArrayRef({2, 3}));
}

TEST(ResNet, Errors) {
  EXPECT_THROW(N::ResNet(tiny().block("wide")), med::Error);
  EXPECT_THROW(N::ResNet(tiny().layers({1, 1, 1})), med::Error);
  EXPECT_THROW(N::ResNet(tiny().block_inplanes({2, 4})), med::Error);
  EXPECT_THROW(N::ResNet(tiny().shortcut_type("C")), med::Error);
  EXPECT_THROW(N::ResNet(tiny().spatial_dims(4)), med::Error);
  EXPECT_THROW(N::ResNet(tiny().layers({1, 0, 1, 1})), med::Error);
  EXPECT_THROW(N::ResNet(tiny().conv1_t_size({3, 3, 3})), med::Error); // 3 values in 2D
  auto net = N::ResNet(tiny());
  EXPECT_THROW(net->forward(at::randn({1, 2, 16, 16})), med::Error);
}
