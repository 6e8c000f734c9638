// Image metadata carried beside every tensor: geometry, provenance and the trace of applied
// operations. Plain C++ so generated code and AOT libraries can use it without LibTorch or ITK.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace med::rt {

/// Row-major 4x4 float64 voxel-to-world matrix. World is RAS (NIfTI/MONAI convention); voxel
/// index (i, j, k) is MONAI's (x, y, z) spatial order. 2D images use the top-left 3x3 block with
/// the z row/column left as identity.
using Affine = std::array<double, 16>;

/// The identity affine.
Affine identityAffine();
/// a * b.
Affine matmul(const Affine &a, const Affine &b);
/// Largest absolute element-wise difference.
double maxAbsDiff(const Affine &a, const Affine &b);

/// One entry of the applied-operations trace: the transform's name, its numeric parameters and
/// the spatial shape of its input (what an inverse needs to restore).
struct OpRecord {
  std::string name;
  std::vector<std::pair<std::string, double>> params;
  std::vector<int64_t> orig_size;
};

/// Metadata of one image (MONAI's MetaTensor.meta).
struct Meta {
  Affine affine = identityAffine();          ///< current voxel-to-RAS matrix
  Affine original_affine = identityAffine(); ///< as read from the file
  std::vector<int64_t> spatial_shape;        ///< as read from the file
  std::string filename_or_obj;               ///< source path, empty for in-memory data
  /// Where the file kept its channels: nullopt = "no_channel" (MONAI's marker), else an axis
  /// (-1 = last). EnsureChannelFirst reads it.
  std::optional<int> original_channel_dim;
  std::vector<OpRecord> applied_operations;
};

} // namespace med::rt
