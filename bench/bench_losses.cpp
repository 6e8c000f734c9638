// med-bench-losses: DiceLoss(softmax, to_onehot_y) forward + backward on 2x3x128^3 float32, at 1
// and 2 threads: our module (ATen softmax, then the generated Dice kernels), an eager plain-ATen
// formulation as MONAI runs it, and the hand-fused two-pass kernel (raw, and wrapped as an
// autograd Function). Case dice_sigmoid_fwd_bwd: DiceLoss(sigmoid) on a multi-label target, the
// module (sigmoid inside the generated kernels) against the eager formulation. Cases
// focal_loss_fwd_bwd (FocalLoss(use_softmax, to_onehot_y)) and focal_sigmoid_fwd_bwd (FocalLoss on
// the multi-label target): the module (generated focal kernels) against forward_eager, MONAI's
// formulation op by op. Case gwdl_fwd_bwd: GeneralizedWassersteinDiceLoss (default weighting) on
// the generated Wasserstein kernels against MONAI's formulation op by op. Cases bending_fwd_bwd
// and diffusion_fwd_bwd: BendingEnergyLoss and DiffusionLoss (mean) of a 2x3x128^3 displacement
// field on the generated stencil kernels against MONAI's formulation op by op (its energy map
// and the map's mean). Case lncc_fwd_bwd: LocalNormalizedCrossCorrelationLoss (3-D, rectangular
// window of 3, mean) of a 2x1x128^3 pair on the generated stencil kernels against MONAI's
// formulation (separable convolutions, its map and the map's mean). Case ssim_loss_fwd_bwd:
// SSIMLoss (3-D Gaussian window of 7) of the same pair on the generated window passes against
// forward_eager (MONAI's five conv3d with the whole window, autograd). Case gmi_fwd_bwd:
// GlobalMutualInformationLoss (Gaussian windows, 23 bins) of the same pair on the generated
// Parzen kernels against forward_eager (MONAI's (voxels x bins) weights and bmm, autograd);
// gmi_bspline_fwd_bwd the same with b-spline windows (16 bins). Cases bending_none_fwd_bwd and
// lncc_none_fwd_bwd: reduction "none", the map weighted by a fixed random map and summed, the
// module against the ATen map. Case contrastive_fwd_bwd:
// ContrastiveLoss of two 256 x 512 views, the similarity matrix as one matrix product, against
// forward_eager (MONAI's (512, 512, 512) broadcast cosine_similarity). Prints medians and ratios;
// --json FILE writes the rows; --case NAME runs one.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>

#include "bench_common.h"
#include "med/losses/contrastive.h"
#include "med/losses/dice.h"
#include "med/losses/dice_fused.h"
#include "med/losses/focal.h"
#include "med/losses/registration.h"
#include "med/losses/ssim.h"
#include "med/losses/wasserstein.h"

namespace L = med::losses;

namespace {

/// MONAI's DiceLoss forward as its Python runs it: softmax, one_hot by scatter, products and
/// sums over the spatial axes, one tensor operation at a time.
at::Tensor eagerDice(const at::Tensor &x, const at::Tensor &labels) {
  at::Tensor p = at::softmax(x, 1);
  std::vector<int64_t> shape = labels.sizes().vec();
  shape[1] = x.size(1);
  at::Tensor t =
      at::zeros(shape, x.options().requires_grad(false)).scatter_(1, labels.to(at::kLong), 1.0);
  std::vector<int64_t> axes = {2, 3, 4};
  at::Tensor inter = at::sum(t * p, axes);
  at::Tensor denom = at::sum(t, axes) + at::sum(p, axes);
  at::Tensor f = 1.0 - (2.0 * inter + 1e-5) / (denom + 1e-5);
  return at::mean(f);
}

/// MONAI's DiceLoss(sigmoid=True) forward, one tensor operation at a time.
at::Tensor eagerDiceSigmoid(const at::Tensor &x, const at::Tensor &t) {
  at::Tensor p = at::sigmoid(x);
  std::vector<int64_t> axes = {2, 3, 4};
  at::Tensor inter = at::sum(t * p, axes);
  at::Tensor denom = at::sum(t, axes) + at::sum(p, axes);
  return at::mean(1.0 - (2.0 * inter + 1e-5) / (denom + 1e-5));
}

/// MONAI's GeneralizedWassersteinDiceLoss (default weighting) forward as its Python runs it:
/// softmax, the distance matrix's rows gathered per voxel, the distance map, then the weighted
/// true positives and the denominator, one tensor operation at a time.
at::Tensor eagerGwdl(const at::Tensor &x, const at::Tensor &labels, const at::Tensor &m) {
  const int64_t B = x.size(0), C = x.size(1);
  at::Tensor p = at::softmax(x.reshape({B, C, -1}), 1);
  at::Tensor y = labels.reshape({B, -1}).to(at::kLong);
  at::Tensor rows = m.index({y}).permute({0, 2, 1}); // (B, C, N)
  at::Tensor wass = (rows * p).sum(1);
  at::Tensor alpha = at::ones({B, C}, x.options().requires_grad(false));
  alpha.select(1, 0).fill_(0.0);
  at::Tensor av = alpha.gather(1, y);
  at::Tensor tp = (av * (1.0 - wass)).sum(1);
  at::Tensor denom = 2 * tp + wass.sum(1);
  return (1.0 - (2.0 * tp + 1e-5) / (denom + 1e-5)).mean();
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{
      "Losses forward + backward: module (generated kernels) vs eager ATen (vs fused kernel)"};
  std::string json, only;
  int size = 128, reps = 5;
  app.add_option("--json", json, "write the rows as JSON to this file");
  app.add_option("--size", size, "edge of the cubic volume")->check(CLI::Range(8, 512));
  app.add_option("--reps", reps, "timed repetitions per row")->check(CLI::Range(1, 1000));
  app.add_option("--case", only, "run only this case (e.g. bending_fwd_bwd)");
  CLI11_PARSE(app, argc, argv);

  std::vector<int64_t> shape = {2, 3, size, size, size};
  at::manual_seed(0);
  at::Tensor x = at::randn(shape);
  at::Tensor labels = at::randint(0, 3, {2, 1, size, size, size}).to(at::kFloat);
  L::DiceLoss module(L::DiceLossOptions().softmax(true).to_onehot_y(true));
  at::Tensor multi = (at::rand(shape) > 0.7).to(at::kFloat); // three overlapping label maps
  L::DiceLoss sigmoidModule(L::DiceLossOptions().sigmoid(true));
  L::FocalLoss focal(L::FocalLossOptions().use_softmax(true).to_onehot_y(true));
  L::FocalLoss focalSigmoid{L::FocalLossOptions()};
  at::Tensor distances = at::tensor({0.f, 1.f, 1.f, 1.f, 0.f, .5f, 1.f, .5f, 0.f}).view({3, 3});
  L::GeneralizedWassersteinDiceLoss gwdl{L::GeneralizedWassersteinDiceLossOptions(distances)};
  L::BendingEnergyLoss bending, bendingNone(L::BendingEnergyLossOptions().reduction("none"));
  L::DiffusionLoss diffusion;
  L::LocalNormalizedCrossCorrelationLoss lncc,
      lnccNone(L::LocalNormalizedCrossCorrelationLossOptions().reduction("none"));
  // MONAI's LNCC map in ATen (the loss's own "none" runs on the kernels): the window's volume
  // is the sum of its 3-D outer product.
  at::Tensor lnccVolume = lncc->kernel;
  for (int i = 0; i < 2; ++i)
    lnccVolume = at::matmul(lnccVolume.unsqueeze(-1), lncc->kernel.unsqueeze(0));
  const double lnccKvol = lnccVolume.sum().item<double>();
  L::SSIMLoss ssim(L::SSIMLossOptions(3).win_size(7));
  L::GlobalMutualInformationLoss gmi,
      gmiBspline(L::GlobalMutualInformationLossOptions().kernel_type("b-spline").num_bins(16));
  std::vector<int64_t> pairShape = {2, 1, size, size, size};
  at::Tensor fixed = at::rand(pairShape), moving = at::rand(pairShape);
  L::ContrastiveLoss contrastive;
  const std::vector<int64_t> viewShape = {256, 512};
  at::Tensor view1 = at::randn(viewShape), view2 = at::randn(viewShape);
  auto want = [&](const std::string &name) { return only.empty() || only == name; };
  med::bench::Report report("med-bench-losses");
  fmt::print("med-bench-losses: losses fwd+bwd on 2x3x{0}^3 float32, "
             "median of {1}\n",
             size, reps);
  for (int threads : {1, 2}) {
    at::set_num_threads(threads);
    auto fwdBwd = [&](auto &&f) {
      return [&, f] {
        at::Tensor xg = x.detach().requires_grad_(true);
        at::Tensor g = torch::autograd::grad({f(xg)}, {xg})[0];
        (void)g;
      };
    };
    auto pairFwdBwd = [&](auto &&f) { // the gradient by the moving image of a pair's loss
      return [&, f] {
        at::Tensor mg = moving.detach().requires_grad_(true);
        at::Tensor g = torch::autograd::grad({f(mg)}, {mg})[0];
        (void)g;
      };
    };
    if (want("dice_loss_fwd_bwd")) {
      report.add({"dice_loss_fwd_bwd", "module", shape, threads,
                  med::bench::medianMs(
                      fwdBwd([&](const at::Tensor &v) { return module(v, labels); }), reps)});
      report.add({"dice_loss_fwd_bwd", "eager", shape, threads,
                  med::bench::medianMs(
                      fwdBwd([&](const at::Tensor &v) { return eagerDice(v, labels); }), reps)});
      report.add({"dice_loss_fwd_bwd", "fused", shape, threads,
                  med::bench::medianMs([&] { L::dice_softmax_fused(x, labels); }, reps)});
      report.add({"dice_loss_fwd_bwd", "fused_autograd", shape, threads,
                  med::bench::medianMs(fwdBwd([&](const at::Tensor &v) {
                                         return L::dice_softmax_fused_loss(v, labels);
                                       }),
                                       reps)});
    }
    if (want("dice_sigmoid_fwd_bwd")) {
      report.add({"dice_sigmoid_fwd_bwd", "module", shape, threads,
                  med::bench::medianMs(
                      fwdBwd([&](const at::Tensor &v) { return sigmoidModule(v, multi); }), reps)});
      report.add(
          {"dice_sigmoid_fwd_bwd", "eager", shape, threads,
           med::bench::medianMs(
               fwdBwd([&](const at::Tensor &v) { return eagerDiceSigmoid(v, multi); }), reps)});
    }
    if (want("focal_loss_fwd_bwd")) {
      report.add({"focal_loss_fwd_bwd", "module", shape, threads,
                  med::bench::medianMs(
                      fwdBwd([&](const at::Tensor &v) { return focal(v, labels); }), reps)});
      report.add({"focal_loss_fwd_bwd", "eager", shape, threads,
                  med::bench::medianMs(
                      fwdBwd([&](const at::Tensor &v) { return focal->forward_eager(v, labels); }),
                      reps)});
    }
    if (want("focal_sigmoid_fwd_bwd")) {
      report.add({"focal_sigmoid_fwd_bwd", "module", shape, threads,
                  med::bench::medianMs(
                      fwdBwd([&](const at::Tensor &v) { return focalSigmoid(v, multi); }), reps)});
      report.add({"focal_sigmoid_fwd_bwd", "eager", shape, threads,
                  med::bench::medianMs(fwdBwd([&](const at::Tensor &v) {
                                         return focalSigmoid->forward_eager(v, multi);
                                       }),
                                       reps)});
    }
    if (want("gwdl_fwd_bwd")) {
      report.add({"gwdl_fwd_bwd", "module", shape, threads,
                  med::bench::medianMs(fwdBwd([&](const at::Tensor &v) { return gwdl(v, labels); }),
                                       reps)});
      report.add({"gwdl_fwd_bwd", "eager", shape, threads,
                  med::bench::medianMs(
                      fwdBwd([&](const at::Tensor &v) { return eagerGwdl(v, labels, distances); }),
                      reps)});
    }
    if (want("bending_fwd_bwd")) {
      report.add(
          {"bending_fwd_bwd", "module", shape, threads,
           med::bench::medianMs(fwdBwd([&](const at::Tensor &v) { return bending(v); }), reps)});
      report.add({"bending_fwd_bwd", "eager", shape, threads,
                  med::bench::medianMs(fwdBwd([&](const at::Tensor &v) {
                                         return L::detail::ddf_energy_map_eager(v, 2, false).mean();
                                       }),
                                       reps)});
    }
    if (want("bending_none_fwd_bwd")) { // the map, its gradient weighted voxel by voxel
      at::Tensor w = at::rand({shape[0], shape[1], size - 4, size - 4, size - 4});
      report.add(
          {"bending_none_fwd_bwd", "module", shape, threads,
           med::bench::medianMs(
               fwdBwd([&](const at::Tensor &v) { return (bendingNone(v) * w).sum(); }), reps)});
      report.add(
          {"bending_none_fwd_bwd", "eager", shape, threads,
           med::bench::medianMs(fwdBwd([&](const at::Tensor &v) {
                                  return (L::detail::ddf_energy_map_eager(v, 2, false) * w).sum();
                                }),
                                reps)});
    }
    if (want("lncc_none_fwd_bwd")) {
      at::Tensor w = at::rand(pairShape);
      report.add({"lncc_none_fwd_bwd", "module", pairShape, threads,
                  med::bench::medianMs(pairFwdBwd([&](const at::Tensor &v) {
                                         return (lnccNone(v, fixed) * w).sum();
                                       }),
                                       reps)});
      report.add({"lncc_none_fwd_bwd", "eager", pairShape, threads,
                  med::bench::medianMs(pairFwdBwd([&](const at::Tensor &v) {
                                         return (L::detail::lncc_map_eager(
                                                     v, fixed, lncc->kernel, lnccKvol,
                                                     lncc->options.smooth_nr(),
                                                     lncc->options.smooth_dr())
                                                     .neg() *
                                                 w)
                                             .sum();
                                       }),
                                       reps)});
    }
    if (want("lncc_fwd_bwd")) {
      report.add({"lncc_fwd_bwd", "module", pairShape, threads,
                  med::bench::medianMs(
                      pairFwdBwd([&](const at::Tensor &v) { return lncc(v, fixed); }), reps)});
      report.add({"lncc_fwd_bwd", "eager", pairShape, threads,
                  med::bench::medianMs(pairFwdBwd([&](const at::Tensor &v) {
                                         return L::detail::lncc_map_eager(v, fixed, lncc->kernel,
                                                                          lnccKvol,
                                                                          lncc->options.smooth_nr(),
                                                                          lncc->options.smooth_dr())
                                             .mean()
                                             .neg();
                                       }),
                                       reps)});
    }
    if (want("ssim_loss_fwd_bwd")) {
      report.add({"ssim_loss_fwd_bwd", "module", pairShape, threads,
                  med::bench::medianMs(
                      pairFwdBwd([&](const at::Tensor &v) { return ssim(v, fixed); }), reps)});
      report.add({"ssim_loss_fwd_bwd", "eager", pairShape, threads,
                  med::bench::medianMs(pairFwdBwd([&](const at::Tensor &v) {
                                         return ssim->forward_eager(v, fixed);
                                       }),
                                       reps)});
    }
    if (want("gmi_fwd_bwd")) {
      report.add({"gmi_fwd_bwd", "module", pairShape, threads,
                  med::bench::medianMs(
                      pairFwdBwd([&](const at::Tensor &v) { return gmi(v, fixed); }), reps)});
      report.add({"gmi_fwd_bwd", "eager", pairShape, threads,
                  med::bench::medianMs(
                      pairFwdBwd([&](const at::Tensor &v) { return gmi->forward_eager(v, fixed); }),
                      reps)});
    }
    if (want("contrastive_fwd_bwd")) {
      auto viewFwdBwd = [&](auto &&f) { // the gradient by the first view
        return [&, f] {
          at::Tensor vg = view1.detach().requires_grad_(true);
          at::Tensor g = torch::autograd::grad({f(vg)}, {vg})[0];
          (void)g;
        };
      };
      report.add(
          {"contrastive_fwd_bwd", "module", viewShape, threads,
           med::bench::medianMs(
               viewFwdBwd([&](const at::Tensor &v) { return contrastive(v, view2); }), reps)});
      report.add({"contrastive_fwd_bwd", "eager", viewShape, threads,
                  med::bench::medianMs(viewFwdBwd([&](const at::Tensor &v) {
                                         return contrastive->forward_eager(v, view2);
                                       }),
                                       reps)});
    }
    if (want("gmi_bspline_fwd_bwd")) {
      report.add(
          {"gmi_bspline_fwd_bwd", "module", pairShape, threads,
           med::bench::medianMs(
               pairFwdBwd([&](const at::Tensor &v) { return gmiBspline(v, fixed); }), reps)});
      report.add({"gmi_bspline_fwd_bwd", "eager", pairShape, threads,
                  med::bench::medianMs(pairFwdBwd([&](const at::Tensor &v) {
                                         return gmiBspline->forward_eager(v, fixed);
                                       }),
                                       reps)});
    }
    if (want("diffusion_fwd_bwd")) {
      report.add(
          {"diffusion_fwd_bwd", "module", shape, threads,
           med::bench::medianMs(fwdBwd([&](const at::Tensor &v) { return diffusion(v); }), reps)});
      report.add({"diffusion_fwd_bwd", "eager", shape, threads,
                  med::bench::medianMs(fwdBwd([&](const at::Tensor &v) {
                                         return L::detail::ddf_energy_map_eager(v, 1, false).mean();
                                       }),
                                       reps)});
    }
  }
  fmt::print("\nratios (time / time):\n");
  for (int threads : {1, 2}) {
    report.printRatio("dice_loss_fwd_bwd", threads, "eager", "module");
    report.printRatio("dice_loss_fwd_bwd", threads, "module", "fused");
    report.printRatio("dice_loss_fwd_bwd", threads, "eager", "fused");
    report.printRatio("dice_loss_fwd_bwd", threads, "module", "fused_autograd");
    report.printRatio("dice_sigmoid_fwd_bwd", threads, "eager", "module");
    report.printRatio("focal_loss_fwd_bwd", threads, "eager", "module");
    report.printRatio("focal_sigmoid_fwd_bwd", threads, "eager", "module");
    report.printRatio("gwdl_fwd_bwd", threads, "eager", "module");
    report.printRatio("bending_fwd_bwd", threads, "eager", "module");
    report.printRatio("diffusion_fwd_bwd", threads, "eager", "module");
    report.printRatio("lncc_fwd_bwd", threads, "eager", "module");
    report.printRatio("bending_none_fwd_bwd", threads, "eager", "module");
    report.printRatio("lncc_none_fwd_bwd", threads, "eager", "module");
    report.printRatio("ssim_loss_fwd_bwd", threads, "eager", "module");
    report.printRatio("gmi_fwd_bwd", threads, "eager", "module");
    report.printRatio("gmi_bspline_fwd_bwd", threads, "eager", "module");
    report.printRatio("contrastive_fwd_bwd", threads, "eager", "module");
  }
  report.writeJson(json);
  return 0;
}
