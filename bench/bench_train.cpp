// med-bench-train: the cost of the engine around a training step. Case train_step, variants
// "trainer" (one SupervisedTrainer iteration: events, prepare_batch, inferer, output bookkeeping)
// and "handwritten" (a plain LibTorch loop: forward, loss, backward, step), both on the same
// small 3D UNet, DiceLoss(softmax, to_onehot_y) and Adam, with the batches in memory. Each timed
// sample is one epoch of --iters iterations divided by --iters; the variants alternate so that
// drift hits both. Case train_step_tiny repeats this with a 1x1 convolution on a 4^3 input, so
// that the difference of the variants there is the engine's fixed cost per iteration, which is
// compared with the UNet step (a measure that survives a noisy machine). Prints medians and the
// overhead ratio (target <= 1.03); --json FILE writes the rows.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <chrono>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/nn/modules/conv.h>
#include <torch/optim/adam.h>

#include "bench_common.h"
#include "med/engines/trainer.h"
#include "med/losses/dice.h"
#include "med/networks/nets/unet.h"

namespace E = med::engines;
namespace N = med::networks::nets;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <typename F> double per_iteration_ms(F &&f, int iters) {
  auto start = std::chrono::steady_clock::now();
  f();
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  return ms.count() / iters;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"Training step: SupervisedTrainer vs a handwritten LibTorch loop"};
  std::string json;
  int size = 32, batch = 2, iters = 8, reps = 7, threads = 1;
  app.add_option("--json", json, "write the rows as JSON to this file");
  app.add_option("--size", size, "edge of the cubic input (multiple of 4)")
      ->check(CLI::Range(8, 256));
  app.add_option("--batch", batch, "items per batch")->check(CLI::Range(1, 64));
  app.add_option("--iters", iters, "iterations per timed epoch")->check(CLI::Range(1, 1000));
  app.add_option("--reps", reps, "timed epochs per variant")->check(CLI::Range(1, 1000));
  app.add_option(
         "--threads", threads,
         "intra-op threads (default 1: on a busy 2-core machine OpenMP waits swamp 2-thread runs)")
      ->check(CLI::Range(1, 256));
  CLI11_PARSE(app, argc, argv);
  if (size % 4 != 0) {
    fmt::print(stderr, "--size must be a multiple of 4\n");
    return 2;
  }
  at::set_num_threads(threads);

  E::set_determinism(0);
  med::losses::DiceLoss loss(med::losses::DiceLossOptions().softmax(true).to_onehot_y(true));
  auto make_batches = [&](std::vector<int64_t> shape) {
    std::vector<med::Data> batches;
    for (int i = 0; i < iters; ++i) {
      at::Tensor img = at::randn(shape);
      batches.push_back({{"image", med::MetaTensor(img)},
                         {"label", med::MetaTensor((img > 0.3).to(at::kFloat))}});
    }
    return batches;
  };
  med::bench::Report report("med-bench-train");
  // Times both variants on `net`, alternating them; returns (trainer, handwritten) medians.
  auto measure = [&](const std::string &name, E::Network net, std::vector<int64_t> shape) {
    auto batches = make_batches(shape);
    auto opt = std::make_shared<torch::optim::Adam>(net.module->parameters(),
                                                    torch::optim::AdamOptions(1e-3));
    E::SupervisedTrainer trainer(E::SupervisedTrainerOptions(1, batches, net, opt, loss));
    auto run_trainer = [&] { trainer.run(); };
    auto run_handwritten = [&] {
      net.module->train();
      for (auto &b : batches) {
        at::Tensor x = b.at("image").data, y = b.at("label").data;
        opt->zero_grad();
        at::Tensor l = loss(net.forward(x), y);
        l.backward();
        opt->step();
      }
    };
    run_trainer(); // warm-up (allocator, first-call dispatch)
    run_handwritten();
    std::vector<double> t_trainer, t_hand;
    for (int r = 0; r < reps; ++r) {
      bool trainer_first = r % 2 == 0;
      if (trainer_first)
        t_trainer.push_back(per_iteration_ms(run_trainer, iters));
      t_hand.push_back(per_iteration_ms(run_handwritten, iters));
      if (!trainer_first)
        t_trainer.push_back(per_iteration_ms(run_trainer, iters));
    }
    report.add({name, "trainer", shape, threads, median(t_trainer)});
    report.add({name, "handwritten", shape, threads, median(t_hand)});
    return std::make_pair(median(t_trainer), median(t_hand));
  };

  fmt::print("med-bench-train: UNet(3D, 1->2, channels 8/16/32, 1 res unit) + DiceLoss + Adam, "
             "batch {}x1x{}^3, {} iterations per sample, median of {}, {} threads; "
             "train_step_tiny: a 1x1 convolution on 2x1x4x4x4 (the engine's fixed cost)\n",
             batch, size, iters, reps, threads);
  N::UNet unet(N::UNetOptions(3, 1, 2).channels({8, 16, 32}).strides({2, 2}).num_res_units(1));
  auto [unet_trainer, unet_hand] = measure("train_step", unet, {batch, 1, size, size, size});
  torch::nn::Conv3d tiny(torch::nn::Conv3dOptions(1, 2, 1));
  auto [tiny_trainer, tiny_hand] = measure("train_step_tiny", tiny, {2, 1, 4, 4, 4});

  fmt::print("\nratios (time / time):\n");
  report.printRatio("train_step", threads, "trainer", "handwritten");
  report.printRatio("train_step_tiny", threads, "trainer", "handwritten");
  double fixed_ms = tiny_trainer - tiny_hand;
  fmt::print("engine overhead, measured on the UNet step: {:+.2f}% (target <= 3%)\n",
             100.0 * (unet_trainer / unet_hand - 1.0));
  fmt::print("engine fixed cost per iteration (tiny step difference): {:.1f} us = {:.3f}% of the "
             "handwritten UNet step\n",
             1000.0 * fixed_ms, 100.0 * fixed_ms / unet_hand);
  report.writeJson(json);
  return 0;
}
