// Comparison of our results with MONAI's, at the tolerances of the golden README.
#pragma once

#include <string>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "med/core/meta_tensor.h"

namespace med::conformance {

struct Case;

/// Elementwise |ours - ref| <= atol_eff + rtol * |ref|, where atol_eff = atol * max(1, max|ref|)
/// when `scaleAtol` (the README's rule, so HU-valued images are not held to 1e-5 absolute).
struct Tolerance {
  double rtol = 1e-4;
  double atol = 1e-5;
  bool scaleAtol = true;
};

/// The README's tolerance for a case: the default above, or 1e-4 absolute for the distance
/// metrics (Hausdorff, average surface distance, surface Dice), which are exact functions of
/// the masks.
Tolerance toleranceFor(const Case &c);

/// The outcome of one comparison: `ok`, the largest absolute error over the finite values, and
/// why it failed (empty when ok).
struct Mismatch {
  bool ok = true;
  double maxAbsErr = 0.0;
  std::string reason;
};

/// Compares an array: exact shape and dtype, identical non-finite positions (nan for nan, inf of
/// the same sign), then the tolerance on the finite values.
Mismatch compareArray(const at::Tensor &ours, const at::Tensor &ref, const Tolerance &tol);

/// Compares two affines to 1e-6 (scaled by the largest reference entry above 1, as translations
/// in mm can be large).
Mismatch compareAffine(const Affine &ours, const Affine &ref);

/// Compares a scalar result (number, string, bool, or nested list/object of them): integers,
/// strings and bools exactly, floats at `tol` with atol scaled by the largest finite magnitude in
/// `ref`, non-finite values exactly.
Mismatch compareScalar(const nlohmann::json &ours, const nlohmann::json &ref, const Tolerance &tol);

} // namespace med::conformance
