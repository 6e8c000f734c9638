// The per-block voxel work of the fused DiceLoss (dice_fused.cpp drives it over chunks and
// threads): pass 1 (softmax, block sums of p*t, p and t) and pass 2 (the gradient, in place).
#pragma once

#include <cstdint>
#include <vector>

namespace med::losses::detail {

/// Voxels per block: the driver hands out blocks of at most this many voxels.
constexpr int64_t kBlock = 256;

/// Scratch of the scalar block code, kBlock values each; one per thread.
template <typename T> struct BlockScratch {
  std::vector<T> m = std::vector<T>(kBlock), z = std::vector<T>(kBlock),
                 tl = std::vector<T>(kBlock), dot = std::vector<T>(kBlock);
};

/// Pass 1 over voxels [0, len) of one sample (channel stride n): the softmax over the C channels
/// of x into p, and per channel the block sums of p*t, p and t added to sI / sP / sT (t = one-hot
/// label). Returns the number of labels outside (-1, C) or NaN (truncated as MONAI's .long()).
int64_t forwardB(const float *x, const float *lab, float *p, int64_t n, int64_t C, int64_t len,
                 BlockScratch<float> &s, double *sI, double *sP, double *sT);
int64_t forwardB(const double *x, const double *lab, double *p, int64_t n, int64_t C, int64_t len,
                 BlockScratch<double> &s, double *sI, double *sP, double *sT);

/// Pass 2 over the same block: d loss / d x_c = p_c (g_c - sum_k p_k g_k) with
/// g_c = be[c] + al[c] t_c, in place over p.
void backwardB(const float *lab, float *p, int64_t n, int64_t C, int64_t len, const float *al,
               const float *be, BlockScratch<float> &s);
void backwardB(const double *lab, double *p, int64_t n, int64_t C, int64_t len, const double *al,
               const double *be, BlockScratch<double> &s);

} // namespace med::losses::detail
