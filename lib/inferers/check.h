// Argument checks shared by sliding_window_inference and SlidingWindowInferer, so both report
// the same messages under their own names.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace med::inferers::detail {

/// Throws med::Error("<where>.<parameter>", ...) for sw_batch_size < 1, overlap outside [0, 1),
/// an unknown blend or padding mode, or a non-positive / non-finite sigma_scale.
void checkSettings(const std::string &where, int64_t sw_batch_size, double overlap,
                   const std::string &mode, const std::vector<double> &sigma_scale,
                   const std::string &padding_mode, double cval);

/// Throws med::Error("<where>.overlap", ...) unless 0 <= overlap < 1.
void checkOverlap(const std::string &where, double overlap);

} // namespace med::inferers::detail
