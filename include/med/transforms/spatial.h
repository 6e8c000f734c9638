// Spatial transforms that move voxels without interpolation: Flip, Rotate90 and Orientation
// (MONAI names, parameters and defaults). Each updates meta.affine exactly as MONAI does and
// appends an rt::OpRecord that med::transforms::inverse() undoes from the record alone.
// Crops and pads are in croppad.h; semantics and records are described in
// docs/transforms-spatial.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/arg.h>

#include "med/transforms/transform.h"

namespace med::transforms {

/// Options of Flip: the spatial axes to flip (MONAI's `spatial_axis`; 0 = x, negative counts
/// from the last spatial axis). Unset (MONAI's None) flips every spatial axis.
struct FlipOptions {
  FlipOptions() = default;
  FlipOptions(int64_t spatial_axis) : spatial_axis_(std::vector<int64_t>{spatial_axis}) {}
  FlipOptions(std::vector<int64_t> spatial_axis) : spatial_axis_(std::move(spatial_axis)) {}
  TORCH_ARG(std::optional<std::vector<int64_t>>, spatial_axis);
};

/// MONAI Flip: reverses the voxel order along the given spatial axes; the affine is updated so
/// every voxel keeps its world position. Recorded as "Flip" with "axis<d>" = 1 for flipped axes.
///
///   Flip(FlipOptions({0}))       // mirror x
///   Flip(FlipOptions())          // all spatial axes
class Flip : public Transform, public Resampling {
public:
  using Options = FlipOptions;
  explicit Flip(Options o = {});
  std::string name() const override { return "Flip"; }
  MetaTensor eager(const MetaTensor &img) const override;
  /// Compiled as a copy (a nearest med.resample with a +-1 matrix), fused with its neighbours.
  void trace(frontend::ChainSpec &chain) const override;
  ResamplePlan plan(const std::vector<int64_t> &shape, const Meta &meta,
                    const double *params) const override;

private:
  Options o_;
};

/// Options of Rotate90: `k` quarter turns (any integer; taken modulo 4 as MONAI) in the plane
/// of the two `spatial_axes` (default (0, 1)), from the first axis towards the second as
/// numpy.rot90.
struct Rotate90Options {
  Rotate90Options(int64_t k = 1, std::vector<int64_t> spatial_axes = {0, 1})
      : k_(k), spatial_axes_(std::move(spatial_axes)) {}
  TORCH_ARG(int64_t, k);
  TORCH_ARG(std::vector<int64_t>, spatial_axes);
};

/// MONAI Rotate90: np.rot90(img, k, axes=(1 + a0, 1 + a1)) with the affine updated.
/// Recorded as "Rotate90" with "k" (0..3), "axis0", "axis1" (non-negative spatial axes).
///
///   Rotate90(Rotate90Options(1, {0, 2}))
class Rotate90 : public Transform, public Resampling {
public:
  using Options = Rotate90Options;
  explicit Rotate90(Options o = {});
  std::string name() const override { return "Rotate90"; }
  MetaTensor eager(const MetaTensor &img) const override;
  /// Compiled as a copy (a nearest med.resample with a permutation matrix).
  void trace(frontend::ChainSpec &chain) const override;
  ResamplePlan plan(const std::vector<int64_t> &shape, const Meta &meta,
                    const double *params) const override;

private:
  Options o_;
  int64_t k_; // normalised to 0..3
};

/// Options of Orientation: the target `axcodes` ("RAS", "LPS", ...; one letter per spatial
/// axis, letters from `labels`), or `as_closest_canonical` (then axcodes is ignored). `labels`
/// are the (low, high) letters of the three world axes, MONAI's (("L","R"),("P","A"),("I","S")).
struct OrientationOptions {
  /// (low, high) letter pairs of the world axes.
  using Labels = std::vector<std::pair<char, char>>;
  OrientationOptions() = default;
  OrientationOptions(std::string axcodes) : axcodes_(std::move(axcodes)) {}
  OrientationOptions(const char *axcodes) : axcodes_(std::string(axcodes)) {}
  TORCH_ARG(std::optional<std::string>, axcodes);
  TORCH_ARG(bool, as_closest_canonical) = false;
  TORCH_ARG(Labels, labels) = {{'L', 'R'}, {'P', 'A'}, {'I', 'S'}};
};

/// MONAI Orientation: permutes and flips the spatial axes so they point along `axcodes`, read
/// from the current affine exactly as nibabel's io_orientation + ornt_transform (for oblique
/// affines each voxel axis goes to the world axis it is closest to). No interpolation.
/// Recorded as "Orientation" with "ornt<i>_axis" (output axis of input axis i) and
/// "ornt<i>_flip" (+1 / -1).
///
///   Orientation(OrientationOptions("RAS"))
///   Orientationd({"image", "label"}, "RAS")
class Orientation : public Transform, public Resampling {
public:
  using Options = OrientationOptions;
  explicit Orientation(Options o);
  std::string name() const override { return "Orientation"; }
  MetaTensor eager(const MetaTensor &img) const override;
  /// Compiled as a copy (a nearest med.resample with a signed permutation matrix read off the
  /// call's affine), fused with its neighbours.
  void trace(frontend::ChainSpec &chain) const override;
  ResamplePlan plan(const std::vector<int64_t> &shape, const Meta &meta,
                    const double *params) const override;

private:
  /// Output axis j reads input axis perm[j], reversed where flip[j], for an image of spatial
  /// shape `shape` with `affine`; `rec` is the call's record.
  void map(const std::vector<int64_t> &shape, const Affine &affine, std::vector<int64_t> &perm,
           std::vector<bool> &flip, rt::OpRecord &rec) const;
  Options o_;
};

using Flipd = Dictionary<Flip>;
using Rotate90d = Dictionary<Rotate90>;
using Orientationd = Dictionary<Orientation>;

namespace detail {

/// The number of spatial axes of a channel-first image, (C, X, Y) or (C, X, Y, Z); throws
/// med::Error(where, ...) for other ranks. Shared by the transforms of spatial.h and croppad.h.
int64_t spatialRank(const at::Tensor &t, const std::string &where);

/// Moves voxels by a signed axis permutation: output spatial axis j is input axis perm[j],
/// reversed when flip[j]. Updates the affine (affine @ xform, xform mapping output voxel
/// indices to input ones, as MONAI) and records nothing. Flip, Rotate90, Orientation and their
/// inverses are all this one operation.
MetaTensor permuteFlip(const MetaTensor &img, const std::vector<int64_t> &perm,
                       const std::vector<bool> &flip);

/// The signed axis permutation of np.rot90(k, axes=(a, b)) on `nsp` spatial axes (k in 0..3):
/// one quarter turn makes output axis a read input axis b reversed, and output axis b read a.
void rotate90Axes(int64_t nsp, int64_t k, int64_t a, int64_t b, std::vector<int64_t> &perm,
                  std::vector<bool> &flip);

/// A parameter of an inversion record; throws med::Error("inverse", ...) when it is missing.
double recordParam(const rt::OpRecord &r, const std::string &key);

} // namespace detail

} // namespace med::transforms
