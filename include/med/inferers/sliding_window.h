// Sliding-window inference: run a predictor on windows of a large image (a volume that does not
// fit the network or its memory at once) and blend the window predictions back into one output
// of the image's size, as MONAI's sliding_window_inference (1.4.0). See docs/inference.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include "med/inferers/utils.h"

namespace med::inferers {

/// What is run on the windows: a batch of windows (N, C, *roi_size) in, a batch of predictions
/// (N, C_out, *roi_size) out. A network's forward, e.g. `[&](const at::Tensor &x) { return
/// net->forward(x); }`.
using Predictor = std::function<at::Tensor(const at::Tensor &)>;

/// Predicts `inputs` (B, C, *spatial) window by window and blends the results.
///
/// - `roi_size`: window size per spatial axis (entries <= 0: the whole axis; one entry: all axes).
/// - `sw_batch_size`: windows per predictor call (windows of different batch items are mixed).
/// - `overlap` in [0, 1): fraction of the window shared by neighbours (scan interval
///   int(roi * (1 - overlap)), at least 1); the last window of an axis ends at the border.
/// - `mode`: "constant" (plain average) or "gaussian" (centre-weighted, `sigma_scale` per axis
///   or one for all, sigma = sigma_scale * roi).
/// - an image smaller than the window is first padded symmetrically with `padding_mode`
///   ("constant" with `cval`, "reflect", "replicate", "circular") and the result cropped back.
///
/// The output has the predictor's channel count and the input's spatial size; the predictor's
/// output must keep the window's spatial size. Bad arguments throw med::Error naming the
/// parameter.
///
///   at::Tensor out = sliding_window_inference(img, {96, 96, 96}, 4,
///                                             [&](const at::Tensor &x) { return net(x); },
///                                             0.5, "gaussian");
at::Tensor sliding_window_inference(const at::Tensor &inputs, c10::IntArrayRef roi_size,
                                    int64_t sw_batch_size, const Predictor &predictor,
                                    double overlap = 0.25, const std::string &mode = "constant",
                                    const std::vector<double> &sigma_scale = {0.125},
                                    const std::string &padding_mode = "constant",
                                    double cval = 0.0);

} // namespace med::inferers
