// Utility and post-processing transforms (MONAI 1.4 names, parameters and defaults): CastToType,
// EnsureType, SqueezeDim, Lambda, Activations, AsDiscrete, KeepLargestConnectedComponent and
// FillHoles. All run their ATen implementation on the host (fusion barriers inside compiled
// pipelines). Deviations from MONAI: docs/transforms-utility.md.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <c10/core/ScalarType.h>
#include <torch/arg.h>

#include "med/transforms/transform.h"

namespace med::transforms {

/// Options of CastToType: the target element type (MONAI default float32).
struct CastToTypeOptions {
  CastToTypeOptions(at::ScalarType dtype = at::kFloat) : dtype_(dtype) {}
  TORCH_ARG(at::ScalarType, dtype);
};

/// MONAI CastToType: the image converted to `dtype` (metadata kept). Compiled as med.cast (so
/// it fuses with its neighbours) when `dtype` is one the kernels store (uint8, int8, int16,
/// int32, int64, float32, float64); other types (bool, half) run as a host step.
///
///   CastToType(CastToTypeOptions(at::kShort))
class CastToType : public Transform {
public:
  using Options = CastToTypeOptions;
  explicit CastToType(Options o = {}) : o_(o) {}
  std::string name() const override { return "CastToType"; }
  MetaTensor eager(const MetaTensor &img) const override;
  bool traceable() const override;
  void trace(frontend::ChainSpec &chain) const override;

private:
  Options o_;
};

/// Options of EnsureType: `data_type` must be "tensor" (the only container here); `dtype`
/// unset keeps the element type.
struct EnsureTypeOptions {
  EnsureTypeOptions() = default;
  TORCH_ARG(std::string, data_type) = "tensor";
  TORCH_ARG(std::optional<at::ScalarType>, dtype);
};

/// MONAI EnsureType(data_type="tensor"): a contiguous tensor, optionally cast. Compiled as
/// med.cast to `dtype` (nothing when the image has that type or `dtype` is unset: kernel results
/// are contiguous) unless `dtype` is a type the kernels do not store, as CastToType.
///
///   EnsureType(EnsureTypeOptions().dtype(at::kFloat))
class EnsureType : public Transform {
public:
  using Options = EnsureTypeOptions;
  explicit EnsureType(Options o = {});
  std::string name() const override { return "EnsureType"; }
  MetaTensor eager(const MetaTensor &img) const override;
  bool traceable() const override;
  void trace(frontend::ChainSpec &chain) const override;

private:
  Options o_;
};

/// Options of SqueezeDim: the axis to remove (default 0; negative counts from the end; unset
/// squeezes every size-1 axis without touching the affine). `update_meta` drops the squeezed
/// spatial axis from the affine as MONAI (the freed z row/column becomes identity).
struct SqueezeDimOptions {
  SqueezeDimOptions(std::optional<int64_t> dim = 0) : dim_(dim) {}
  TORCH_ARG(std::optional<int64_t>, dim);
  TORCH_ARG(bool, update_meta) = true;
};

/// MONAI SqueezeDim: refuses to squeeze an axis whose size is not 1.
///
///   SqueezeDim(SqueezeDimOptions(-1))   // (1, X, Y, 1) -> (1, X, Y)
class SqueezeDim : public HostTransform {
public:
  using Options = SqueezeDimOptions;
  explicit SqueezeDim(Options o = {});
  std::string name() const override { return "SqueezeDim"; }
  MetaTensor eager(const MetaTensor &img) const override;

private:
  Options o_;
};

/// Options of Lambda: the function applied to the whole MetaTensor.
struct LambdaOptions {
  using Func = std::function<MetaTensor(const MetaTensor &)>;
  LambdaOptions(Func func) : func_(std::move(func)) {}
  TORCH_ARG(Func, func);
};

/// MONAI Lambda: calls user code, so inside a compiled pipeline it is always a fusion barrier
/// (the kernels before and after it are separate).
///
///   Lambda(LambdaOptions([](const MetaTensor &m) { return m.withData(m.data * 2); }))
class Lambda : public HostTransform {
public:
  using Options = LambdaOptions;
  explicit Lambda(Options o);
  std::string name() const override { return "Lambda"; }
  MetaTensor eager(const MetaTensor &img) const override;

private:
  Options o_;
};

/// Options of Activations: at most one of `sigmoid` / `softmax` (over `dim`, default 0 = the
/// channels), then `other` if set.
struct ActivationsOptions {
  ActivationsOptions() = default;
  TORCH_ARG(bool, sigmoid) = false;
  TORCH_ARG(bool, softmax) = false;
  TORCH_ARG(std::function<at::Tensor(const at::Tensor &)>, other);
  TORCH_ARG(int64_t, dim) = 0;
};

/// MONAI Activations (integer images become float32 first).
///
///   Activations(ActivationsOptions().softmax(true))
class Activations : public HostTransform {
public:
  using Options = ActivationsOptions;
  explicit Activations(Options o = {});
  std::string name() const override { return "Activations"; }
  MetaTensor eager(const MetaTensor &img) const override;

private:
  Options o_;
};

/// Options of AsDiscrete, applied in MONAI's order: `argmax` over `dim` (with `keepdim`),
/// `to_onehot` classes along `dim`, `threshold` (x >= t), `rounding` ("torchrounding"); the
/// result is cast to `dtype` (MONAI default float32).
struct AsDiscreteOptions {
  AsDiscreteOptions() = default;
  TORCH_ARG(bool, argmax) = false;
  TORCH_ARG(std::optional<int64_t>, to_onehot);
  TORCH_ARG(std::optional<double>, threshold);
  TORCH_ARG(std::optional<std::string>, rounding);
  TORCH_ARG(int64_t, dim) = 0;
  TORCH_ARG(bool, keepdim) = true;
  TORCH_ARG(at::ScalarType, dtype) = at::kFloat;
};

/// MONAI AsDiscrete.
///
///   AsDiscrete(AsDiscreteOptions().argmax(true).to_onehot(3))
class AsDiscrete : public HostTransform {
public:
  using Options = AsDiscreteOptions;
  explicit AsDiscrete(Options o = {});
  std::string name() const override { return "AsDiscrete"; }
  MetaTensor eager(const MetaTensor &img) const override;

private:
  Options o_;
};

/// Options of KeepLargestConnectedComponent: the labels (or one-hot channels) to clean
/// (unset: every non-zero label present); `is_onehot` unset means "more than one channel";
/// `independent` cleans each label on its own, else their union; `connectivity` is the number
/// of axes a neighbour may differ in (1..spatial rank; unset = full: 8 in 2D, 26 in 3D);
/// `num_components` largest components are kept.
struct KeepLargestConnectedComponentOptions {
  KeepLargestConnectedComponentOptions() = default;
  TORCH_ARG(std::optional<std::vector<int64_t>>, applied_labels);
  TORCH_ARG(std::optional<bool>, is_onehot);
  TORCH_ARG(bool, independent) = true;
  TORCH_ARG(std::optional<int64_t>, connectivity);
  TORCH_ARG(int64_t, num_components) = 1;
};

/// MONAI KeepLargestConnectedComponent: voxels of the cleaned labels outside the largest
/// component(s) become 0.
///
///   KeepLargestConnectedComponent(
///       KeepLargestConnectedComponentOptions().applied_labels({{1, 2}}).connectivity(1))
class KeepLargestConnectedComponent : public HostTransform {
public:
  using Options = KeepLargestConnectedComponentOptions;
  explicit KeepLargestConnectedComponent(Options o = {});
  std::string name() const override { return "KeepLargestConnectedComponent"; }
  MetaTensor eager(const MetaTensor &img) const override;

private:
  Options o_;
};

/// Options of FillHoles: labels (or one-hot channels) to fill (unset: every non-zero label
/// present) and the connectivity of the background (as KeepLargestConnectedComponent).
struct FillHolesOptions {
  FillHolesOptions() = default;
  TORCH_ARG(std::optional<std::vector<int64_t>>, applied_labels);
  TORCH_ARG(std::optional<int64_t>, connectivity);
};

/// MONAI FillHoles: voxels not reachable from the image border through voxels of other values
/// (holes) take the label. More than one channel means one-hot.
///
///   FillHoles(FillHolesOptions().applied_labels({{1}}).connectivity(1))
class FillHoles : public HostTransform {
public:
  using Options = FillHolesOptions;
  explicit FillHoles(Options o = {});
  std::string name() const override { return "FillHoles"; }
  MetaTensor eager(const MetaTensor &img) const override;

private:
  Options o_;
};

using CastToTyped = Dictionary<CastToType>;
using EnsureTyped = Dictionary<EnsureType>;
using SqueezeDimd = Dictionary<SqueezeDim>;
using Lambdad = Dictionary<Lambda>;
using Activationsd = Dictionary<Activations>;
using AsDiscreted = Dictionary<AsDiscrete>;
using KeepLargestConnectedComponentd = Dictionary<KeepLargestConnectedComponent>;
using FillHolesd = Dictionary<FillHoles>;

namespace detail {

/// Connected components of a boolean (X, Y[, Z]) mask with `connectivity` (1..rank: how many
/// axes a neighbour may differ in): int32 labels 1..count in raster order of each component's
/// first voxel (as skimage.measure.label), 0 for background.
at::Tensor labelComponents(const at::Tensor &mask, int64_t connectivity, int64_t *count);

/// MONAI's get_largest_connected_component_mask: the `num` largest components of `mask`.
at::Tensor largestComponents(const at::Tensor &mask, int64_t connectivity, int64_t num);

/// The voxels of `mask` connected to the image border through `mask` (MONAI's binary_dilation
/// from border_value=1 with iterations=-1).
at::Tensor borderConnected(const at::Tensor &mask, int64_t connectivity);

} // namespace detail

} // namespace med::transforms
