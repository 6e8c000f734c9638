// Reading and writing NumPy .npy files, the array format of the MONAI reference outputs.
#pragma once

#include <filesystem>

#include <ATen/core/Tensor.h>

namespace med::conformance {

/// Reads a .npy file into a contiguous CPU tensor. Only what the golden folder uses is accepted:
/// format version 1.0, little-endian float32 ('<f4') or float64 ('<f8'), C order. Anything else
/// (another dtype, Fortran order, version 2/3, a truncated or oversized file) throws med::Error
/// naming the file, so a corrupt reference can never pass silently as a different array.
at::Tensor readNpy(const std::filesystem::path &file);

/// Writes a float32 or float64 tensor as .npy v1.0 ('<f4'/'<f8', C order), the layout the golden
/// folder uses, so our outputs can be diffed with MONAI's by the same tools. Goes through a
/// temporary file and a rename: a crash never leaves a half-written array. Throws med::Error for
/// other dtypes or an I/O failure.
void writeNpy(const std::filesystem::path &file, const at::Tensor &t);

} // namespace med::conformance
