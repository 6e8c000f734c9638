// med: the command-line front door. `med demo` is the walking skeleton's main job: load an image,
// run a compiled intensity chain, save it, reload it and report each stage with its time.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <ATen/TensorOperators.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

#include "med/compiler/JitSession.h"
#include "med/core/error.h"
#include "med/io/image_io.h"
#include "med/transforms/compose.h"
#include "med/transforms/intensity.h"

namespace T = med::transforms;

// `med run` (tools/med/run_cmd.cpp): the returned function runs it after parsing.
std::function<int()> add_run_command(CLI::App &app);

namespace {

double msSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

template <class F> double timeMs(F &&f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return msSince(start);
}

template <class F> double medianMs(int reps, F &&f) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i)
    t.push_back(timeMs(f));
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

void stage(const char *name, double ms, const std::string &what) {
  fmt::print("  {:<22} {:>9.2f} ms   {}\n", name, ms, what);
}

std::string shapeOf(const at::Tensor &t) {
  std::string s = "(";
  for (int64_t i = 0; i < t.dim(); ++i)
    s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + ")";
}

int demo(const std::string &input, const std::string &output, int threads) {
  at::set_num_threads(threads);
  fmt::print("Medulla demo: {} -> {}\n", input, output);
  fmt::print("  chain: ScaleIntensityRange(a 0..255 -> b 0..1, clip) -> ThresholdIntensity(> 0.2, "
             "cval 0), fused, {} thread(s)\n\n",
             threads);

  med::MetaTensor img;
  double ms = timeMs([&] {
    img = med::io::LoadImage(med::io::LoadImageOptions().dtype(c10::nullopt))(input);
    img = med::io::EnsureChannelFirst()(img);
  });
  stage("load (ITK)", ms,
        fmt::format("{} {}", shapeOf(img.data), c10::toString(img.data.scalar_type())));

  T::Compose chain({T::ScaleIntensityRange(T::ScaleIntensityRangeOptions(0, 255, 0, 1).clip(true)),
                    T::ThresholdIntensity(T::ThresholdIntensityOptions(0.2))});
  auto pipeline = chain.compile(T::Schedule::cpu().threads(threads));

  std::vector<std::string> ir;
  ms = timeMs([&] { ir = pipeline.ir(img.data.scalar_type()); });
  stage("trace to med IR", ms, fmt::format("{} kernel(s)", ir.size()));
  fmt::print("\n{}\n", ir.front());

  med::MetaTensor out;
  ms = timeMs([&] { out = pipeline(img); });
  auto stats = med::compiler::JitSession::global().stats();
  stage("compile + first run", ms,
        stats.diskHits > 0
            ? fmt::format("kernel loaded from the disk cache in {:.1f} ms", stats.loadMs)
            : fmt::format("JIT compile {:.1f} ms (stored in the disk cache)", stats.compileMs));
  ms = medianMs(5, [&] { out = pipeline(img); });
  stage("run (cached kernel)", ms, "median of 5");
  med::MetaTensor ref;
  double eagerMs = medianMs(5, [&] { ref = chain.eager(img); });
  double diff = (out.data - ref.data).abs().max().item<double>();
  stage("eager ATen reference", eagerMs,
        fmt::format("median of 5; fused is {:.1f}x faster; max |fused - eager| = {:.3g}",
                    eagerMs / ms, diff));

  ms = timeMs([&] { med::io::SaveImage().save(out, output); });
  stage("save (ITK)", ms, output);
  med::MetaTensor back;
  ms = timeMs([&] { back = med::io::EnsureChannelFirst()(med::io::LoadImage()(output)); });
  double roundTrip = (back.data - out.data).abs().max().item<double>();
  double affineDiff = med::rt::maxAbsDiff(back.meta.affine, img.meta.affine);
  stage(
      "reload", ms,
      fmt::format("max |reloaded - result| = {:.3g}, affine diff = {:.3g}", roundTrip, affineDiff));

  double kept = (out.data > 0).to(at::kFloat).mean().item<double>();
  fmt::print("\n  result: {:.1f}% of voxels above threshold, range [{:.3f}, {:.3f}]\n", kept * 100,
             out.data.min().item<double>(), out.data.max().item<double>());
  bool ok = diff <= 1e-6 && roundTrip <= 1e-6 && affineDiff <= 1e-6;
  fmt::print("  {}\n",
             ok ? "OK: compiled result equals the eager reference and survives a save/load"
                : "MISMATCH: see the figures above");
  return ok ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"Medulla: MONAI Core in C++ with a compiler for transform chains"};
  app.require_subcommand(1);
  std::string input, output;
  int threads = 2;
  CLI::App *demoCmd = app.add_subcommand("demo", "load, run a compiled intensity chain, save");
  demoCmd->add_option("--input", input, "image to read (.nii, .nii.gz, .nrrd, .mha, DICOM dir)")
      ->required();
  demoCmd->add_option("--output", output, "where to write the result")->required();
  demoCmd->add_option("--threads", threads, "threads for the kernel launcher")
      ->check(CLI::Range(1, 256));
  auto runMain = add_run_command(app);
  CLI11_PARSE(app, argc, argv);
  if (app.got_subcommand("run"))
    return runMain();
  try {
    return demo(input, output, threads);
  } catch (const med::Error &e) {
    fmt::print(stderr, "med: error: {}\n", e.what());
    return 2;
  }
}
