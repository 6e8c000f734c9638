/* Microkernels: precompiled routines that generated CPU kernels call for work LLVM's vectoriser
 * does poorly. The CPU pipeline's `med-use-microkernels` pass replaces an op with a call when the
 * op is alone in its kernel (it reads the kernel's input buffer and writes its output buffer), so
 * nothing is lost to fusion. A microkernel computes exactly what the op's generated code would,
 * bit for bit (unittests compare the two), so the choice never changes a result.
 *
 * They live in the runtime (libc only) so that AOT code links them like any runtime function;
 * the JIT resolves them by name (lib/compiler/Microkernels.h).
 */
#ifndef MED_RUNTIME_UKERNELS_H
#define MED_RUNTIME_UKERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* med.resample, mode "bilinear", padding "zeros" (padding = 0) or "border" (padding = 1), on a
 * float32 image, neither bounded nor displaced: the output window of `rows` rows starting at
 * flat output index `window_offset`, row i written at out + i * out_row_stride. `args` holds the
 * op's f64 arguments: `in` (rank values), `out` (rank values) and the rank x (rank + 1) matrix,
 * as med.resample defines them (rank 2 or 3). Pointers are passed as integers, as the generated
 * code holds them.
 *
 * Rows are split per row into the run whose positions have all 2^rank neighbours inside the
 * input (no clamps or flags; AVX-512 where the CPU has it, the two innermost neighbours read as
 * one 64-bit word) and the rest (the general formula, one voxel at a time). */
void med_uk_resample_linear_f32(intptr_t in, intptr_t out, int64_t out_row_stride,
                                int64_t window_offset, int64_t rows, int64_t rank, int64_t padding,
                                intptr_t args);

/* med.gaussian_noise on float32 (RandGaussianNoise): `count` voxels from in to out, the first of
 * global index `index_base`; `apply`, `mean`, `std`, `key0` and `key1` are the op's f64
 * operands. Whole blocks of 16 Philox groups (64 voxels) at a time where the CPU has AVX-512. */
void med_uk_gaussian_noise_f32(intptr_t in, intptr_t out, int64_t count, int64_t index_base,
                               double apply, double mean, double std, double key0, double key1);

/* med.coarse_dropout on float32 (RandCoarseDropout): `count` voxels from in to out, the first of
 * global index `index_base`. `apply`, `low`, `high`, `key0`, `key1` and `boxes` (the op's
 * `count`: how many boxes apply) are the op's f64 operands; `args` points to its `nargs` f64
 * arguments (the spatial shape of `rank` axes, then (start, size) per axis of each box slot);
 * `flags`: 1 = dropout_holes (fill the boxes, else keep only them), 2 = fill_range (a Philox
 * uniform per voxel, else `low`). The chunk is copied or filled whole and then only the boxes'
 * rows are written. For fill_range without dropout_holes the generated code stays better (a
 * Philox block for nearly every voxel), and med-use-microkernels leaves it. */
void med_uk_coarse_dropout_f32(intptr_t in, intptr_t out, int64_t count, int64_t index_base,
                               double apply, double low, double high, double key0, double key1,
                               double boxes, int64_t rank, int64_t nargs, intptr_t args,
                               int64_t flags);

#ifdef __cplusplus
}
#endif

#endif /* MED_RUNTIME_UKERNELS_H */
