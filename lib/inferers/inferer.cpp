// SimpleInferer and SlidingWindowInferer (inferer.h).
#include "med/inferers/inferer.h"

#include "check.h"
#include "med/core/error.h"

namespace med::inferers {

at::Tensor SimpleInferer::operator()(const at::Tensor &inputs, const Predictor &predictor) const {
  if (!predictor)
    throw Error("SimpleInferer.predictor", "expected a callable, got an empty one");
  return predictor(inputs);
}

SlidingWindowInferer::SlidingWindowInferer(Options o) : o_(std::move(o)) {
  if (o_.roi_size().empty())
    throw Error("SlidingWindowInferer.roi_size", "expected one entry or one per spatial axis");
  detail::checkSettings("SlidingWindowInferer", o_.sw_batch_size(), o_.overlap(), o_.mode(),
                        o_.sigma_scale(), o_.padding_mode(), o_.cval());
}

at::Tensor SlidingWindowInferer::operator()(const at::Tensor &inputs,
                                            const Predictor &predictor) const {
  return sliding_window_inference(inputs, o_.roi_size(), o_.sw_batch_size(), predictor,
                                  o_.overlap(), o_.mode(), o_.sigma_scale(), o_.padding_mode(),
                                  o_.cval());
}

} // namespace med::inferers
