// med-bench-metrics: Medulla's metrics vs an eager ATen formulation of the same computation as
// MONAI runs it. hd95 / surface_dice: one class on a 128^3 blob vs a perturbed blob; eager =
// erosion by a cross convolution, then brute-force nearest surface points with at::cdist in
// chunks (no distance transform). dice_confusion: DiceMetric + ConfusionMatrixMetric on
// 4x3x128^3 one-hot maps; eager = MONAI's per-(item, class) masked sums. ssim3d: SSIMMetric
// (Gaussian 7^3 window) on a 1x1x128^3 image pair; eager = MONAI's five grouped convolutions with
// the whole 3-D window.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "bench_common.h"
#include "med/metrics/confusion_matrix.h"
#include "med/metrics/meandice.h"
#include "med/metrics/regression.h"
#include "med/metrics/surface_distance.h"

namespace M = med::metrics;

namespace {

/// A ball of radius r at the centre; with `bumps`, its radius varies with the direction.
at::Tensor blob(int64_t n, double r, bool bumps) {
  at::Tensor ax = at::arange(n, at::kFloat) - (n - 1) / 2.0;
  at::Tensor x = ax.view({n, 1, 1}), y = ax.view({1, n, 1}), z = ax.view({1, 1, n});
  at::Tensor d = (x * x + y * y + z * z).sqrt();
  at::Tensor rad = at::full({}, r);
  if (bumps)
    rad = r + 3.0 * at::sin(x / 7.0) * at::cos(y / 5.0) + 2.0 * at::sin(z / 9.0);
  return (d <= rad).to(at::kFloat).view({1, 1, n, n, n});
}

/// Surface points (N, 3) of a spatial mask: mask minus its erosion by the 6-connected cross,
/// computed with a convolution over a zero-padded copy.
at::Tensor eagerSurfacePoints(const at::Tensor &mask) {
  at::Tensor k = at::zeros({1, 1, 3, 3, 3});
  k[0][0][1][1][1] = 1, k[0][0][0][1][1] = 1, k[0][0][2][1][1] = 1, k[0][0][1][0][1] = 1,
  k[0][0][1][2][1] = 1, k[0][0][1][1][0] = 1, k[0][0][1][1][2] = 1;
  at::Tensor m = mask.view({1, 1, mask.size(-3), mask.size(-2), mask.size(-1)});
  at::Tensor count = at::conv3d(m, k, {}, 1, 1);
  at::Tensor edge = (m > 0).logical_and(count < 6.5);
  return at::nonzero(edge.view({mask.size(-3), mask.size(-2), mask.size(-1)})).to(at::kFloat);
}

/// Nearest-point distances from each row of a to the rows of b, by chunks of cdist.
at::Tensor nearest(const at::Tensor &a, const at::Tensor &b) {
  std::vector<at::Tensor> parts;
  for (int64_t s = 0; s < a.size(0); s += 2048)
    parts.push_back(std::get<0>(at::cdist(a.slice(0, s, s + 2048), b).min(1)));
  return at::cat(parts);
}

std::pair<at::Tensor, at::Tensor> eagerDistances(const at::Tensor &pred, const at::Tensor &gt) {
  at::Tensor sp = eagerSurfacePoints(pred), sg = eagerSurfacePoints(gt);
  return {nearest(sp, sg), nearest(sg, sp)};
}

double eagerHd95(const at::Tensor &pred, const at::Tensor &gt) {
  auto [a, b] = eagerDistances(pred, gt);
  return std::max(at::quantile(a.to(at::kDouble), 0.95).item<double>(),
                  at::quantile(b.to(at::kDouble), 0.95).item<double>());
}

double eagerSurfaceDice(const at::Tensor &pred, const at::Tensor &gt, double tol) {
  auto [a, b] = eagerDistances(pred, gt);
  return ((a <= tol).sum() + (b <= tol).sum()).item<double>() / double(a.numel() + b.numel());
}

/// MONAI's Dice and confusion counts, one (item, class) at a time with masked sums.
void eagerDiceConfusion(const at::Tensor &p, const at::Tensor &y) {
  for (int64_t b = 0; b < p.size(0); ++b)
    for (int64_t c = 0; c < p.size(1); ++c) {
      at::Tensor pb = p[b][c].to(at::kBool), yb = y[b][c];
      at::Tensor yo = yb.sum();
      at::Tensor dice = 2.0 * at::masked_select(yb, pb).sum() / (yo + pb.sum());
      at::Tensor s = p[b][c] + yb;
      at::Tensor tp = (s == 2).sum(), tn = (s == 0).sum();
      (void)dice, (void)tp, (void)tn;
    }
}

/// MONAI's SSIM: the 3-D Gaussian window (float32 outer product of the 1-D ones) and five
/// conv3d calls, then the formula; the mean of the map per item.
at::Tensor eagerSsim(const at::Tensor &x, const at::Tensor &y, int64_t k, double sigma) {
  at::Tensor r = at::arange((1.0 - double(k)) / 2.0, (1.0 + double(k)) / 2.0, 1.0, at::kFloat);
  at::Tensor g = at::exp(-(r / sigma).square() / 2.0);
  g = g / g.sum();
  at::Tensor w = (g.view({k, 1, 1}) * g.view({1, k, 1}) * g.view({1, 1, k})).view({1, 1, k, k, k});
  auto f = [&](const at::Tensor &t) { return at::conv3d(t, w); };
  at::Tensor mx = f(x), my = f(y), sx = f(x * x) - mx * mx, sy = f(y * y) - my * my;
  at::Tensor sxy = f(x * y) - mx * my;
  const double c1 = 1e-4, c2 = 9e-4;
  at::Tensor cs = (2 * sxy + c2) / (sx + sy + c2);
  return ((2 * mx * my + c1) / (mx * mx + my * my + c1) * cs).flatten(1).mean(1);
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"Metrics: Medulla vs eager ATen"};
  std::string json;
  int size = 128, reps = 5;
  app.add_option("--json", json, "write the rows as JSON to this file");
  app.add_option("--size", size, "edge of the cubic volume")->check(CLI::Range(16, 512));
  app.add_option("--reps", reps, "timed repetitions per row")->check(CLI::Range(1, 1000));
  CLI11_PARSE(app, argc, argv);

  med::bench::Report report("med-bench-metrics");
  const int64_t n = size;
  at::Tensor gt = blob(n, n * 0.3, false), pred = blob(n, n * 0.3, true);
  std::vector<int64_t> shape = {1, 1, n, n, n};
  at::manual_seed(0);
  at::Tensor labels = at::randint(3, {4, n, n, n}, at::kLong);
  at::Tensor noisy =
      at::where(at::rand({4, n, n, n}) < 0.1, at::randint(3, {4, n, n, n}, at::kLong), labels);
  at::Tensor y = at::one_hot(labels, 3).movedim(-1, 1).to(at::kFloat).contiguous();
  at::Tensor p = at::one_hot(noisy, 3).movedim(-1, 1).to(at::kFloat).contiguous();
  std::vector<int64_t> dcShape = {4, 3, n, n, n};

  at::Tensor img = at::rand({1, 1, n, n, n});
  at::Tensor img2 = (img + 0.2 * at::rand({1, 1, n, n, n})).clamp(0, 1);
  std::vector<int64_t> ssimShape = {1, 1, n, n, n};
  M::SSIMMetric ssim(M::SSIMMetricOptions(3).win_size({7}));

  // Same results first: the eager formulation checks Medulla's value on this input.
  M::HausdorffDistanceMetric hd95(
      M::HausdorffDistanceMetricOptions().percentile(95).include_background(true));
  M::SurfaceDiceMetric nsd(M::SurfaceDiceMetricOptions({2.0}).include_background(true));
  fmt::print("hd95 medulla {:.4f} eager {:.4f}; surface_dice medulla {:.4f} eager {:.4f}\n",
             hd95(pred, gt).item<double>(), eagerHd95(pred[0][0], gt[0][0]),
             nsd(pred, gt).item<double>(), eagerSurfaceDice(pred[0][0], gt[0][0], 2.0));
  fmt::print("ssim3d medulla {:.6f} eager {:.6f}\n", ssim(img, img2).item<double>(),
             eagerSsim(img, img2, 7, 1.5).item<double>());

  for (int threads : {1, 2}) {
    at::set_num_threads(threads);
    report.add(
        {"hd95", "medulla", shape, threads,
         med::bench::medianMs(
             [&] { M::compute_hausdorff_distance(pred, gt, true, "euclidean", 95.0); }, reps)});
    report.add({"hd95", "eager", shape, threads,
                med::bench::medianMs([&] { eagerHd95(pred[0][0], gt[0][0]); }, reps)});
    report.add(
        {"surface_dice", "medulla", shape, threads,
         med::bench::medianMs([&] { M::compute_surface_dice(pred, gt, {2.0}, true); }, reps)});
    report.add({"surface_dice", "eager", shape, threads,
                med::bench::medianMs([&] { eagerSurfaceDice(pred[0][0], gt[0][0], 2.0); }, reps)});
    // MONAI's use_subvoxels: surface cells of 2x2x2 voxels weighted by marching-cubes area.
    report.add({"surface_dice", "subvoxels", shape, threads,
                med::bench::medianMs(
                    [&] { M::compute_surface_dice(pred, gt, {2.0}, true, "euclidean", {}, true); },
                    reps)});
    report.add({"dice_confusion", "medulla", dcShape, threads,
                med::bench::medianMs(
                    [&] {
                      M::compute_dice(p, y);
                      M::get_confusion_matrix(p, y);
                    },
                    reps)});
    report.add({"dice_confusion", "eager", dcShape, threads,
                med::bench::medianMs([&] { eagerDiceConfusion(p, y); }, reps)});
    report.add({"ssim3d", "medulla", ssimShape, threads,
                med::bench::medianMs([&] { ssim(img, img2); }, reps)});
    report.add({"ssim3d", "eager", ssimShape, threads,
                med::bench::medianMs([&] { eagerSsim(img, img2, 7, 1.5); }, reps)});
  }
  for (const std::string name : {"hd95", "surface_dice", "dice_confusion", "ssim3d"})
    for (int threads : {1, 2})
      report.printRatio(name, threads, "eager", "medulla");
  if (!json.empty())
    report.writeJson(json);
  return 0;
}
