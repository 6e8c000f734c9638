// Two-pass fused DiceLoss(softmax, to_onehot_y) forward + backward (see dice_fused.h).
#include "med/losses/dice_fused.h"

#include <atomic>
#include <cmath>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include "dice_fused_blocks.h"
#include "med/core/error.h"
#include "med/runtime/memory.h"

namespace med::losses {

namespace {

using detail::BlockScratch;
using detail::kBlock;

constexpr int64_t kChunk = 16384; // voxels per chunk; fixed so sums do not depend on threads

template <typename T>
void run(const at::Tensor &x, const at::Tensor &lab, bool bg, double nr, double dr,
         at::Tensor &loss, at::Tensor &grad) {
  const int64_t B = x.size(0), C = x.size(1), N = x.numel() / (B * C);
  const int64_t chunks = (N + kChunk - 1) / kChunk;
  const T *xp = x.data_ptr<T>();
  const T *lp = lab.data_ptr<T>();
  // Pass 1 writes the softmax into `grad` (turned into the gradient in place by pass 2) and
  // accumulates partial[(b * chunks + k) * 3C + {0: p*t, 1: p, 2: t} * C + c].
  grad = at::empty_like(x);
  rt::preferHugePages(grad.data_ptr(), grad.nbytes());
  T *gp = grad.data_ptr<T>();
  std::vector<double> partial(size_t(B * chunks * 3 * C), 0.0);
  std::atomic<int64_t> badLabels{0};
  at::parallel_for(0, B * chunks, 1, [&](int64_t lo, int64_t hi) {
    BlockScratch<T> scratch;
    int64_t bad = 0;
    for (int64_t task = lo; task < hi; ++task) {
      int64_t b = task / chunks, k = task % chunks;
      double *acc = &partial[size_t(task * 3 * C)];
      for (int64_t v0 = k * kChunk, e = std::min(N, v0 + kChunk); v0 < e; v0 += kBlock) {
        int64_t len = std::min(e - v0, kBlock), off = b * C * N + v0;
        bad += detail::forwardB(xp + off, lp + b * N + v0, gp + off, N, C, len, scratch, acc,
                                acc + C, acc + 2 * C);
      }
    }
    badLabels += bad;
  });
  if (badLabels > 0)
    throw Error("dice_softmax_fused.labels", "labels must lie in [0, " + std::to_string(C) + ")");
  // Per-(b, c) coefficients: d loss / d p = alpha * t + beta (zero for a dropped background).
  const int64_t c0 = bg ? 0 : 1, K = B * (C - c0);
  std::vector<T> alpha(size_t(B * C), T(0)), beta(size_t(B * C), T(0));
  double total = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = c0; c < C; ++c) {
      double I = 0, P = 0, Tt = 0;
      for (int64_t k = 0; k < chunks; ++k) {
        const double *acc = &partial[size_t((b * chunks + k) * 3 * C)];
        I += acc[c], P += acc[C + c], Tt += acc[2 * C + c];
      }
      double den = P + Tt + dr;
      total += 1.0 - (2 * I + nr) / den;
      alpha[b * C + c] = T(-2.0 / den / double(K));
      beta[b * C + c] = T((2 * I + nr) / (den * den) / double(K));
    }
  loss = at::scalar_tensor(total / double(K), x.options());
  // Pass 2: softmax backward in place over p.
  at::parallel_for(0, B * chunks, 1, [&](int64_t lo, int64_t hi) {
    BlockScratch<T> scratch;
    for (int64_t task = lo; task < hi; ++task) {
      int64_t b = task / chunks, k = task % chunks;
      for (int64_t v0 = k * kChunk, e = std::min(N, v0 + kChunk); v0 < e; v0 += kBlock) {
        int64_t len = std::min(e - v0, kBlock);
        detail::backwardB(lp + b * N + v0, gp + b * C * N + v0, N, C, len, &alpha[b * C],
                          &beta[b * C], scratch);
      }
    }
  });
}

} // namespace

FusedDiceResult dice_softmax_fused(const at::Tensor &logits, const at::Tensor &labels,
                                   bool include_background, double smooth_nr, double smooth_dr) {
  const std::string owner = "dice_softmax_fused";
  if (!logits.defined() || logits.dim() < 3 || logits.size(1) < 2)
    throw Error(owner + ".logits", "expected (B, C >= 2, *spatial) logits");
  if (!labels.defined() || labels.dim() != logits.dim() || labels.size(1) != 1 ||
      labels.size(0) != logits.size(0) || !labels.sizes().slice(2).equals(logits.sizes().slice(2)))
    throw Error(owner + ".labels", "expected a (B, 1, *spatial) label map matching the logits");
  if (logits.scalar_type() != at::kFloat && logits.scalar_type() != at::kDouble)
    throw Error(owner + ".logits", "expected float32 or float64");
  at::Tensor x = logits.detach().contiguous();
  at::Tensor lab = labels.detach().to(x.scalar_type()).contiguous();
  FusedDiceResult r;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "dice_softmax_fused", [&] {
    run<scalar_t>(x, lab, include_background, smooth_nr, smooth_dr, r.loss, r.grad);
  });
  return r;
}

namespace {

/// Autograd wrapper: the gradient is computed in forward and replayed, scaled, in backward.
struct FusedDiceFunction : public torch::autograd::Function<FusedDiceFunction> {
  static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &logits,
                            const at::Tensor &labels, bool bg, double nr, double dr) {
    FusedDiceResult r = dice_softmax_fused(logits, labels, bg, nr, dr);
    ctx->save_for_backward({r.grad});
    return r.loss;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list go) {
    at::Tensor g = ctx->get_saved_variables()[0];
    // The usual case, loss.backward() on this loss itself: the gradient as computed, no copy.
    bool one = go[0].numel() == 1 && go[0].device().is_cpu() && go[0].item<double>() == 1.0;
    return {one ? g : g * go[0], at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

} // namespace

at::Tensor dice_softmax_fused_loss(const at::Tensor &logits, const at::Tensor &labels,
                                   bool include_background, double smooth_nr, double smooth_dr) {
  return FusedDiceFunction::apply(logits, labels, include_background, smooth_nr, smooth_dr);
}

} // namespace med::losses
