// Composing runs of copies into one resample (see compose_copies.h).
#include "compose_copies.h"

#include <algorithm>

#include "med/transforms/croppad.h"
#include "med/transforms/spatial.h"
#include "med/transforms/spatial_random.h"

namespace med::transforms::detail {

bool copiesInside(const Transform *t) {
  return dynamic_cast<const Flip *>(t) || dynamic_cast<const Rotate90 *>(t) ||
         dynamic_cast<const Orientation *>(t) || dynamic_cast<const RandFlip *>(t) ||
         dynamic_cast<const RandAxisFlip *>(t) || dynamic_cast<const RandRotate90 *>(t) ||
         dynamic_cast<const SpatialCrop *>(t) || dynamic_cast<const CenterSpatialCrop *>(t) ||
         dynamic_cast<const RandSpatialCrop *>(t);
}

std::vector<bool> composedCopies(const std::vector<const Transform *> &ts,
                                 const frontend::ChainSpec &whole,
                                 const std::vector<size_t> &first) {
  std::vector<bool> composed(ts.size(), false);
  bool open = false; // the last resample was a copy, and nothing since stops a join
  for (size_t t = 0; t < ts.size(); ++t) {
    bool resamples = false, plain = true;
    for (size_t k = first[t]; k < first[t + 1]; ++k) {
      const frontend::OpSpec &op = whole.ops[k];
      resamples = resamples || op.resamples;
      plain = plain && op.elementwise &&
              std::find(op.operands.begin(), op.operands.end(), frontend::OpSpec::kIndexBase) ==
                  op.operands.end();
    }
    if (!resamples) {
      open = open && plain;
      continue;
    }
    const bool copy = copiesInside(ts[t]);
    composed[t] = copy && open;
    open = copy;
  }
  return composed;
}

void composeInto(std::vector<double> &params, size_t at, const ResamplePlan &plan) {
  const size_t n = plan.shape.size(), cols = n + 1;
  double *out = params.data() + at + n, *m1 = out + n;
  std::vector<double> m(n * cols);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < cols; ++j) {
      double v = j == n ? m1[i * cols + n] : 0.0;
      for (size_t k = 0; k < n; ++k)
        v += m1[i * cols + k] * plan.matrix[k * cols + j];
      m[i * cols + j] = v;
    }
  for (size_t d = 0; d < n; ++d)
    out[d] = static_cast<double>(plan.shape[d]);
  std::copy(m.begin(), m.end(), m1);
}

} // namespace med::transforms::detail
