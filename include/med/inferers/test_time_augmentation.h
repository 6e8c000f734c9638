// Test-time augmentation (MONAI's TestTimeAugmentation): run a random transform chain several
// times on one input, predict each augmented copy, map every prediction back to the input's grid
// through the inversion records the chain wrote, and summarise them voxel by voxel. The spread
// of the predictions is an estimate of the model's (aleatoric) uncertainty.
#pragma once

#include <cstdint>
#include <string>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>

#include "med/core/dict.h"
#include "med/inferers/sliding_window.h"
#include "med/transforms/compose.h"

namespace med::inferers {

/// Options of TestTimeAugmentation (MONAI's names and defaults where MONAI has them).
struct TestTimeAugmentationOptions {
  /// Augmented copies run through the predictor at once (stacked on the batch axis); copies
  /// must then have the same shape (they do when the chain keeps the spatial size).
  TORCH_ARG(int64_t, batch_size) = 1;
  /// The key of `data` the chain augments and the predictor sees.
  TORCH_ARG(std::string, image_key) = "image";
  /// Seed of the augmentation stream: example i uses the random key (seed, 0, i, 0), so results
  /// do not depend on batch_size.
  TORCH_ARG(uint64_t, seed) = 0;
  /// Applied to each inverted prediction before the statistics (MONAI's post_func), e.g. an
  /// argmax; identity when empty.
  TORCH_ARG(Predictor, post_func) = nullptr;
};

/// The statistics of `num_examples` inverted predictions (each (C, *spatial) on the input grid).
/// As MONAI: `mode` is the most frequent value per voxel of the predictions cast to int64 (the
/// smallest such value on a tie), `mean` and `std` (unbiased) are taken over the examples per
/// voxel, and `vvc`, the volume variation coefficient, is std / mean over all values of all
/// examples.
struct TestTimeAugmentationResult {
  at::Tensor mode;
  at::Tensor mean;
  at::Tensor std;
  double vvc = 0;
};

/// Runs `transform` (a dictionary Compose whose random spatial transforms are invertible) and
/// `inferrer_fn` (batched (B, C, *spatial) -> (B, C', *spatial)) num_examples times.
///
///   namespace T = med::transforms;
///   T::Compose aug({T::RandFlipd({"image"}, T::RandFlipOptions().prob(0.5)),
///                   T::RandRotate90d({"image"}, T::RandRotate90Options().prob(0.5))});
///   TestTimeAugmentation tta(aug, [&](const at::Tensor &x) { return net->forward(x); });
///   auto r = tta({{"image", img}}, 10);  // r.mean, r.std: (C', *spatial) on img's grid
class TestTimeAugmentation {
public:
  TestTimeAugmentation(transforms::Compose transform, Predictor inferrer_fn,
                       TestTimeAugmentationOptions options = {});

  /// The summary of num_examples inverted predictions.
  TestTimeAugmentationResult operator()(const Data &data, int64_t num_examples = 10) const;
  /// MONAI's return_full_data=True: the inverted (and post_func'ed) predictions stacked,
  /// (num_examples, C', *spatial).
  at::Tensor full(const Data &data, int64_t num_examples = 10) const;

private:
  transforms::Compose transform_;
  transforms::CompiledPipeline pipeline_;
  Predictor inferrer_;
  TestTimeAugmentationOptions options_;
};

} // namespace med::inferers
