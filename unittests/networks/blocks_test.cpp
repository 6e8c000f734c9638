// ADN, Convolution, ResidualUnit and SkipConnection against the same computations written with
// plain ATen ops, plus MONAI's child names and the errors.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "med/core/error.h"
#include "med/networks/blocks/convolutions.h"

namespace B = med::networks::blocks;
using med::networks::layers::LayerSpec;

namespace {
std::vector<std::string> childNames(torch::nn::Module &m) {
  std::vector<std::string> out;
  for (const auto &c : m.named_children())
    out.push_back(c.key());
  return out;
}
} // namespace

TEST(Blocks, AdnOrderingAndOmittedLayers) {
  auto adn = B::ADN(B::ADNOptions()
                        .ordering("ad")
                        .in_channels(3)
                        .act(LayerSpec("RELU"))
                        .norm(LayerSpec("BATCH"))
                        .norm_dim(2));
  EXPECT_EQ(childNames(*adn), (std::vector<std::string>{"A"})); // no dropout given, N not listed
  auto nda = B::ADN(B::ADNOptions()
                        .ordering("NDA")
                        .in_channels(3)
                        .act(LayerSpec("TANH"))
                        .norm(LayerSpec("INSTANCE"))
                        .norm_dim(1)
                        .dropout(B::dropoutSpec(0.5)));
  EXPECT_EQ(childNames(*nda), (std::vector<std::string>{"N", "D", "A"}));
  nda->eval();
  at::Tensor x = at::randn({2, 3, 7});
  at::Tensor ref = at::tanh((x - x.mean(2, true)) / at::sqrt(x.var(2, false, true) + 1e-5));
  EXPECT_TRUE(at::allclose(nda->forward(x), ref, 1e-5, 1e-6));
  EXPECT_THROW(B::ADN(B::ADNOptions().ordering("NAX")), med::Error);
}

TEST(Blocks, TransposedConvolutionDoublesSize) {
  auto c = B::Convolution(
      B::ConvolutionOptions(3, 2, 4).strides({2}).is_transposed(true).conv_only(true));
  EXPECT_EQ(childNames(*c), (std::vector<std::string>{"conv"}));
  at::Tensor x = at::randn({1, 2, 3, 4, 5});
  auto P = c->named_parameters();
  at::Tensor ref =
      at::conv_transpose3d(x, P["conv.weight"], P["conv.bias"], {2, 2, 2}, {1, 1, 1}, {1, 1, 1});
  at::Tensor y = c->forward(x);
  EXPECT_EQ(y.sizes(), at::IntArrayRef({1, 4, 6, 8, 10}));
  EXPECT_TRUE(at::allclose(y, ref, 1e-5, 1e-6));
  EXPECT_THROW(B::Convolution(B::ConvolutionOptions(2, 1, 1).kernel_size({3, 3, 3})), med::Error);
  EXPECT_THROW(B::Convolution(B::ConvolutionOptions(0, 1, 1)), med::Error);
}

TEST(Blocks, ResidualUnitMatchesPlainATen) {
  // stride 2 and a channel change: the residual path is a strided 3x3 conv.
  auto ru = B::ResidualUnit(B::ResidualUnitOptions(2, 2, 3)
                                .strides({2})
                                .subunits(2)
                                .norm(std::nullopt)
                                .act(LayerSpec("RELU")));
  EXPECT_EQ(childNames(*ru), (std::vector<std::string>{"conv", "residual"}));
  at::Tensor x = at::randn({2, 2, 6, 8});
  auto P = ru->named_parameters();
  at::Tensor h = at::relu(
      at::conv2d(x, P["conv.unit0.conv.weight"], P["conv.unit0.conv.bias"], {2, 2}, {1, 1}));
  h = at::relu(
      at::conv2d(h, P["conv.unit1.conv.weight"], P["conv.unit1.conv.bias"], {1, 1}, {1, 1}));
  at::Tensor res = at::conv2d(x, P["residual.weight"], P["residual.bias"], {2, 2}, {1, 1});
  EXPECT_TRUE(at::allclose(ru->forward(x), h + res, 1e-5, 1e-6));

  // Same shape in and out: an Identity residual (no parameters).
  auto id = B::ResidualUnit(B::ResidualUnitOptions(2, 3, 3).subunits(1).last_conv_only(true));
  EXPECT_FALSE(id->named_parameters().contains("residual.weight"));
  at::Tensor z = at::randn({1, 3, 5, 5});
  auto Q = id->named_parameters();
  at::Tensor refId =
      at::conv2d(z, Q["conv.unit0.conv.weight"], Q["conv.unit0.conv.bias"], {1, 1}, {1, 1}) + z;
  EXPECT_TRUE(at::allclose(id->forward(z), refId, 1e-5, 1e-6));
}

TEST(Blocks, SkipConnectionConcatenates) {
  auto inner = B::Convolution(B::ConvolutionOptions(1, 2, 5).conv_only(true));
  auto skip = B::SkipConnection(torch::nn::AnyModule(inner));
  at::Tensor x = at::randn({3, 2, 9});
  at::Tensor y = skip->forward(x);
  EXPECT_EQ(y.sizes(), at::IntArrayRef({3, 7, 9}));
  EXPECT_TRUE(at::equal(y.slice(1, 0, 2), x));
  EXPECT_TRUE(skip->named_parameters().contains("submodule.conv.weight"));
}
