// med-bench-train: the cost of the engine around a training step. Case train_step, variants
// "trainer" (one SupervisedTrainer iteration: events, prepare_batch, inferer, output bookkeeping)
// and "handwritten" (a plain LibTorch loop: forward, loss, backward, step), both on the same
// small 3D UNet, DiceLoss(softmax, to_onehot_y) and Adam, with the batches in memory. Each timed
// sample is one epoch of --iters iterations divided by --iters; the variants alternate so that
// drift hits both. Case train_step_tiny repeats this with a 1x1 convolution on a 4^3 input, so
// that the difference of the variants there is the engine's fixed cost per iteration, which is
// compared with the UNet step (a measure that survives a noisy machine). Prints medians and the
// overhead ratio (target <= 1.03). Case loader_feeds_step asks whether a DataLoader running the
// compiled augmentation chain keeps a UNet step fed on 2 threads: variants "loader" (the loader
// alone, ms per batch), "step" (the trainer on batches in memory) and "fed" (the trainer pulling
// from the loader); the loader should never be the slower one. --json FILE writes the rows.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <chrono>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/nn/modules/conv.h>
#include <torch/optim/adam.h>

#include "bench_common.h"
#include "med/data/dataloader.h"
#include "med/data/dataset.h"
#include "med/engines/trainer.h"
#include "med/losses/dice.h"
#include "med/networks/nets/unet.h"
#include "med/transforms/intensity.h"
#include "med/transforms/intensity_random.h"
#include "med/transforms/resample_random.h"
#include "med/transforms/spatial_random.h"

namespace E = med::engines;
namespace N = med::networks::nets;
namespace T = med::transforms;

namespace {

using med::bench::median;

template <typename F> double per_iteration_ms(F &&f, int iters) {
  auto start = std::chrono::steady_clock::now();
  f();
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  return ms.count() / iters;
}

// The transform issue's augmentation chain on "image" (dictionary form). The label passes
// through unchanged: this case measures whether the loader keeps up, not what the net learns.
T::Compose augChaind() {
  const std::vector<std::string> k = {"image"};
  return T::Compose(
      {T::ScaleIntensityRanged(k, T::ScaleIntensityRangeOptions(-1000, 1000, 0, 1).clip(true)),
       T::RandAffined(k, T::RandAffineOptions()
                             .prob(1.0)
                             .rotate_range({0.26, 0.26, 0.26})
                             .scale_range({0.1, 0.1, 0.1})
                             .mode("bilinear")
                             .padding_mode("zeros")),
       T::RandGaussianNoised(k, T::RandGaussianNoiseOptions().std(0.1).prob(1.0)),
       T::RandAdjustContrastd(k, T::RandAdjustContrastOptions().gamma({0.7, 1.5}).prob(1.0)),
       T::RandFlipd(k, T::RandFlipOptions(0).prob(1.0))});
}

// Case loader_feeds_step on 2 intra-op threads: 4 batches of `batch` volumes of size^3 per epoch
// through the compiled chain (workers threads, each kernel on one thread), the same UNet.
void loaderFeedsStep(med::bench::Report &report, int size, int batch, int workers, int reps,
                     const med::losses::DiceLoss &loss) {
  const int threads = 2, batches = 4;
  at::set_num_threads(threads);
  E::set_determinism(0);
  std::vector<med::data::Item> items;
  for (int i = 0; i < batches * batch; ++i) {
    at::Tensor img = at::randn({1, size, size, size}) * 400.0;
    items.emplace_back(med::Data{{"image", med::MetaTensor(img)},
                                 {"label", med::MetaTensor((img > 100.0).to(at::kFloat))}});
  }
  med::data::Dataset ds(items, med::data::Pipeline(augChaind(), T::Schedule::cpu().threads(1)));
  auto loader = std::make_shared<med::data::DataLoader>(
      ds, med::data::DataLoaderOptions().batch_size(batch).num_workers(workers).seed(1));
  N::UNet unet(N::UNetOptions(3, 1, 2).channels({8, 16, 32}).strides({2, 2}).num_res_units(1));
  E::Network net(unet);
  auto opt = std::make_shared<torch::optim::Adam>(net.module->parameters(),
                                                  torch::optim::AdamOptions(1e-3));
  std::vector<med::Data> in_memory, last;
  int64_t epoch = 0;
  auto run_loader = [&] {
    last.clear();
    loader->set_epoch(++epoch);
    for (const med::data::Batch &b : *loader)
      last.push_back(b);
  };
  auto run_step = [&] {
    E::SupervisedTrainer(E::SupervisedTrainerOptions(1, in_memory, net, opt, loss)).run();
  };
  auto run_fed = [&] {
    E::SupervisedTrainer(E::SupervisedTrainerOptions(1, loader, net, opt, loss)).run();
  };
  run_loader(); // warm-up: compiles (or loads) the chain's kernels
  in_memory = last;
  run_step();
  run_fed();
  std::vector<double> t_loader, t_step, t_fed;
  for (int r = 0; r < reps; ++r) {
    t_loader.push_back(per_iteration_ms(run_loader, batches));
    t_step.push_back(per_iteration_ms(run_step, batches));
    t_fed.push_back(per_iteration_ms(run_fed, batches));
  }
  std::vector<int64_t> shape = {batch, 1, size, size, size};
  report.add({"loader_feeds_step", "loader", shape, threads, median(t_loader)});
  report.add({"loader_feeds_step", "step", shape, threads, median(t_step)});
  report.add({"loader_feeds_step", "fed", shape, threads, median(t_fed)});
  fmt::print("\nloader_feeds_step: DataLoader({} workers, compiled aug chain) -> trainer, batch "
             "{}x1x{}^3, {} threads, median of {}:\n  loader {:.1f} ms/batch, step {:.1f} "
             "ms/iteration, fed {:.1f} ms/iteration\n",
             workers, batch, size, threads, reps, median(t_loader), median(t_step), median(t_fed));
  report.printRatio("loader_feeds_step", threads, "loader", "step");
  report.printRatio("loader_feeds_step", threads, "fed", "step");
  fmt::print("the loader is {} (target: never the slower one)\n",
             median(t_loader) <= median(t_step) ? "faster than the step" : "SLOWER than the step");
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"Training step: SupervisedTrainer vs a handwritten LibTorch loop"};
  std::string json;
  int size = 32, batch = 2, iters = 8, reps = 7, threads = 1;
  int loader_size = 96, loader_workers = 2, loader_reps = 3;
  bool skip_loader = false;
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
  app.add_option("--loader-size", loader_size,
                 "edge of the cubic volumes of loader_feeds_step (multiple of 4)")
      ->check(CLI::Range(8, 256));
  app.add_option("--loader-workers", loader_workers, "DataLoader workers of loader_feeds_step")
      ->check(CLI::Range(0, 16));
  app.add_option("--loader-reps", loader_reps, "timed epochs per variant of loader_feeds_step")
      ->check(CLI::Range(1, 100));
  app.add_flag("--skip-loader", skip_loader, "run only the train_step cases");
  CLI11_PARSE(app, argc, argv);
  if (size % 4 != 0 || loader_size % 4 != 0) {
    fmt::print(stderr, "--size and --loader-size must be multiples of 4\n");
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
  if (!skip_loader)
    loaderFeedsStep(report, loader_size, batch, loader_workers, loader_reps, loss);
  report.writeJson(json);
  return 0;
}
