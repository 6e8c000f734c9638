// FullyConnectedNet, VarFullyConnectedNet and Critic: parameter counts and state_dict keys of tiny
// configurations written out by hand from MONAI's module tree, forwards against plain ATen ops,
// the shared ADN of the variational net, gradients and invalid configurations.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "med/core/error.h"
#include "med/networks/nets/critic.h"
#include "med/networks/nets/fullyconnectednet.h"
#include "med/networks/nets/regressor.h"
#include "net_test_util.h"

namespace B = med::networks::blocks;
namespace N = med::networks::nets;

using med::networks::testing::countParams;
using med::networks::testing::errorWhere;
using med::networks::testing::stateDictKeys;

namespace {

/// Values in distinct parameter tensors (PyTorch's parameters() skips shared ones).
int64_t countUniqueParams(torch::nn::Module &m) {
  std::set<const void *> seen;
  int64_t n = 0;
  for (const auto &p : m.parameters())
    if (seen.insert(p.unsafeGetTensorImpl()).second)
      n += p.numel();
  return n;
}

} // namespace

TEST(FullyConnectedNet, CountKeysAndForwardByHand) {
  auto net = N::FullyConnectedNet(N::FullyConnectedNetOptions(4, 3, {5, 6}));
  // hidden_0: Linear 4->5 (20 + 5) + PReLU 1; hidden_1: 5->6 (30 + 6) + 1; output 6->3 (18 + 3).
  EXPECT_EQ(countParams(*net), 26 + 37 + 21);
  EXPECT_EQ(stateDictKeys(*net),
            (std::vector<std::string>{"hidden_0.0.weight", "hidden_0.0.bias", "hidden_0.1.A.weight",
                                      "hidden_1.0.weight", "hidden_1.0.bias", "hidden_1.1.A.weight",
                                      "output.weight", "output.bias"}));
  auto P = net->named_parameters();
  for (const char *a : {"hidden_0.1.A.weight", "hidden_1.1.A.weight"}) {
    torch::NoGradGuard g;
    P[a].fill_(0.1); // a visible negative slope
  }
  at::Tensor x = at::randn({3, 2, 2}); // flattened to 4 values per item
  at::Tensor h =
      at::prelu(at::linear(x.reshape({3, 4}), P["hidden_0.0.weight"], P["hidden_0.0.bias"]),
                P["hidden_0.1.A.weight"]);
  h = at::prelu(at::linear(h, P["hidden_1.0.weight"], P["hidden_1.0.bias"]),
                P["hidden_1.1.A.weight"]);
  at::Tensor ref = at::linear(h, P["output.weight"], P["output.bias"]);
  at::Tensor y = net->forward(x);
  ASSERT_EQ(y.sizes(), at::IntArrayRef({3, 3}));
  EXPECT_TRUE(at::allclose(y, ref, 1e-5, 1e-6));
  y.sum().backward();
  for (const auto &p : net->named_parameters())
    ASSERT_TRUE(p.value().grad().defined()) << p.key();

  // No bias: 20 + 1 + 30 + 1 + 18. Dropout in "AD" order puts A before D.
  auto plain = N::FullyConnectedNet(N::FullyConnectedNetOptions(4, 3, {5, 6}).bias(false));
  EXPECT_EQ(countParams(*plain), 70);
  auto drop = N::FullyConnectedNet(
      N::FullyConnectedNetOptions(4, 3, {5}).dropout(0.2).adn_ordering(std::string("AD")));
  auto adn = drop->named_modules()["hidden_0.1"];
  std::vector<std::string> order;
  for (const auto &c : adn->named_children())
    order.push_back(c.key());
  EXPECT_EQ(order, (std::vector<std::string>{"A", "D"}));
  auto noAct = N::FullyConnectedNet(N::FullyConnectedNetOptions(4, 3, {5}).act(std::nullopt));
  EXPECT_EQ(countParams(*noAct), 25 + 18); // no PReLU weights
  EXPECT_EQ(errorWhere([&] { net->forward(at::randn({2, 5})); }), "FullyConnectedNet.input");
  EXPECT_EQ(errorWhere([] { N::FullyConnectedNet(N::FullyConnectedNetOptions(4, 3, {0})); }),
            "FullyConnectedNet.hidden_channels");
}

TEST(VarFullyConnectedNet, SharedAdnKeysAndCount) {
  auto net = N::VarFullyConnectedNet(N::VarFullyConnectedNetOptions(4, 3, 2, {5, 6}, {6, 5}));
  // encode_0 4->5 (25), encode_1 5->6 (36), mu 6->2 (14), logvar 6->2 (14), decodeL 2->6 (18),
  // decode0 6->6 (42), decode1 6->5 (35), final 5->3 (18), one shared PReLU weight (1).
  EXPECT_EQ(countUniqueParams(*net), 25 + 36 + 14 + 14 + 18 + 42 + 35 + 18 + 1);
  EXPECT_EQ(stateDictKeys(*net), (std::vector<std::string>{"encode.encode_0.0.weight",
                                                           "encode.encode_0.0.bias",
                                                           "encode.encode_0.ADN.A.weight",
                                                           "encode.encode_1.0.weight",
                                                           "encode.encode_1.0.bias",
                                                           "encode.encode_1.ADN.A.weight",
                                                           "decode.decode0.0.weight",
                                                           "decode.decode0.0.bias",
                                                           "decode.decode0.ADN.A.weight",
                                                           "decode.decode1.0.weight",
                                                           "decode.decode1.0.bias",
                                                           "decode.decode1.ADN.A.weight",
                                                           "decode.final.weight",
                                                           "decode.final.bias",
                                                           "adn_layer.A.weight",
                                                           "mu.weight",
                                                           "mu.bias",
                                                           "logvar.weight",
                                                           "logvar.bias",
                                                           "decodeL.weight",
                                                           "decodeL.bias"}));
  auto P = net->named_parameters();
  EXPECT_TRUE(P["encode.encode_0.ADN.A.weight"].is_same(P["adn_layer.A.weight"]));
  EXPECT_TRUE(P["decode.decode1.ADN.A.weight"].is_same(P["adn_layer.A.weight"]));
  // bias false only affects the hidden layers and decode.final: 20 + 30 + 36 + 30 + 15 = 131
  // without bias plus mu, logvar, decodeL (46) and the PReLU.
  auto noBias =
      N::VarFullyConnectedNet(N::VarFullyConnectedNetOptions(4, 3, 2, {5, 6}, {6, 5}).bias(false));
  EXPECT_EQ(countUniqueParams(*noBias), 20 + 30 + 36 + 30 + 15 + 46 + 1);
}

TEST(VarFullyConnectedNet, ForwardByHandAndGradients) {
  auto net = N::VarFullyConnectedNet(N::VarFullyConnectedNetOptions(4, 3, 2, {5}, {6}));
  auto P = net->named_parameters();
  {
    torch::NoGradGuard g;
    P["adn_layer.A.weight"].fill_(0.2);
  }
  const at::Tensor &a = P["adn_layer.A.weight"];
  at::Tensor x = at::randn({3, 4});
  at::Tensor h =
      at::prelu(at::linear(x, P["encode.encode_0.0.weight"], P["encode.encode_0.0.bias"]), a);
  at::Tensor mu = at::linear(h, P["mu.weight"], P["mu.bias"]);
  at::Tensor logvar = at::linear(h, P["logvar.weight"], P["logvar.bias"]);
  at::Tensor z = mu + at::exp(0.5 * logvar); // MONAI's eval mode: no noise, the std still added
  at::Tensor d = at::relu(at::linear(z, P["decodeL.weight"], P["decodeL.bias"]));
  d = at::prelu(at::linear(d, P["decode.decode0.0.weight"], P["decode.decode0.0.bias"]), a);
  at::Tensor rec = at::sigmoid(at::linear(d, P["decode.final.weight"], P["decode.final.bias"]));
  net->eval();
  auto [yRec, yMu, yLogvar, yZ] = net->forward(x);
  EXPECT_TRUE(at::allclose(yMu, mu, 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(yLogvar, logvar, 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(yZ, z, 1e-5, 1e-6));
  ASSERT_EQ(yRec.sizes(), at::IntArrayRef({3, 3}));
  EXPECT_TRUE(at::allclose(yRec, rec, 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(net->decode_forward(z, false), at::logit(rec), 1e-4, 1e-5));

  net->train(); // z is now mu + eps * std with eps ~ N(0, 1): rarely equal to the eval z
  auto [tRec, tMu, tLogvar, tZ] = net->forward(x);
  EXPECT_EQ(tZ.sizes(), at::IntArrayRef({3, 2}));
  EXPECT_FALSE(at::allclose(tZ, z));
  (tRec.sum() + tMu.sum() + tLogvar.sum()).backward();
  for (const auto &p : net->named_parameters())
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
  EXPECT_EQ(errorWhere([&] { net->forward(at::randn({3, 5})); }), "VarFullyConnectedNet.input");
  EXPECT_EQ(errorWhere(
                [] { N::VarFullyConnectedNet(N::VarFullyConnectedNetOptions(4, 3, 0, {5}, {6})); }),
            "VarFullyConnectedNet.latent_size");
}

TEST(Critic, CountKeysForwardAndErrors) {
  auto critic = N::Critic(N::CriticOptions({1, 8, 8}, {2, 4}, {2, 2}));
  // layer_0 (1->2, stride 2): unit0 conv 18 + 2 + PReLU 1; unit1 conv 36 + 2 + PReLU 1;
  //   residual conv k3 s2 18 + 2 -> 80 (instance norm has no affine parameters).
  // layer_1 (2->4, last: unit1 conv only): unit0 72 + 4 + 1; unit1 144 + 4; residual 72 + 4 -> 301.
  // No linear head (a Discriminator adds Linear(4 * 2 * 2 -> 1) = 17).
  EXPECT_EQ(countParams(*critic), 80 + 301);
  EXPECT_EQ(countParams(*N::Discriminator(N::DiscriminatorOptions({1, 8, 8}, {2, 4}, {2, 2}))),
            80 + 301 + 17);
  EXPECT_EQ(stateDictKeys(*critic),
            (std::vector<std::string>{
                "net.layer_0.conv.unit0.conv.weight", "net.layer_0.conv.unit0.conv.bias",
                "net.layer_0.conv.unit0.adn.A.weight", "net.layer_0.conv.unit1.conv.weight",
                "net.layer_0.conv.unit1.conv.bias", "net.layer_0.conv.unit1.adn.A.weight",
                "net.layer_0.residual.weight", "net.layer_0.residual.bias",
                "net.layer_1.conv.unit0.conv.weight", "net.layer_1.conv.unit0.conv.bias",
                "net.layer_1.conv.unit0.adn.A.weight", "net.layer_1.conv.unit1.conv.weight",
                "net.layer_1.conv.unit1.conv.bias", "net.layer_1.residual.weight",
                "net.layer_1.residual.bias"}));

  critic->eval();
  at::Tensor x = at::randn({3, 1, 8, 8});
  auto body = std::dynamic_pointer_cast<B::TensorSequentialImpl>(critic->named_children()["net"]);
  ASSERT_TRUE(body);
  at::Tensor y = critic->forward(x);
  ASSERT_EQ(y.sizes(), at::IntArrayRef({3, 1}));
  EXPECT_TRUE(at::allclose(y, body->forward(x).flatten(1).mean(1, /*keepdim=*/true), 1e-5, 1e-6));

  critic->train();
  auto critic3 = N::Critic(N::CriticOptions({2, 8, 4, 4}, {2, 3}, {2, 1}).dropout(std::nullopt));
  at::Tensor y3 = critic3->forward(at::randn({2, 2, 8, 4, 4}));
  ASSERT_EQ(y3.sizes(), at::IntArrayRef({2, 1}));
  y3.sum().backward();
  for (const auto &p : critic3->named_parameters())
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
  EXPECT_EQ(errorWhere([&] { critic->forward(at::randn({3, 1, 8, 6})); }), "Critic.input");
  EXPECT_THROW(N::Critic(N::CriticOptions({1, 8, 8}, {2, 4}, {2})), med::Error);
}
