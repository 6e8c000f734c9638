// Two-pass fused DiceLoss(softmax, to_onehot_y) forward + backward (see dice_fused.h).
#include "med/losses/dice_fused.h"

#include <atomic>
#include <cmath>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include "med/core/error.h"

namespace med::losses {

namespace {

constexpr int64_t kChunk = 16384; // voxels per chunk; fixed so sums do not depend on threads

constexpr int64_t kBlock = 256; // voxels per inner block (contiguous loops over v)

/// Softmax over the C channels (stride n) for voxels [v0, v1), written to out at the same
/// offsets; max-subtracted as at::softmax, in T precision (expf for float).
template <typename T>
inline void softmaxBlock(const T *x, T *out, int64_t n, int64_t C, int64_t v0, int64_t v1, T *m,
                         T *z) {
  const int64_t len = v1 - v0;
  for (int64_t i = 0; i < len; ++i)
    m[i] = x[v0 + i];
  for (int64_t c = 1; c < C; ++c)
    for (int64_t i = 0; i < len; ++i)
      m[i] = std::max(m[i], x[c * n + v0 + i]);
  for (int64_t i = 0; i < len; ++i)
    z[i] = 0;
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < len; ++i) {
      T e = std::exp(x[c * n + v0 + i] - m[i]);
      out[c * n + v0 + i] = e;
      z[i] += e;
    }
  for (int64_t i = 0; i < len; ++i)
    z[i] = T(1) / z[i];
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < len; ++i)
      out[c * n + v0 + i] *= z[i];
}

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
  T *gp = grad.data_ptr<T>();
  std::vector<double> partial(size_t(B * chunks * 3 * C), 0.0);
  std::atomic<bool> badLabel{false};
  at::parallel_for(0, B * chunks, 1, [&](int64_t lo, int64_t hi) {
    std::vector<T> m(kBlock), z(kBlock);
    std::vector<double> accP(C), accI(C), accT(C);
    for (int64_t task = lo; task < hi; ++task) {
      int64_t b = task / chunks, k = task % chunks;
      const T *xb = xp + b * C * N;
      const T *lb = lp + b * N;
      T *pb = gp + b * C * N;
      std::fill(accP.begin(), accP.end(), 0.0);
      std::fill(accI.begin(), accI.end(), 0.0);
      std::fill(accT.begin(), accT.end(), 0.0);
      for (int64_t v0 = k * kChunk, e = std::min(N, v0 + kChunk); v0 < e; v0 += kBlock) {
        int64_t v1 = std::min(e, v0 + kBlock);
        softmaxBlock(xb, pb, N, C, v0, v1, m.data(), z.data());
        for (int64_t c = 0; c < C; ++c) {
          T s = 0;
          for (int64_t v = v0; v < v1; ++v)
            s += pb[c * N + v];
          accP[c] += double(s);
        }
        for (int64_t v = v0; v < v1; ++v) {
          int64_t l = int64_t(lb[v]);
          if (l < 0 || l >= C) {
            badLabel = true;
            continue;
          }
          accI[l] += double(pb[l * N + v]);
          accT[l] += 1.0;
        }
      }
      double *acc = &partial[size_t(task * 3 * C)];
      for (int64_t c = 0; c < C; ++c)
        acc[c] = accI[c], acc[C + c] = accP[c], acc[2 * C + c] = accT[c];
    }
  });
  if (badLabel)
    throw Error("dice_softmax_fused.labels", "labels must lie in [0, " + std::to_string(C) + ")");
  // Per-(b, c) coefficients: d loss / d p = alpha * t + beta (zero for a dropped background).
  const int64_t c0 = bg ? 0 : 1, K = B * (C - c0);
  std::vector<double> alpha(size_t(B * C), 0.0), beta(size_t(B * C), 0.0);
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
      alpha[b * C + c] = -2.0 / den / double(K);
      beta[b * C + c] = (2 * I + nr) / (den * den) / double(K);
    }
  loss = at::scalar_tensor(total / double(K), x.options());
  // Pass 2: softmax backward, d loss / d x_k = p_k (g_k - sum_c p_c g_c), in place over p.
  at::parallel_for(0, B * chunks, 1, [&](int64_t lo, int64_t hi) {
    std::vector<T> dot(kBlock);
    for (int64_t task = lo; task < hi; ++task) {
      int64_t b = task / chunks, k = task % chunks;
      const T *lb = lp + b * N;
      T *pb = gp + b * C * N;
      const double *al = &alpha[b * C], *be = &beta[b * C];
      for (int64_t v0 = k * kChunk, e = std::min(N, v0 + kChunk); v0 < e; v0 += kBlock) {
        int64_t v1 = std::min(e, v0 + kBlock), len = v1 - v0;
        for (int64_t i = 0; i < len; ++i) {
          int64_t l = int64_t(lb[v0 + i]);
          dot[i] = pb[l * N + v0 + i] * T(al[l]);
        }
        for (int64_t c = 0; c < C; ++c)
          for (int64_t i = 0; i < len; ++i)
            dot[i] += pb[c * N + v0 + i] * T(be[c]);
        for (int64_t c = 0; c < C; ++c) {
          const T a = T(al[c]), bb = T(be[c]);
          for (int64_t i = 0; i < len; ++i) {
            T p = pb[c * N + v0 + i];
            T g = bb + (int64_t(lb[v0 + i]) == c ? a : T(0));
            pb[c * N + v0 + i] = p * (g - dot[i]);
          }
        }
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
    return {g * go[0], at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

} // namespace

at::Tensor dice_softmax_fused_loss(const at::Tensor &logits, const at::Tensor &labels,
                                   bool include_background, double smooth_nr, double smooth_dr) {
  return FusedDiceFunction::apply(logits, labels, include_background, smooth_nr, smooth_dr);
}

} // namespace med::losses
