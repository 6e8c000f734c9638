// Surface extraction and the per-(item, class) surface distances behind the Hausdorff,
// average-surface-distance and surface-Dice metrics.
#include "med/metrics/surface_distance.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "med/core/error.h"
#include "med/metrics/distance_transform.h"
#include "surface_internal.h"

namespace med::metrics {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

/// mask XOR erosion(mask): a voxel is on the surface when it is set and one of its face
/// neighbours is unset or outside the image.
at::Tensor edgesOf(const at::Tensor &mask) {
  const int64_t dims = mask.dim();
  std::vector<int64_t> pad(2 * dims, 1);
  at::Tensor p = at::constant_pad_nd(mask.to(at::kByte), pad, 0).to(at::kBool);
  auto inner = [&](int64_t axis, int64_t start) {
    at::Tensor t = p;
    for (int64_t a = 0; a < dims; ++a)
      t = t.narrow(a, a == axis ? start : 1, mask.size(a));
    return t;
  };
  at::Tensor eroded = mask.clone();
  for (int64_t a = 0; a < dims; ++a)
    eroded = eroded.logical_and(inner(a, 0)).logical_and(inner(a, 2));
  return mask.logical_xor(eroded);
}

std::string checkDistanceMetric(const std::string &m, const std::string &owner) {
  if (m != "euclidean" && m != "chessboard" && m != "taxicab")
    throw Error(owner + ".distance_metric",
                "expected 'euclidean', 'chessboard' or 'taxicab', got '" + m + "'");
  return m;
}

/// The percentile as torch.quantile / np.percentile (linear) compute it, with its inf/nan rules.
double percentileOf(std::vector<double> v, double q) {
  if (v.empty())
    return kNan;
  double rank = q / 100.0 * double(v.size() - 1);
  size_t lo = size_t(std::floor(rank)), hi = size_t(std::ceil(rank));
  std::nth_element(v.begin(), v.begin() + lo, v.end());
  double a = v[lo];
  double b = hi == lo ? a : *std::min_element(v.begin() + lo + 1, v.end());
  double w = rank - double(lo);
  return w < 0.5 ? a + w * (b - a) : b - (b - a) * (1.0 - w);
}

std::vector<double> toVector(const at::Tensor &t) {
  at::Tensor c = t.to(at::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

/// Largest distance possible inside a grid of `shape` in the given metric.
double diagonal(at::IntArrayRef shape, const std::vector<double> &spacing,
                const std::string &metric) {
  double sq = 0, mx = 0, sum = 0;
  for (size_t a = 0; a < shape.size(); ++a) {
    double steps = double(std::max<int64_t>(shape[a] - 1, 0));
    double len = steps * (metric == "euclidean" && !spacing.empty() ? spacing[a] : 1.0);
    sq += len * len;
    mx = std::max(mx, steps);
    sum += steps;
  }
  return metric == "euclidean" ? std::sqrt(sq) : metric == "chessboard" ? mx : sum;
}

/// Prepared inputs shared by the three compute_* functions.
struct Prepared {
  at::Tensor pred, gt;                      // bool (B, C', *spatial)
  std::vector<std::vector<double>> spacing; // one full per-axis spacing per item
};

Prepared prepare(const at::Tensor &y_pred, const at::Tensor &y, bool include_background,
                 const SpacingPerItem &spacing, const std::string &owner) {
  detail::check_finite_input(y_pred, owner, "y_pred");
  detail::check_finite_input(y, owner, "y");
  detail::check_same_shape(y_pred, y, owner, 3);
  detail::check_binary(y_pred, owner, "y_pred");
  detail::check_binary(y, owner, "y");
  Prepared p;
  p.pred = detail::drop_background(y_pred, include_background).cpu().to(at::kBool);
  p.gt = detail::drop_background(y, include_background).cpu().to(at::kBool);
  const int64_t batch = y_pred.size(0), dims = y_pred.dim() - 2;
  if (!spacing.empty() && spacing.size() != size_t(batch) && spacing.size() != 1)
    throw Error(owner + ".spacing", "expected one spacing per batch item (" +
                                        std::to_string(batch) + "), got " +
                                        std::to_string(spacing.size()));
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<double> s =
        spacing.empty() ? std::vector<double>{} : spacing[spacing.size() == 1 ? 0 : b];
    if (s.empty())
      s.assign(dims, 1.0);
    else if (s.size() == 1)
      s.assign(dims, s[0]);
    if (int64_t(s.size()) != dims)
      throw Error(owner + ".spacing", "expected " + std::to_string(dims) +
                                          " values (one per spatial axis), got " +
                                          std::to_string(s.size()));
    for (double v : s)
      if (!(v > 0) || !std::isfinite(v))
        throw Error(owner + ".spacing", "expected positive finite voxel sizes");
    p.spacing.push_back(s);
  }
  return p;
}

/// Distances of one (item, class) in both directions, plus whether exactly one side is empty.
struct PairDistances {
  std::vector<double> predToGt, gtToPred;
  bool oneEmpty = false;
};

PairDistances pairDistances(const at::Tensor &pred, const at::Tensor &gt, const std::string &metric,
                            const std::vector<double> &spacing, bool both) {
  PairDistances d;
  if (pred.dim() > 3) { // the general path: tensors of any rank
    auto [ep, eg] = get_mask_edges(pred, gt, 1, true);
    d.oneEmpty = ep.any().item<bool>() != eg.any().item<bool>();
    d.predToGt = toVector(get_surface_distance(ep, eg, metric, spacing));
    if (both)
      d.gtToPred = toVector(get_surface_distance(eg, ep, metric, spacing));
    return d;
  }
  detail::CroppedEdges e = detail::cropped_edges(pred, gt);
  d.oneEmpty = (e.predCount > 0) != (e.gtCount > 0);
  d.predToGt = detail::edge_distances(e, true, metric, spacing);
  if (both)
    d.gtToPred = detail::edge_distances(e, false, metric, spacing);
  return d;
}

/// One (item, class) of the surface Dice with MONAI's sub-voxel areas: each surface cell
/// counts with its area, and counts as correct when within `tolerance` of the other surface.
double subvoxelSurfaceDice(const at::Tensor &pred, const at::Tensor &gt, double tolerance,
                           const std::string &metric, const std::vector<double> &spacing,
                           const std::string &owner) {
  detail::SubvoxelEdges s = detail::subvoxel_edges(pred, gt, spacing, owner);
  std::vector<double> predToGt = detail::edge_distances(s.edges, true, metric, spacing);
  std::vector<double> gtToPred = detail::edge_distances(s.edges, false, metric, spacing);
  // When one side has no surface its distance list holds one inf per cell of the other side
  // (get_surface_distance's rule) and its area list is empty: MONAI then counts 0 for it.
  auto within = [&](const std::vector<double> &areas, const std::vector<double> &d) {
    double sum = 0;
    if (areas.size() == d.size())
      for (size_t i = 0; i < d.size(); ++i)
        sum += d[i] <= tolerance ? areas[i] : 0.0;
    return sum;
  };
  double complete = 0;
  for (double a : s.predAreas)
    complete += a;
  for (double a : s.gtAreas)
    complete += a;
  if (complete == 0)
    return kNan;
  return (within(s.predAreas, predToGt) + within(s.gtAreas, gtToPred)) / complete;
}

void checkEmptyPolicy(const EmptyPolicy &e, const std::string &owner) {
  if (e.policy != "monai" && e.policy != "diagonal" && e.policy != "value")
    throw Error(owner + ".empty_policy",
                "expected 'monai', 'diagonal' or 'value', got '" + e.policy + "'");
}

} // namespace

std::pair<at::Tensor, at::Tensor>
get_mask_edges(const at::Tensor &seg_pred, const at::Tensor &seg_gt, double label_idx, bool crop) {
  if (!seg_pred.sizes().equals(seg_gt.sizes()))
    throw Error("get_mask_edges.seg_gt", "expected the shape of seg_pred " +
                                             std::string(c10::str(seg_pred.sizes())) + ", got " +
                                             std::string(c10::str(seg_gt.sizes())));
  if (seg_pred.dim() < 1)
    throw Error("get_mask_edges.seg_pred", "expected at least one spatial dimension");
  at::Tensor p =
      seg_pred.scalar_type() == at::kBool ? seg_pred.cpu() : (seg_pred.cpu() == label_idx);
  at::Tensor g = seg_gt.scalar_type() == at::kBool ? seg_gt.cpu() : (seg_gt.cpu() == label_idx);
  if (crop && p.dim() <= 3) {
    detail::CroppedEdges e = detail::cropped_edges(p, g);
    auto flags = [&](std::vector<uint8_t> &v) {
      return at::from_blob(v.data(), e.shape, at::kByte).to(at::kBool);
    };
    return {flags(e.pred), flags(e.gt)};
  }
  if (crop) {
    at::Tensor any = p.logical_or(g);
    if (!any.any().item<bool>())
      return {at::zeros(p.sizes(), at::kBool), at::zeros(p.sizes(), at::kBool)};
    const int64_t dims = p.dim();
    std::vector<int64_t> pad(2 * dims, 1);
    at::Tensor pp = at::constant_pad_nd(p.to(at::kByte), pad, 0);
    at::Tensor gp = at::constant_pad_nd(g.to(at::kByte), pad, 0);
    at::Tensor idx = at::nonzero(any); // (N, dims), unpadded coordinates
    at::Tensor lo = std::get<0>(idx.min(0)), hi = std::get<0>(idx.max(0));
    for (int64_t a = 0; a < dims; ++a) {
      // Box [lo - 1, hi + 1] in image coordinates = [lo, hi + 2] in padded coordinates.
      int64_t start = lo[a].item<int64_t>(), len = hi[a].item<int64_t>() - start + 3;
      pp = pp.narrow(a, start, len);
      gp = gp.narrow(a, start, len);
    }
    p = pp.to(at::kBool).contiguous();
    g = gp.to(at::kBool).contiguous();
  }
  return {edgesOf(p), edgesOf(g)};
}

at::Tensor get_surface_distance(const at::Tensor &seg_pred, const at::Tensor &seg_gt,
                                const std::string &distance_metric, std::vector<double> spacing) {
  checkDistanceMetric(distance_metric, "get_surface_distance");
  if (!seg_pred.sizes().equals(seg_gt.sizes()))
    throw Error("get_surface_distance.seg_gt", "expected the shape of seg_pred");
  at::Tensor p = seg_pred.cpu().to(at::kBool), g = seg_gt.cpu().to(at::kBool);
  if (!g.any().item<bool>())
    return at::full({p.sum().item<int64_t>()}, kInf, at::kDouble);
  if (!p.any().item<bool>())
    return at::full({g.sum().item<int64_t>()}, kInf, at::kDouble);
  at::Tensor dis = distance_metric == "euclidean"
                       ? distance_transform_edt(g.logical_not(), std::move(spacing))
                       : distance_transform_cdt(g.logical_not(), distance_metric);
  return dis.masked_select(p);
}

at::Tensor detail::hausdorff(const at::Tensor &y_pred, const at::Tensor &y, bool include_background,
                             const std::string &distance_metric, std::optional<double> percentile,
                             bool directed, const SpacingPerItem &spacing, const EmptyPolicy &empty,
                             const std::string &owner) {
  checkDistanceMetric(distance_metric, owner);
  checkEmptyPolicy(empty, owner);
  if (percentile && !(*percentile >= 0 && *percentile <= 100))
    throw Error(owner + ".percentile",
                "expected a value in [0, 100], got " + std::to_string(*percentile));
  Prepared p = prepare(y_pred, y, include_background, spacing, owner);
  const int64_t B = p.pred.size(0), C = p.pred.size(1);
  at::Tensor out = at::empty({B, C}, at::kFloat);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c) {
      PairDistances d =
          pairDistances(p.pred[b][c], p.gt[b][c], distance_metric, p.spacing[b], !directed);
      double v;
      if (d.oneEmpty && empty.policy != "monai") {
        v = empty.policy == "value"
                ? empty.value
                : diagonal(p.pred.sizes().slice(2), p.spacing[b], distance_metric);
      } else {
        auto reduce = [&](const std::vector<double> &x) {
          if (x.empty())
            return kNan;
          return percentile ? percentileOf(x, *percentile) : *std::max_element(x.begin(), x.end());
        };
        v = reduce(d.predToGt);
        if (!directed) {
          double w = reduce(d.gtToPred);
          v = (std::isnan(v) || std::isnan(w)) ? kNan : std::max(v, w);
        }
      }
      out[b][c] = v;
    }
  return out.to(y_pred.device());
}

at::Tensor detail::average_surface_distance(const at::Tensor &y_pred, const at::Tensor &y,
                                            bool include_background, bool symmetric,
                                            const std::string &distance_metric,
                                            const SpacingPerItem &spacing, const EmptyPolicy &empty,
                                            const std::string &owner) {
  checkDistanceMetric(distance_metric, owner);
  checkEmptyPolicy(empty, owner);
  Prepared p = prepare(y_pred, y, include_background, spacing, owner);
  const int64_t B = p.pred.size(0), C = p.pred.size(1);
  at::Tensor out = at::empty({B, C}, at::kFloat);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c) {
      PairDistances d =
          pairDistances(p.pred[b][c], p.gt[b][c], distance_metric, p.spacing[b], symmetric);
      double v;
      if (d.oneEmpty && empty.policy != "monai") {
        v = empty.policy == "value"
                ? empty.value
                : diagonal(p.pred.sizes().slice(2), p.spacing[b], distance_metric);
      } else {
        std::vector<double> all = d.predToGt;
        all.insert(all.end(), d.gtToPred.begin(), d.gtToPred.end());
        double sum = 0;
        for (double x : all)
          sum += x;
        v = all.empty() ? kNan : sum / double(all.size());
      }
      out[b][c] = v;
    }
  return out.to(y_pred.device());
}

at::Tensor detail::surface_dice(const at::Tensor &y_pred, const at::Tensor &y,
                                const std::vector<double> &class_thresholds,
                                bool include_background, const std::string &distance_metric,
                                const SpacingPerItem &spacing, bool use_subvoxels,
                                const std::string &owner) {
  checkDistanceMetric(distance_metric, owner);
  for (double t : class_thresholds)
    if (!std::isfinite(t) || t < 0)
      throw Error(owner + ".class_thresholds", "expected finite values >= 0");
  Prepared p = prepare(y_pred, y, include_background, spacing, owner);
  const int64_t B = p.pred.size(0), C = p.pred.size(1);
  if (int64_t(class_thresholds.size()) != C)
    throw Error(owner + ".class_thresholds", "expected one threshold per kept class (" +
                                                 std::to_string(C) + "), got " +
                                                 std::to_string(class_thresholds.size()));
  at::Tensor out = at::empty({B, C}, at::kFloat);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c) {
      if (use_subvoxels) {
        out[b][c] = subvoxelSurfaceDice(p.pred[b][c], p.gt[b][c], class_thresholds[c],
                                        distance_metric, p.spacing[b], owner);
        continue;
      }
      PairDistances d =
          pairDistances(p.pred[b][c], p.gt[b][c], distance_metric, p.spacing[b], true);
      size_t complete = d.predToGt.size() + d.gtToPred.size(), correct = 0;
      for (double x : d.predToGt)
        correct += x <= class_thresholds[c];
      for (double x : d.gtToPred)
        correct += x <= class_thresholds[c];
      out[b][c] = complete == 0 ? kNan : double(correct) / double(complete);
    }
  return out.to(y_pred.device());
}

at::Tensor compute_hausdorff_distance(const at::Tensor &y_pred, const at::Tensor &y,
                                      bool include_background, const std::string &distance_metric,
                                      std::optional<double> percentile, bool directed,
                                      const SpacingPerItem &spacing, const EmptyPolicy &empty) {
  return detail::hausdorff(y_pred, y, include_background, distance_metric, percentile, directed,
                           spacing, empty, "compute_hausdorff_distance");
}

at::Tensor compute_average_surface_distance(const at::Tensor &y_pred, const at::Tensor &y,
                                            bool include_background, bool symmetric,
                                            const std::string &distance_metric,
                                            const SpacingPerItem &spacing,
                                            const EmptyPolicy &empty) {
  return detail::average_surface_distance(y_pred, y, include_background, symmetric, distance_metric,
                                          spacing, empty, "compute_average_surface_distance");
}

at::Tensor compute_surface_dice(const at::Tensor &y_pred, const at::Tensor &y,
                                const std::vector<double> &class_thresholds,
                                bool include_background, const std::string &distance_metric,
                                const SpacingPerItem &spacing, bool use_subvoxels) {
  return detail::surface_dice(y_pred, y, class_thresholds, include_background, distance_metric,
                              spacing, use_subvoxels, "compute_surface_dice");
}

} // namespace med::metrics
