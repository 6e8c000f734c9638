// RandFlip, RandAxisFlip, RandRotate90 and RandSpatialCrop: draws in sample(), then the
// deterministic transform (Flip, Rotate90, SpatialCrop, CenterSpatialCrop) with those parameters.
#include "med/transforms/spatial_random.h"

#include <ATen/Functions.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "med/core/error.h"
#include "med/transforms/croppad.h"
#include "med/transforms/spatial.h"

namespace med::transforms {
namespace {

void checkProb(double p, const std::string &where) {
  if (!(p >= 0.0 && p <= 1.0))
    throw Error(where, "expected a probability in [0, 1], got " + std::to_string(p));
}

// An integer uniform in [lo, hi] from a uniform u in [0, 1).
int64_t pick(double u, int64_t lo, int64_t hi) {
  return std::min(hi, lo + static_cast<int64_t>(std::floor(u * static_cast<double>(hi - lo + 1))));
}

std::string str(const std::vector<int64_t> &v) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < v.size(); ++i)
    os << (i ? ", " : "") << v[i];
  os << ")";
  return os.str();
}

void checkSizes(const std::vector<int64_t> &v, bool allowEmpty, const std::string &where) {
  if ((v.empty() && !allowEmpty) || v.size() > 3)
    throw Error(where,
                "expected 1 to 3 values (one per spatial axis), got " + std::to_string(v.size()));
}

} // namespace

// --- RandFlip ------------------------------------------------------------------------------------

RandFlip::RandFlip(Options o) : o_(std::move(o)) {
  checkProb(o_.prob(), "RandFlip.prob");
  try {
    Flip check{flipOptions()}; // validates the axes
  } catch (const Error &e) {
    throw Error("RandFlip.spatial_axis", e.what());
  }
}

FlipOptions RandFlip::flipOptions() const {
  return o_.spatial_axis() ? FlipOptions(*o_.spatial_axis()) : FlipOptions();
}

void RandFlip::sample(rt::Rng &rng, std::vector<double> &params) const {
  params.push_back(rng.uniform() < o_.prob() ? 1.0 : 0.0);
}

MetaTensor RandFlip::eager(const MetaTensor &img, const double *params) const {
  if (params[0] == 0.0) // records an identity Flip, so inverse() pops this call's record
    return Flip(FlipOptions(std::vector<int64_t>{})).eager(img);
  return Flip(flipOptions()).eager(img);
}

void RandFlip::trace(frontend::ChainSpec &chain) const {
  chain.numParams += numParams();
  traceResample(*this, chain, "nearest", "zeros", chain.output());
}

ResamplePlan RandFlip::plan(const std::vector<int64_t> &shape, const Meta &meta,
                            const double *params) const {
  if (params[0] == 0.0)
    return Flip(FlipOptions(std::vector<int64_t>{})).plan(shape, meta, nullptr);
  return Flip(flipOptions()).plan(shape, meta, nullptr);
}

// --- RandAxisFlip --------------------------------------------------------------------------------

RandAxisFlip::RandAxisFlip(Options o) : o_(o) { checkProb(o_.prob(), "RandAxisFlip.prob"); }

void RandAxisFlip::sample(rt::Rng &rng, std::vector<double> &params) const {
  const bool fires = rng.uniform() < o_.prob();
  params.push_back(fires ? 1.0 : 0.0);
  params.push_back(fires ? rng.uniform() : 0.0);
}

void RandAxisFlip::trace(frontend::ChainSpec &chain) const {
  chain.numParams += numParams();
  traceResample(*this, chain, "nearest", "zeros", chain.output());
}

ResamplePlan RandAxisFlip::plan(const std::vector<int64_t> &shape, const Meta &meta,
                                const double *params) const {
  const int64_t nsp = static_cast<int64_t>(shape.size());
  if (params[0] == 0.0)
    return Flip(FlipOptions(std::vector<int64_t>{})).plan(shape, meta, nullptr);
  return Flip(FlipOptions(pick(params[1], 0, nsp - 1))).plan(shape, meta, nullptr);
}

MetaTensor RandAxisFlip::eager(const MetaTensor &img, const double *params) const {
  const int64_t nsp = detail::spatialRank(img.data, name());
  if (params[0] == 0.0)
    return Flip(FlipOptions(std::vector<int64_t>{})).eager(img);
  return Flip(FlipOptions(pick(params[1], 0, nsp - 1))).eager(img);
}

// --- RandRotate90 --------------------------------------------------------------------------------

RandRotate90::RandRotate90(Options o) : o_(std::move(o)) {
  checkProb(o_.prob(), "RandRotate90.prob");
  if (o_.max_k() < 1)
    throw Error("RandRotate90.max_k", "expected at least 1, got " + std::to_string(o_.max_k()));
  try {
    Rotate90 check{Rotate90Options(1, o_.spatial_axes())}; // validates the axes
  } catch (const Error &e) {
    throw Error("RandRotate90.spatial_axes", e.what());
  }
}

void RandRotate90::sample(rt::Rng &rng, std::vector<double> &params) const {
  const bool fires = rng.uniform() < o_.prob();
  params.push_back(fires ? 1.0 : 0.0);
  params.push_back(fires ? static_cast<double>(pick(rng.uniform(), 1, o_.max_k())) : 0.0);
}

void RandRotate90::trace(frontend::ChainSpec &chain) const {
  chain.numParams += numParams();
  traceResample(*this, chain, "nearest", "zeros", chain.output());
}

ResamplePlan RandRotate90::plan(const std::vector<int64_t> &shape, const Meta &meta,
                                const double *params) const {
  const int64_t k = params[0] == 0.0 ? 0 : static_cast<int64_t>(params[1]);
  return Rotate90(Rotate90Options(k, o_.spatial_axes())).plan(shape, meta, nullptr);
}

MetaTensor RandRotate90::eager(const MetaTensor &img, const double *params) const {
  const int64_t k = params[0] == 0.0 ? 0 : static_cast<int64_t>(params[1]);
  return Rotate90(Rotate90Options(k, o_.spatial_axes())).eager(img);
}

// --- RandSpatialCrop -----------------------------------------------------------------------------

RandSpatialCrop::RandSpatialCrop(Options o) : o_(std::move(o)) {
  checkSizes(o_.roi_size(), false, "RandSpatialCrop.roi_size");
  checkSizes(o_.max_roi_size(), true, "RandSpatialCrop.max_roi_size");
  const auto &lo = o_.roi_size(), &hi = o_.max_roi_size();
  if (o_.random_size() && !hi.empty()) {
    if (lo.size() != hi.size() && lo.size() != 1 && hi.size() != 1)
      throw Error("RandSpatialCrop.max_roi_size",
                  "has " + std::to_string(hi.size()) + " values but roi_size has " +
                      std::to_string(lo.size()) + "; expected the same number (or one)");
    for (size_t d = 0; d < std::max(lo.size(), hi.size()); ++d) {
      int64_t a = lo.size() == 1 ? lo[0] : lo[d], b = hi.size() == 1 ? hi[0] : hi[d];
      if (a > 0 && b > 0 && a > b)
        throw Error("RandSpatialCrop.max_roi_size",
                    "min ROI size " + str(lo) + " is larger than max ROI size " + str(hi));
    }
  }
}

void RandSpatialCrop::sample(rt::Rng &rng, std::vector<double> &params) const {
  params.push_back(1.0);
  for (int i = 0; i < 6; ++i)
    params.push_back(rng.uniform());
}

std::unique_ptr<CropPadTransform> RandSpatialCrop::cropFor(const std::vector<int64_t> &shape,
                                                           const double *params) const {
  const int64_t nsp = static_cast<int64_t>(shape.size());
  std::vector<int64_t> size =
      detail::fallBackTuple(o_.roi_size(), shape, "RandSpatialCrop.roi_size");
  if (o_.random_size()) {
    std::vector<int64_t> maxs =
        o_.max_roi_size().empty()
            ? shape
            : detail::fallBackTuple(o_.max_roi_size(), shape, "RandSpatialCrop.max_roi_size");
    for (int64_t d = 0; d < nsp; ++d)
      if (size[d] > maxs[d])
        throw Error("RandSpatialCrop.max_roi_size",
                    "min ROI size " + str(size) + " is larger than max ROI size " + str(maxs));
    for (int64_t d = 0; d < nsp; ++d)
      size[d] = pick(params[1 + d], size[d], maxs[d]);
  }
  if (!o_.random_center())
    return std::make_unique<CenterSpatialCrop>(CenterSpatialCropOptions(size));
  // MONAI's get_valid_patch_size + get_random_patch: start uniform in [0, shape - valid].
  std::vector<int64_t> start(nsp), end(nsp);
  for (int64_t d = 0; d < nsp; ++d) {
    const int64_t valid = std::min(size[d], shape[d]);
    start[d] = pick(params[4 + d], 0, shape[d] - valid);
    end[d] = start[d] + valid;
  }
  return std::make_unique<SpatialCrop>(SpatialCropOptions().roi_start(start).roi_end(end));
}

MetaTensor RandSpatialCrop::eager(const MetaTensor &img, const double *params) const {
  detail::spatialRank(img.data, name());
  std::vector<int64_t> shape(img.data.sizes().begin() + 1, img.data.sizes().end());
  return cropFor(shape, params)->eager(img);
}

void RandSpatialCrop::trace(frontend::ChainSpec &chain) const {
  chain.numParams += numParams(); // the draws come first in the call's parameters
  traceResample(*this, chain, "nearest", "zeros", chain.output());
}

ResamplePlan RandSpatialCrop::plan(const std::vector<int64_t> &shape, const Meta &meta,
                                   const double *params) const {
  return cropFor(shape, params)->plan(shape, meta, nullptr);
}

} // namespace med::transforms
