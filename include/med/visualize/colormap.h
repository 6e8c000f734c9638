// Colormaps for overlays and PNG export: the few matplotlib colormaps MONAI's visualisation uses,
// rebuilt from their published segment tables so results match matplotlib's 256-entry lookup.
#pragma once

#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace med::visualize {

/// The colormap names apply_colormap understands: "gray", "hot", "hsv", "jet" (matplotlib's
/// definitions, N = 256 entries).
const std::vector<std::string> &available_colormaps();

/// Maps `values` through colormap `cmap` as matplotlib's `cm.get_cmap(cmap)(values)` does: float
/// values index the 256-entry table by floor(v * 256) (1.0 -> last entry, below 0 -> first entry,
/// above 1 -> last entry, NaN -> (0, 0, 0, 0)); integer values index the table directly (clipped
/// the same way). Returns float32 RGBA with a trailing axis of 4: shape values.shape + (4,).
/// Throws med::Error("apply_colormap.cmap") for an unknown name.
///
///   at::Tensor rgba = med::visualize::apply_colormap(at::rand({8, 8}), "hsv");   // (8, 8, 4)
at::Tensor apply_colormap(const at::Tensor &values, const std::string &cmap);

/// The 256 x 4 float32 RGBA lookup table of `cmap` (what apply_colormap indexes).
at::Tensor colormap_table(const std::string &cmap);

} // namespace med::visualize
