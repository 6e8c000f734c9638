// The padding engine behind every pad (MONAI's pad_nd: numpy.pad or torch's pad, per mode and
// dtype), the crop-then-pad primitive with its affine update, and the record helpers.
#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "med/core/error.h"
#include "med/transforms/croppad.h"
#include "med/transforms/spatial.h"

namespace med::transforms::detail {
namespace {

const std::map<std::string, std::string> &padModes() {
  static const std::map<std::string, std::string> modes = {
      {"constant", "constant"},   {"edge", "edge"},
      {"replicate", "edge"},      {"reflect", "reflect"},
      {"symmetric", "symmetric"}, {"wrap", "wrap"},
      {"circular", "wrap"},       {"linear_ramp", "linear_ramp"},
      {"maximum", "maximum"},     {"minimum", "minimum"},
      {"mean", "mean"},           {"median", "median"},
      {"empty", "empty"}};
  return modes;
}

// numpy's _set_reflect_both loop, run on indices: where each voxel of the padded axis reads from.
// Pads wider than the axis are filled chunk by chunk from the already padded array, exactly as
// numpy does (which is not always the periodic extension).
std::vector<int64_t> reflectIndex(int64_t n, int64_t lo, int64_t hi, bool includeEdge) {
  std::vector<int64_t> idx(lo + n + hi, 0);
  for (int64_t i = 0; i < n; ++i)
    idx[lo + i] = i;
  if (n == 1) // numpy's legacy behaviour for singleton axes: repeat the edge
    return idx;
  const int64_t total = static_cast<int64_t>(idx.size());
  const int64_t offset = includeEdge ? 1 : 0;
  int64_t left = lo, right = hi;
  while (left > 0 || right > 0) {
    int64_t oldLength = total - right - left - (includeEdge ? 0 : 1);
    if (left > 0) {
      int64_t chunk = std::min(oldLength, left);
      int64_t start = left - offset + chunk; // slice(start, stop, -1)
      std::vector<int64_t> src(chunk);
      for (int64_t t = 0; t < chunk; ++t)
        src[t] = idx[start - t];
      for (int64_t t = 0; t < chunk; ++t)
        idx[left - chunk + t] = src[t];
      left -= chunk;
    }
    if (right > 0) {
      int64_t chunk = std::min(oldLength, right);
      int64_t start = total - right + offset - 2;
      std::vector<int64_t> src(chunk);
      for (int64_t t = 0; t < chunk; ++t)
        src[t] = idx[start - t];
      for (int64_t t = 0; t < chunk; ++t)
        idx[total - right + t] = src[t];
      right -= chunk;
    }
  }
  return idx;
}

// Where each voxel of an axis padded by (lo, hi) reads from, for the index-based modes.
std::vector<int64_t> padIndex(const std::string &mode, int64_t n, int64_t lo, int64_t hi) {
  if (mode == "reflect" || mode == "symmetric")
    return reflectIndex(n, lo, hi, mode == "symmetric");
  std::vector<int64_t> idx(lo + n + hi);
  for (int64_t i = 0; i < static_cast<int64_t>(idx.size()); ++i) {
    int64_t r = i - lo;
    idx[i] = mode == "edge" ? std::clamp<int64_t>(r, 0, n - 1) : ((r % n) + n) % n; // wrap
  }
  return idx;
}

// Casts values computed in float64 back to the image's type (numpy rounds for integer types).
at::Tensor castLike(const at::Tensor &v, const at::Tensor &like) {
  return at::isFloatingType(like.scalar_type()) ? v.to(like.scalar_type())
                                                : at::round(v).to(like.scalar_type());
}

// numpy's stat modes on one axis: the statistic of the (already padded on earlier axes) line.
at::Tensor statPad(const at::Tensor &x, int64_t axis, int64_t lo, int64_t hi,
                   const std::string &mode) {
  at::Tensor d = x.to(at::kDouble), stat;
  if (mode == "maximum")
    stat = std::get<0>(d.max(axis, true));
  else if (mode == "minimum")
    stat = std::get<0>(d.min(axis, true));
  else if (mode == "mean")
    stat = d.mean({axis}, true);
  else // median: numpy averages the two middle values
    stat = at::quantile(d, 0.5, axis, true);
  stat = castLike(stat, x);
  std::vector<int64_t> shapeLo(x.sizes().begin(), x.sizes().end()), shapeHi = shapeLo;
  shapeLo[axis] = lo;
  shapeHi[axis] = hi;
  return at::cat({stat.expand(shapeLo), x, stat.expand(shapeHi)}, axis);
}

// numpy's linear_ramp with end value 0: from 0 at the outer border towards the edge voxel.
at::Tensor rampPad(const at::Tensor &x, int64_t axis, int64_t lo, int64_t hi) {
  const int64_t n = x.size(axis);
  at::Tensor d = x.to(at::kDouble);
  auto ramp = [&](int64_t w, const at::Tensor &edge, bool reversed) {
    // np.linspace(0, edge, w, endpoint=False): k * (edge / w), k = 0..w-1 (reversed after)
    at::Tensor k = at::arange(w, d.options());
    if (reversed)
      k = k.flip(0);
    std::vector<int64_t> shape(x.dim(), 1);
    shape[axis] = w;
    return k.reshape(shape) * (edge / static_cast<double>(w));
  };
  std::vector<at::Tensor> parts;
  if (lo > 0)
    parts.push_back(castLike(ramp(lo, d.narrow(axis, 0, 1), false), x));
  parts.push_back(x);
  if (hi > 0)
    parts.push_back(castLike(ramp(hi, d.narrow(axis, n - 1, 1), true), x));
  return at::cat(parts, axis);
}

} // namespace

std::string checkPadMode(const std::string &mode, const std::string &where) {
  auto it = padModes().find(mode);
  if (it != padModes().end())
    return it->second;
  std::string list;
  for (const auto &[k, v] : padModes())
    list += (list.empty() ? "" : ", ") + k;
  throw Error(where, "unknown pad mode '" + mode + "'; expected one of " + list);
}

void checkPadMethod(const std::string &method, const std::string &where) {
  if (method != "symmetric" && method != "end")
    throw Error(where, "unknown method '" + method + "'; expected \"symmetric\" or \"end\"");
}

at::Tensor padSpatial(const at::Tensor &data, const Widths &pad, const std::string &modeIn,
                      double value, const std::string &where) {
  const std::string mode = checkPadMode(modeIn, where);
  // MONAI pads these dtypes with numpy, every other one with torch (for the modes torch has).
  const auto st = data.scalar_type();
  const bool numpyDtype = st == at::kShort || st == at::kLong || st == at::kBool || st == at::kByte;
  at::Tensor x = data;
  for (size_t d = 0; d < pad.size(); ++d) {
    const int64_t axis = static_cast<int64_t>(d) + 1, n = x.size(axis);
    const int64_t lo = pad[d][0], hi = pad[d][1];
    if (lo == 0 && hi == 0)
      continue;
    if (mode == "constant" || mode == "empty") {
      std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
      shape[axis] = lo + n + hi;
      at::Tensor out;
      try {
        out = at::full(shape, mode == "empty" ? 0.0 : value, x.options());
      } catch (const std::exception &) { // c10 reports overflow as std::runtime_error
        std::ostringstream os;
        os << "the pad value " << value << " does not fit the image's type " << x.scalar_type();
        throw Error(where, os.str());
      }
      out.narrow(axis, lo, n).copy_(x);
      x = out;
      continue;
    }
    if (n == 0)
      throw Error(where, "cannot pad an empty axis with mode '" + modeIn + "'");
    if (mode == "reflect" && !numpyDtype && (lo >= n || hi >= n)) {
      std::ostringstream os;
      os << "reflect padding of (" << lo << ", " << hi << ") voxels needs an axis longer than "
         << std::max(lo, hi) << ", but spatial axis " << d << " has " << n
         << " (torch.nn.functional.pad, which MONAI uses for this dtype, refuses it); use "
            "mode \"symmetric\" or a smaller pad";
      throw Error(where, os.str());
    }
    if (mode == "maximum" || mode == "minimum" || mode == "mean" || mode == "median") {
      x = statPad(x, axis, lo, hi, mode);
    } else if (mode == "linear_ramp") {
      x = rampPad(x, axis, lo, hi);
    } else {
      std::vector<int64_t> idx = padIndex(mode, n, lo, hi);
      x = x.index_select(axis, at::tensor(idx, at::TensorOptions().dtype(at::kLong)));
    }
  }
  return x;
}

MetaTensor cropThenPad(const MetaTensor &img, const Widths &crop, const Widths &pad,
                       const std::string &mode, double value, const std::string &where) {
  const int64_t nsp = img.data.dim() - 1;
  at::Tensor x = img.data;
  Affine cropShift = rt::identityAffine(), padShift = rt::identityAffine();
  for (int64_t d = 0; d < nsp; ++d) {
    const int64_t n = x.size(d + 1);
    x = x.narrow(d + 1, crop[d][0], n - crop[d][0] - crop[d][1]);
    cropShift[d * 4 + 3] = static_cast<double>(crop[d][0]);
    padShift[d * 4 + 3] = -static_cast<double>(pad[d][0]);
  }
  MetaTensor out(padSpatial(x, pad, mode, value, where).contiguous(), img.meta);
  // MONAI: crop_func's translate(start), then pad_func's translate(-before).
  out.meta.affine = rt::matmul(rt::matmul(img.meta.affine, cropShift), padShift);
  return out;
}

void putWidths(rt::OpRecord &r, const std::string &prefix, const Widths &w) {
  for (size_t d = 0; d < w.size(); ++d) {
    r.params.emplace_back(prefix + std::to_string(d) + "_lo", static_cast<double>(w[d][0]));
    r.params.emplace_back(prefix + std::to_string(d) + "_hi", static_cast<double>(w[d][1]));
  }
}

Widths getWidths(const rt::OpRecord &r, const std::string &prefix, size_t rank) {
  Widths w(rank);
  for (size_t d = 0; d < rank; ++d) {
    w[d][0] = static_cast<int64_t>(recordParam(r, prefix + std::to_string(d) + "_lo"));
    w[d][1] = static_cast<int64_t>(recordParam(r, prefix + std::to_string(d) + "_hi"));
  }
  return w;
}

} // namespace med::transforms::detail
