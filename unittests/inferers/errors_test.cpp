// Bad arguments give a med::Error naming the function or class and the parameter.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "med/inferers/inferer.h"
#include "reference.h"

namespace I = med::inferers;
using ref::expectError;

namespace {

at::Tensor ident(const at::Tensor &x) { return x; }

TEST(InfererErrors, SlidingWindowInferenceNamesTheParameter) {
  at::Tensor x = at::zeros({1, 1, 8, 8, 8});
  const std::string f = "sliding_window_inference";
  expectError([&] { I::sliding_window_inference(x, {4, 4}, 1, ident); }, {f + ".roi_size", "3"});
  expectError(
      [&] {
        I::sliding_window_inference(x, {4, 4, 4}, 0, ident);
      },
      {f + ".sw_batch_size", "at least 1"});
  expectError(
      [&] {
        I::sliding_window_inference(x, {4, 4, 4}, 1, ident, 1.0);
      },
      {f + ".overlap", "< 1"});
  expectError([&] { I::sliding_window_inference(x, {4, 4, 4}, 1, ident, -0.1); }, {f + ".overlap"});
  expectError(
      [&] {
        I::sliding_window_inference(x, {4, 4, 4}, 1, ident, 0.25, "mean");
      },
      {f + ".mode", "gaussian", "mean"});
  expectError(
      [&] {
        I::sliding_window_inference(x, {4, 4, 4}, 1, ident, 0.25, "gaussian", {0.1, 0.2});
      },
      {f + ".sigma_scale"});
  expectError(
      [&] {
        I::sliding_window_inference(x, {4, 4, 4}, 1, ident, 0.25, "gaussian", {0.0});
      },
      {f + ".sigma_scale", "> 0"});
  expectError(
      [&] {
        I::sliding_window_inference(x, {4, 4, 4}, 1, ident, 0.25, "constant", {0.125}, "edge");
      },
      {f + ".padding_mode", "replicate", "edge"});
  expectError(
      [&] {
        I::sliding_window_inference(at::zeros({4, 4}), {4}, 1, ident);
      },
      {f + ".inputs", "(batch, channel, *spatial)"});
  expectError(
      [&] {
        I::sliding_window_inference(x, {4, 4, 4}, 1, I::Predictor());
      },
      {f + ".predictor"});
}

TEST(InfererErrors, PredictorOutputOfTheWrongShape) {
  at::Tensor x = at::zeros({1, 1, 8, 8});
  auto shrink = [](const at::Tensor &t) { return t.narrow(2, 0, 2); };
  expectError(
      [&] {
        I::sliding_window_inference(x, {4, 4}, 2, shrink);
      },
      {"sliding_window_inference.predictor", "(2, -1, 4, 4)", "(2, 1, 2, 4)"});
  auto flat = [](const at::Tensor &t) { return t.flatten(1); };
  expectError(
      [&] {
        I::sliding_window_inference(x, {4, 4}, 2, flat);
      },
      {"sliding_window_inference.predictor"});
}

TEST(InfererErrors, SlidingWindowInfererChecksItsOptionsAtConstruction) {
  using O = I::SlidingWindowInfererOptions;
  expectError([] { I::SlidingWindowInferer(O({4}).overlap(1.5)); },
              {"SlidingWindowInferer.overlap"});
  expectError([] { I::SlidingWindowInferer(O({4}).sw_batch_size(-2)); },
              {"SlidingWindowInferer.sw_batch_size"});
  expectError([] { I::SlidingWindowInferer(O({4}).mode("Gaussian")); },
              {"SlidingWindowInferer.mode"});
  expectError([] { I::SlidingWindowInferer(O({})); }, {"SlidingWindowInferer.roi_size"});
  expectError([] { I::SlidingWindowInferer(O({4}).padding_mode("zeros")); },
              {"SlidingWindowInferer.padding_mode"});
}

TEST(InfererErrors, LayoutHelpersRejectImpossibleSizes) {
  expectError([] { I::get_scan_interval({8}, {9}, 0.5); }, {"get_scan_interval.roi_size"});
  expectError([] { I::dense_patch_slices({8}, {4}, {0}); }, {"dense_patch_slices.scan_interval"});
  expectError([] { I::compute_importance_map({4, 4}, "box"); }, {"compute_importance_map.mode"});
  expectError(
      [] {
        I::compute_importance_map({4, 0}, "constant");
      },
      {"compute_importance_map.patch_size"});
}

} // namespace
