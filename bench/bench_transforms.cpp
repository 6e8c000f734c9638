// med-bench-transforms: fused JIT vs unfused JIT vs eager ATen vs a memory-streaming floor for
// intensity chains on a 256^3 float32 volume, at 1 and 2 threads. Prints medians and ratios.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <ATen/TensorOperators.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "bench_common.h"
#include "med/runtime/launcher.h"
#include "med/transforms/compose.h"
#include "med/transforms/croppad.h"
#include "med/transforms/intensity.h"
#include "med/transforms/intensity_aug.h"
#include "med/transforms/intensity_random.h"
#include "med/transforms/resample_random.h"
#include "med/transforms/smooth.h"
#include "med/transforms/spatial.h"
#include "med/transforms/spatial_random.h"

namespace T = med::transforms;

namespace {

// The augmentation chain.
T::Compose augChain() {
  return T::Compose(
      {T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(-1000, 1000, 0, 1).clip(true)),
       T::RandAffine(T::RandAffineOptions()
                         .prob(1.0)
                         .rotate_range({0.26, 0.26, 0.26})
                         .scale_range({0.1, 0.1, 0.1})
                         .mode("bilinear")
                         .padding_mode("zeros")),
       T::RandGaussianNoise(T::RandGaussianNoiseOptions().std(0.1).prob(1.0)),
       T::RandAdjustContrast(T::RandAdjustContrastOptions().gamma({0.7, 1.5}).prob(1.0)),
       T::RandFlip(T::RandFlipOptions(0).prob(1.0))});
}

double msSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

// Child process of the compile_cost case (`--compile-probe DIR`): the first call of a new
// pipeline on a tiny image (trace + kernel lookup dominate), then the first call of a second
// pipeline of the same chain (every kernel now in this process's memory). Prints both in ms.
int compileProbe(const std::string &dir) {
  setenv("MEDULLA_CACHE_DIR", dir.c_str(), 1);
  med::MetaTensor tiny(at::zeros({1, 8, 8, 8}));
  T::Compose aug = augChain();
  auto first = aug.compile(T::Schedule::cpu().threads(1));
  auto t0 = std::chrono::steady_clock::now();
  first(tiny);
  double firstMs = msSince(t0);
  auto second = aug.compile(T::Schedule::cpu().threads(1));
  auto t1 = std::chrono::steady_clock::now();
  second(tiny);
  fmt::print("{:.3f} {:.3f}\n", firstMs, msSince(t1));
  return 0;
}

// Runs `self --compile-probe dir` and returns its two figures.
std::pair<double, double> runProbe(const std::string &self, const std::string &dir) {
  std::string cmd = "'" + self + "' --compile-probe '" + dir + "'";
  FILE *p = popen(cmd.c_str(), "r");
  double a = -1, b = -1;
  if (p) {
    if (std::fscanf(p, "%lf %lf", &a, &b) != 2)
      a = b = -1;
    pclose(p);
  }
  if (a < 0)
    throw std::runtime_error("compile probe failed: " + cmd);
  return {a, b};
}

// compile_cost: cold (empty disk cache, new process), memory_hit (a second pipeline in the same
// process), disk_hit (a new process with the cache the cold run filled). Medians of 3.
void compileCost(med::bench::Report &report, const std::string &self) {
  std::vector<double> cold, memory, disk;
  for (int r = 0; r < 3; ++r) {
    char tmpl[] = "/tmp/med-bench-cache-XXXXXX";
    std::string dir = mkdtemp(tmpl);
    auto [c, m] = runProbe(self, dir);
    auto [d, unused] = runProbe(self, dir);
    cold.push_back(c);
    memory.push_back(m);
    disk.push_back(d);
    std::filesystem::remove_all(dir);
  }
  using med::bench::median;
  std::vector<int64_t> shape = {1, 8, 8, 8};
  report.add({"compile_cost", "cold", shape, 1, median(cold)});
  report.add({"compile_cost", "memory_hit", shape, 1, median(memory)});
  report.add({"compile_cost", "disk_hit", shape, 1, median(disk)});
}

} // namespace

int main(int argc, char **argv) {
  med::bench::passiveOpenMP(argv);
  CLI::App app{"Intensity chains: fused vs unfused vs eager ATen vs streaming floor"};
  std::string json;
  int size = 256, reps = 7;
  app.add_option("--json", json, "write the rows as JSON to this file");
  app.add_option("--size", size, "edge of the cubic volume")->check(CLI::Range(8, 1024));
  std::string only;
  app.add_option("--reps", reps, "timed repetitions per row")->check(CLI::Range(1, 1000));
  app.add_option("--case", only, "run only this case (e.g. aug_chain)");
  std::string probeDir;
  app.add_option("--compile-probe", probeDir, "internal: one compile_cost measurement")->group("");
  CLI11_PARSE(app, argc, argv);
  if (!probeDir.empty())
    return compileProbe(probeDir);
  auto wanted = [&](const std::string &name) { return only.empty() || only == name; };

  std::vector<std::pair<std::string, T::Compose>> cases = {
      {"sir_threshold",
       T::Compose(
           {T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(-1000, 1000, 0, 1).clip(true)),
            T::ThresholdIntensity(T::ThresholdIntensityOptions(0.2))})},
      {"pointwise_chain",
       T::Compose(
           {T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(-1000, 1000, 0, 1).clip(true)),
            T::ShiftIntensity(T::ShiftIntensityOptions(0.1)),
            T::ThresholdIntensity(T::ThresholdIntensityOptions(0.3)),
            T::ClipIntensity(T::ClipIntensityOptions(0.0, 1.0))})},
      // The intensity half of the augmentation chain (RandAffine/RandFlip come with the
      // spatial compiler); random parameters are kernel operands, noise is generated in-kernel.
      {"intensity_aug",
       T::Compose(
           {T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(-1000, 1000, 0, 1).clip(true)),
            T::RandGaussianNoise(T::RandGaussianNoiseOptions().std(0.1).prob(1.0)),
            T::RandAdjustContrast(T::RandAdjustContrastOptions().gamma({0.7, 1.5}).prob(1.0))})},
      // Copies: Orientation (a signed permutation), a centre crop and a pad, each a nearest
      // med.resample with the intensity ops fused around it (three kernels).
      {"copy_chain", T::Compose({T::Orientation(T::OrientationOptions("LPS")),
                                 T::ScaleIntensityRange(
                                     T::ScaleIntensityRangeOptions(-1000, 1000, 0, 1).clip(true)),
                                 T::CenterSpatialCrop(T::CenterSpatialCropOptions({size * 3 / 4})),
                                 T::SpatialPad(T::SpatialPadOptions({size * 7 / 8})),
                                 T::ShiftIntensity(T::ShiftIntensityOptions(0.1))})},
  };

  std::vector<int64_t> shape = {1, size, size, size};
  at::manual_seed(0);
  med::MetaTensor img(at::randn(shape) * 500);
  med::bench::Report report("med-bench-transforms");
  if (wanted("compile_cost"))
    compileCost(report, std::filesystem::read_symlink("/proc/self/exe").string());
  fmt::print("med-bench-transforms: 1x{0}x{0}x{0} float32, median of {1}, OMP_WAIT_POLICY={2}\n",
             size, reps, std::getenv("OMP_WAIT_POLICY"));

  for (int threads : {1, 2}) {
    at::set_num_threads(threads);
    // Floor: read the input once and write the output once. The output buffer is reused from
    // call to call, as a pipeline's result buffer is once the caller drops the previous result
    // (scratch.h): a fresh one per call would time its page faults, not the memory traffic.
    at::Tensor out = at::empty_like(img.data);
    double floor = med::bench::medianMs(
        [&] {
          const char *src = static_cast<const char *>(img.data.data_ptr());
          char *dst = static_cast<char *>(out.data_ptr());
          med::rt::parallelFor(img.data.nbytes(), threads, 4096,
                               [&](int64_t b, int64_t e) { std::memcpy(dst + b, src + b, e - b); });
        },
        reps);
    for (auto &[name, chain] : cases) {
      if (!wanted(name))
        continue;
      auto fused = chain.compile(T::Schedule::cpu().threads(threads));
      auto unfused = chain.compile(T::Schedule::cpu().threads(threads).fuse(false));
      report.add({name, "fused", shape, threads, med::bench::medianMs([&] { fused(img); }, reps)});
      report.add(
          {name, "unfused", shape, threads, med::bench::medianMs([&] { unfused(img); }, reps)});
      report.add(
          {name, "eager", shape, threads, med::bench::medianMs([&] { chain.eager(img); }, reps)});
      report.add({name, "floor", shape, threads, floor});
      // Eight samples (own random keys) in one launch per stage against the same eight run one
      // at a time keeping their results as the batch does (a result dropped at once would let
      // the next call reuse its buffer, which a batch's eight results cannot); per sample.
      std::vector<med::MetaTensor> batch(8, img);
      std::vector<med::rt::RandomKey> keys;
      for (uint64_t s = 0; s < 8; ++s)
        keys.push_back({0, 0, s, 0});
      auto [batched, sequential] =
          med::bench::alternatingMedianMs([&] { fused.runBatch(batch, keys); },
                                          [&] {
                                            std::vector<med::MetaTensor> results;
                                            for (const auto &k : keys)
                                              results.push_back(fused.run(img, k));
                                          },
                                          std::min(reps, 3));
      report.add({name, "batched8", shape, threads, batched / 8});
      report.add({name, "sequential8", shape, threads, sequential / 8});
    }
  }
  // The augmentation chain on its two shapes. Fused: ScaleIntensityRange, the
  // trilinear RandAffine gather, the noise, then (after the med.extrema split) RandFlip as a
  // copy with RandAdjustContrast as its prologue (docs/architecture.md, schedule rules);
  // unfused: one kernel per op; eager: the ATen references op by op.
  T::Compose aug = augChain();
  for (std::vector<int64_t> augShape :
       {std::vector<int64_t>{1, 128, 128, 128}, std::vector<int64_t>{1, 256, 256, 128}}) {
    if (!wanted("aug_chain"))
      break;
    med::MetaTensor augImg(at::randn(augShape) * 500);
    for (int threads : {1, 2}) {
      at::set_num_threads(threads);
      auto fused = aug.compile(T::Schedule::cpu().threads(threads));
      auto unfused = aug.compile(T::Schedule::cpu().threads(threads).fuse(false));
      // Fused and unfused in alternation, so the machine's drift and each draw's cost (the i-th
      // call of each draws the same rotation) hit both alike; eager after them, on its own: a
      // compiled run right after a second of eager work was up to 2x slower on two threads
      // (docs/performance.md, "Timing next to eager ATen").
      const int r = std::min(reps, 5);
      auto [fusedMs, unfusedMs] =
          med::bench::alternatingMedianMs([&] { fused(augImg); }, [&] { unfused(augImg); }, r);
      report.add({"aug_chain", "fused", augShape, threads, fusedMs});
      report.add({"aug_chain", "unfused", augShape, threads, unfusedMs});
      report.add({"aug_chain", "eager", augShape, threads,
                  med::bench::medianMs([&] { aug.eager(augImg); }, r)});
      std::vector<med::MetaTensor> batch(8, augImg);
      std::vector<med::rt::RandomKey> keys;
      for (uint64_t s = 0; s < 8; ++s)
        keys.push_back({0, 0, s, 0});
      // batched8: one runBatch of 8 samples; sequential8: the same 8 keys one run at a time (the
      // fair reference: the random rotations change the gather's cost from sample to sample),
      // keeping the 8 results as a batch does (a result dropped at once lets the next call
      // reuse its memory without page faults: 10-15 ms per 128^3 sample on this machine).
      // Per sample; five rounds of each, alternating, after a warm-up of each.
      auto batchOf8 = [&] { fused.runBatch(batch, keys); };
      auto oneByOne = [&] {
        std::vector<med::MetaTensor> results;
        for (const auto &k : keys)
          results.push_back(fused.run(augImg, k));
      };
      auto [batched, sequential] = med::bench::alternatingMedianMs(batchOf8, oneByOne, 5);
      report.add({"aug_chain", "batched8", augShape, threads, batched / 8});
      report.add({"aug_chain", "sequential8", augShape, threads, sequential / 8});
    }
    for (int threads : {1, 2}) {
      report.printRatio("aug_chain", threads, "eager", "fused", augShape);
      report.printRatio("aug_chain", threads, "unfused", "fused", augShape);
      report.printRatio("aug_chain", threads, "batched8", "sequential8", augShape);
    }
  }

  // The chain's spatial ops alone on 1x128^3: the compiled resample against grid sampling; the
  // same RandAffine with MONAI's default reflection padding, a RandZoom that pads back or
  // crops by its draw (interpolate and ResizeWithPadOrCrop eagerly), an elastic deformation.
  std::vector<std::pair<std::string, T::Compose>> spatial = {
      {"rand_affine", T::Compose({T::RandAffine(T::RandAffineOptions()
                                                    .prob(1.0)
                                                    .rotate_range({0.26, 0.26, 0.26})
                                                    .scale_range({0.1, 0.1, 0.1})
                                                    .mode("bilinear")
                                                    .padding_mode("zeros"))})},
      {"rand_affine_reflection", T::Compose({T::RandAffine(T::RandAffineOptions()
                                                               .prob(1.0)
                                                               .rotate_range({0.26, 0.26, 0.26})
                                                               .scale_range({0.1, 0.1, 0.1})
                                                               .mode("bilinear"))})},
      {"rand_zoom",
       T::Compose({T::RandZoom(
           T::RandZoomOptions().prob(1.0).min_zoom({0.8}).max_zoom({1.2}).mode("trilinear"))})},
      {"rand_flip", T::Compose({T::RandFlip(T::RandFlipOptions(0).prob(1.0))})},
      // MONAI's documented 3-D elastic example (sigma 5-8, magnitude 100-200) with the chain's
      // rotation: the host smooths the displacement in both variants, the sampling differs.
      {"rand_elastic", T::Compose({T::Rand3DElastic(T::Rand3DElasticOptions({5, 8}, {100, 200})
                                                        .prob(1.0)
                                                        .rotate_range({0.26, 0.26, 0.26})
                                                        .padding_mode("zeros"))})},
      // Resize in its default area mode: halving (boxes of 2x2x2) and 128 -> 96 (boxes of 1-2).
      {"resize_area_half", T::Compose({T::Resize(T::ResizeOptions({64, 64, 64}))})},
      {"resize_area_96", T::Compose({T::Resize(T::ResizeOptions({96, 96, 96}))})}};
  // Each case alone on `img`: compiled against eager, one and two threads.
  auto timeAlone = [&](std::vector<std::pair<std::string, T::Compose>> &chains,
                       const med::MetaTensor &img) {
    const std::vector<int64_t> shape = img.data.sizes().vec();
    for (auto &[name, chain] : chains) {
      if (!wanted(name))
        continue;
      for (int threads : {1, 2}) {
        at::set_num_threads(threads);
        auto fused = chain.compile(T::Schedule::cpu().threads(threads));
        report.add(
            {name, "fused", shape, threads, med::bench::medianMs([&] { fused(img); }, reps)});
        report.add(
            {name, "eager", shape, threads, med::bench::medianMs([&] { chain.eager(img); }, reps)});
        report.printRatio(name, threads, "eager", "fused");
      }
    }
  };
  med::MetaTensor ct(at::randn({1, 128, 128, 128}) * 500);
  timeAlone(spatial, ct);
  // The chain's intensity steps alone, each on what it meets in the chain: ScaleIntensityRange
  // on the raw image, the noise and the contrast on its result (in [0, 1], 2% of voxels at each
  // end). With rand_affine and rand_flip above, where the chain's time goes.
  std::vector<std::pair<std::string, T::Compose>> intensitySteps = {
      {"rand_gaussian_noise",
       T::Compose({T::RandGaussianNoise(T::RandGaussianNoiseOptions().std(0.1).prob(1.0))})},
      {"rand_adjust_contrast", T::Compose({T::RandAdjustContrast(
                                   T::RandAdjustContrastOptions().gamma({0.7, 1.5}).prob(1.0))})}};
  std::vector<std::pair<std::string, T::Compose>> scaling = {
      {"scale_intensity_range",
       T::Compose(
           {T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(-1000, 1000, 0, 1).clip(true))})}};
  timeAlone(scaling, ct);
  timeAlone(intensitySteps, scaling[0].second.eager(ct));
  // Separable Gaussian smoothing (a med.filter_axis kernel per axis against the ATen
  // convolution per axis) and the bias field (med.bias_field against the float64 field tensor).
  std::vector<std::pair<std::string, T::Compose>> smoothing = {
      {"gaussian_smooth", T::Compose({T::GaussianSmooth(T::GaussianSmoothOptions(1.0))})},
      {"rand_gaussian_smooth",
       T::Compose({T::RandGaussianSmooth(T::RandGaussianSmoothOptions().prob(1.0))})},
      {"rand_bias_field", T::Compose({T::RandBiasField(T::RandBiasFieldOptions().prob(1.0))})}};
  timeAlone(smoothing, scaling[0].second.eager(ct));
  // Augmentations compiled since they ran as host steps: the histogram shift (a med.extrema
  // split, then med.histogram_shift), the Rician noise (two Philox normals per voxel) and the
  // coarse dropout (8-16 boxes of 16^3 filled with per-voxel uniforms).
  std::vector<std::pair<std::string, T::Compose>> augmentations = {
      {"rand_histogram_shift",
       T::Compose({T::RandHistogramShift(T::RandHistogramShiftOptions(10).prob(1.0))})},
      {"rand_rician_noise",
       T::Compose({T::RandRicianNoise(T::RandRicianNoiseOptions().std({0.1}).prob(1.0))})},
      {"rand_coarse_dropout",
       T::Compose({T::RandCoarseDropout(T::RandCoarseDropoutOptions(8, {16})
                                            .max_holes(16)
                                            .fill_value(T::FillValue(0.0, 1.0))
                                            .prob(1.0))})}};
  timeAlone(augmentations, scaling[0].second.eager(ct));

  // Bicubic, 2-D only (grid_sample and interpolate have no 3-D bicubic): a three-channel 512^2
  // image rotated and scaled, and resized to 768^2.
  std::vector<std::pair<std::string, T::Compose>> planar = {
      {"rand_affine_bicubic_2d", T::Compose({T::RandAffine(T::RandAffineOptions()
                                                               .prob(1.0)
                                                               .rotate_range({0.26})
                                                               .scale_range({0.1})
                                                               .mode("bicubic")
                                                               .padding_mode("zeros"))})},
      {"resize_bicubic_2d", T::Compose({T::Resize(T::ResizeOptions({768, 768}).mode("bicubic"))})}};
  timeAlone(planar, med::MetaTensor(at::rand({3, 512, 512})));

  fmt::print("\nratios (time / time; eager/fused is the speed-up, fused/floor the distance to "
             "memory bandwidth):\n");
  for (auto &[name, chain] : cases)
    for (int threads : {1, 2}) {
      report.printRatio(name, threads, "eager", "fused");
      report.printRatio(name, threads, "unfused", "fused");
      report.printRatio(name, threads, "fused", "floor");
      report.printRatio(name, threads, "batched8", "sequential8");
    }
  report.writeJson(json);
  return 0;
}
