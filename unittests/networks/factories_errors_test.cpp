// Bad layer names and arguments give a med::Error naming the factory, the layer and the argument.
#include <gtest/gtest.h>

#include "med/core/error.h"
#include "med/networks/layers/factories.h"

namespace L = med::networks::layers;

namespace {

template <class F> void expectError(F &&f, std::vector<std::string> needles) {
  try {
    f();
    ADD_FAILURE() << "expected med::Error";
  } catch (const med::Error &e) {
    for (const std::string &n : needles)
      EXPECT_NE(std::string(e.what()).find(n), std::string::npos)
          << "'" << n << "' not in: " << e.what();
  }
}

TEST(FactoryErrors, NamesTheLayerAndArgument) {
  expectError([] { L::act("RELUU"); }, {"Act.name", "RELUU", "PRELU"});
  expectError(
      [] {
        L::act({"RELU", {{"negative_slope", 0.1}}});
      },
      {"Act[RELU]", "unexpected", "negative_slope"});
  expectError([] { L::act({"PRELU", {{"init", "big"}}}); }, {"Act[PRELU].init", "number"});
  expectError([] { L::norm("INSTANCE", 4, 2); }, {"Norm[INSTANCE].spatial_dims"});
  expectError([] { L::norm("GROUP", 2, 4); }, {"Norm[GROUP].num_groups", "missing"});
  expectError([] { L::norm("WEIGHT", 2, 4); }, {"Norm.name", "INSTANCE"});
  expectError([] { L::norm("BATCH", 2, 0); }, {"Norm[BATCH].channels"});
  expectError(
      [] {
        L::conv({"CONV", {{"in_channels", 1}, {"out_channels", 2}}}, 3);
      },
      {"Conv[CONV].kernel_size", "missing"});
  expectError(
      [] {
        L::conv({"CONV",
                 {{"in_channels", 1},
                  {"out_channels", 2},
                  {"kernel_size", std::vector<int64_t>{3, 3}}}},
                3);
      },
      {"Conv[CONV].kernel_size", "1 or 3"});
  expectError([] { L::conv("DECONV", 2); }, {"Conv.name"});
  expectError([] { L::pool({"MAX", {{"kernel_size", 2}}}, 0); }, {"Pool[MAX].spatial_dims"});
  expectError([] { L::pool("ADAPTIVEAVG", 2); }, {"Pool[ADAPTIVEAVG].output_size"});
  expectError([] { L::dropout({"DROPOUT", {{"p", 1.5}}}); }, {"Dropout[DROPOUT].p"});
  expectError([] { L::dropout("DROPOUT", 4); }, {"Dropout[DROPOUT].dropout_dim"});
}

} // namespace
