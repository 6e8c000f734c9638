// Orientation: nibabel's io_orientation, axcodes2ornt and ornt_transform (what MONAI calls), then
// the signed axis permutation they describe.
#include "med/transforms/spatial.h"

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <tuple>

#include "med/core/error.h"

namespace med::transforms {
namespace {

// One row of a nibabel orientation: the world axis a voxel axis goes to, and its direction.
struct Ornt {
  int64_t axis;
  int flip; // +1 or -1
};

// nibabel.orientations.io_orientation on the top-left nsp x nsp block of `a` (MONAI's
// to_affine_nd(nsp, affine)): the polar factor R of the column-normalised matrix, then for each
// voxel axis in turn the world axis with the largest |R|, removing chosen world axes.
std::vector<Ornt> ioOrientation(const Affine &a, int64_t nsp, const std::string &where) {
  at::Tensor rzs = at::empty({nsp, nsp}, at::kDouble);
  auto m = rzs.accessor<double, 2>();
  for (int64_t r = 0; r < nsp; ++r)
    for (int64_t c = 0; c < nsp; ++c)
      m[r][c] = a[r * 4 + c];
  at::Tensor zooms = rzs.pow(2).sum(0).sqrt();
  zooms = at::where(zooms == 0, at::ones_like(zooms), zooms);
  at::Tensor rs = rzs / zooms;
  auto [p, s, qs] = at::linalg_svd(rs, /*full_matrices=*/false);
  double smax = s.max().item<double>();
  double tol = smax * static_cast<double>(nsp) * std::numeric_limits<double>::epsilon();
  at::Tensor keep = (s > tol).nonzero().flatten();
  at::Tensor rmat = at::matmul(p.index_select(1, keep), qs.index_select(0, keep)).contiguous();
  auto r = rmat.accessor<double, 2>();
  std::vector<Ornt> ornt(nsp);
  for (int64_t in = 0; in < nsp; ++in) {
    int64_t best = -1;
    double bestAbs = -1, maxAbs = 0;
    for (int64_t out = 0; out < nsp; ++out) {
      maxAbs = std::max(maxAbs, std::abs(r[out][in]));
      if (std::abs(r[out][in]) > bestAbs) { // first maximum wins, as np.argmax
        bestAbs = std::abs(r[out][in]);
        best = out;
      }
    }
    if (maxAbs <= 1e-8) { // np.allclose(col, 0): nibabel leaves the axis undetermined (nan)
      std::ostringstream os;
      os << "voxel axis " << in << " of the affine has no world direction (the affine is "
         << "singular); cannot determine the orientation";
      throw Error(where, os.str());
    }
    ornt[in] = {best, r[best][in] < 0 ? -1 : 1};
    for (int64_t c = 0; c < nsp; ++c)
      r[best][c] = 0.0;
  }
  return ornt;
}

// The labels' index and direction of one axis code, or {-1, 0} when the code is not a label.
Ornt codeOrnt(char code, const std::vector<std::pair<char, char>> &labels) {
  for (size_t i = 0; i < labels.size(); ++i) {
    if (code == labels[i].first)
      return {static_cast<int64_t>(i), -1};
    if (code == labels[i].second)
      return {static_cast<int64_t>(i), 1};
  }
  return {-1, 0};
}

std::string axcodesOf(const std::vector<Ornt> &ornt,
                      const std::vector<std::pair<char, char>> &labels) {
  std::string s;
  for (const Ornt &o : ornt)
    s += o.axis < static_cast<int64_t>(labels.size())
             ? (o.flip < 0 ? labels[o.axis].first : labels[o.axis].second)
             : '?';
  return s;
}

} // namespace

Orientation::Orientation(Options o) : o_(std::move(o)) {
  const auto &labels = o_.labels();
  std::string seen;
  for (const auto &[lo, hi] : labels) {
    for (char c : std::string{lo, hi}) {
      if (seen.find(c) != std::string::npos)
        throw Error("Orientation.labels", std::string("label '") + c + "' appears twice");
      seen += c;
    }
  }
  if (o_.as_closest_canonical())
    return; // MONAI ignores axcodes then (with a warning)
  if (!o_.axcodes() || o_.axcodes()->empty())
    throw Error("Orientation.axcodes",
                "expected axis codes such as \"RAS\" (or as_closest_canonical=true)");
  std::vector<bool> used(labels.size(), false);
  for (char c : *o_.axcodes()) {
    Ornt r = codeOrnt(c, labels);
    if (r.axis < 0)
      throw Error("Orientation.axcodes", std::string("axis code '") + c + "' in \"" +
                                             *o_.axcodes() + "\" is not one of the labels \"" +
                                             seen + "\"");
    if (used[r.axis])
      throw Error("Orientation.axcodes", "\"" + *o_.axcodes() + "\" names world axis " +
                                             labels[r.axis].first + "/" + labels[r.axis].second +
                                             " twice; expected each axis once, e.g. \"RAS\"");
    used[r.axis] = true;
  }
}

void Orientation::map(const std::vector<int64_t> &shape, const Affine &affine,
                      std::vector<int64_t> &perm, std::vector<bool> &flip,
                      rt::OpRecord &rec) const {
  const int64_t nsp = static_cast<int64_t>(shape.size());
  std::vector<Ornt> src = ioOrientation(affine, nsp, name());
  std::vector<Ornt> spatial; // input axis i -> output axis, flip
  if (o_.as_closest_canonical()) {
    spatial = src;
  } else {
    const std::string &codes = *o_.axcodes();
    if (static_cast<int64_t>(codes.size()) < nsp)
      throw Error("Orientation.axcodes", "\"" + codes + "\" has fewer letters than the image's " +
                                             std::to_string(nsp) + " spatial axes");
    // MONAI uses axcodes[:nsp] (so "RAS" serves 2D images as "RA"); then ornt_transform.
    spatial.assign(nsp, Ornt{-1, 0});
    for (int64_t j = 0; j < nsp; ++j) {
      Ornt dst = codeOrnt(codes[j], o_.labels());
      auto it =
          std::find_if(src.begin(), src.end(), [&](const Ornt &s) { return s.axis == dst.axis; });
      if (it == src.end())
        throw Error("Orientation.axcodes", "\"" + codes.substr(0, nsp) +
                                               "\" asks for a world axis the image (\"" +
                                               axcodesOf(src, o_.labels()) + "\") does not span");
      spatial[it - src.begin()] = Ornt{j, it->flip == dst.flip ? 1 : -1};
    }
  }
  perm.assign(nsp, 0);
  flip.assign(nsp, false);
  rec = rt::OpRecord{"Orientation", {}, shape};
  for (int64_t i = 0; i < nsp; ++i) {
    perm[spatial[i].axis] = i;
    flip[spatial[i].axis] = spatial[i].flip < 0;
    rec.params.emplace_back("ornt" + std::to_string(i) + "_axis",
                            static_cast<double>(spatial[i].axis));
    rec.params.emplace_back("ornt" + std::to_string(i) + "_flip",
                            static_cast<double>(spatial[i].flip));
  }
}

MetaTensor Orientation::eager(const MetaTensor &img) const {
  detail::spatialRank(img.data, name());
  std::vector<int64_t> perm;
  std::vector<bool> flip;
  rt::OpRecord rec;
  map({img.data.sizes().begin() + 1, img.data.sizes().end()}, img.meta.affine, perm, flip, rec);
  MetaTensor out = detail::permuteFlip(img, perm, flip);
  out.meta.applied_operations.push_back(std::move(rec));
  return out;
}

void Orientation::trace(frontend::ChainSpec &chain) const {
  traceResample(*this, chain, "nearest", "zeros", chain.output());
}

ResamplePlan Orientation::plan(const std::vector<int64_t> &shape, const Meta &meta,
                               const double *) const {
  std::vector<int64_t> perm;
  std::vector<bool> flip;
  rt::OpRecord rec;
  map(shape, meta.affine, perm, flip, rec);
  ResamplePlan p = permutePlan(shape, meta, perm, flip);
  p.meta.applied_operations.push_back(std::move(rec));
  return p;
}

} // namespace med::transforms
