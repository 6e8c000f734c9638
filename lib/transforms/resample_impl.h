// Private helpers shared by resample*.cpp: affine conversions, mode checks and record encoding.
#pragma once

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <optional>
#include <string>
#include <vector>

#include "med/core/error.h"
#include "med/core/meta_tensor.h"
#include "med/transforms/resample.h"

namespace med::transforms::rs {

std::vector<int64_t> spatialShape(const at::Tensor &t);
/// MONAI's to_affine_nd(nsp, affine): the top-left nsp x nsp block and the translation, float64.
at::Tensor affineNd(const rt::Affine &a, int64_t nsp);
/// The inverse of affineNd: a 4x4 with identity outside the nsp block.
rt::Affine embed(const at::Tensor &m);
/// affine @ embed(xform), the MONAI meta update for a voxel transform xform.
rt::Affine compose(const rt::Affine &a, const at::Tensor &xform);
/// MONAI's scale_affine(spatial_size, new_spatial_size, centered=True), float64.
at::Tensor scaleAffine(const std::vector<int64_t> &in, const std::vector<int64_t> &out);

/// MONAI's compute_shape_offset: the output size; sets outAff's translation to the offset.
std::vector<int64_t> shapeOffset(const std::vector<int64_t> &shape, const at::Tensor &inAff,
                                 at::Tensor &outAff, bool scaleExtent);

/// Grid-sample modes: returns the code stored in records (nearest 0, bilinear 1, bicubic 2;
/// zeros 0, border 1, reflection 2) or throws med::Error(where). With `splines`, also MONAI's
/// integer modes "0" to "3" (codes 3 to 6) and, for padding, ndimage's modes (codes 3 to 10,
/// kGridPaddings): Affine, RandAffine and the elastic transforms take those.
int64_t gridMode(const std::string &mode, const std::string &where, bool splines = false);
int64_t gridPadding(const std::string &padding, const std::string &where, bool splines = false);
/// MONAI's integer modes ("0" to "3"): the spline order, or -1 for any other mode.
int64_t splineOrder(const std::string &mode);
/// scipy.ndimage.map_coordinates(img[c], coords, order, padding, cval=0, prefilter=True) for
/// each channel c of img (C, in...) at the voxel coordinates coords (n, out...; coords[d] along
/// input axis d), as float32 (C, out...): what MONAI's Resample computes for an integer mode.
/// `padding` is an ndimage mode or a grid_sample name (zeros -> constant, border -> nearest,
/// reflection -> reflect, as MONAI maps them). resample_spline.cpp.
at::Tensor splineSample(const at::Tensor &img, const at::Tensor &coords, int64_t order,
                        const std::string &padding, const std::string &where);
/// The spline sampling of Affine and the elastic transforms: MONAI's Resample turns centred
/// voxel coordinates `centred` (n, out..., float32) into voxel coordinates in float32, c + (d -
/// 1) / 2 (with align_corners (d - 1) / d * c + (d - 1) / 2), d = max(size, 2), then samples.
at::Tensor splineResample(const at::Tensor &img, const at::Tensor &centred, int64_t order,
                          const std::string &padding, bool alignCorners, const std::string &where);
/// at::grid_sampler of `img` (1, C, sp...) at `grid` for the named `mode` and `padding`; a
/// bicubic 3-D call, which grid_sample lacks, is a med::Error naming `where`.mode.
at::Tensor gridSample(const at::Tensor &img, const at::Tensor &grid, const std::string &mode,
                      const std::string &padding, bool alignCorners, const std::string &where);
extern const char *const kGridModes[7];
extern const char *const kGridPaddings[11];
/// Interpolate modes: index into kInterpModes or throws med::Error(where).
int64_t interpMode(const std::string &mode, const std::string &where);
extern const char *const kInterpModes[7];

/// A grid record: name, orig_size, the voxel xform "m<i>" (row major), "mode", "padding_mode",
/// "align_corners".
rt::OpRecord gridRecord(const std::string &name, const std::vector<int64_t> &orig,
                        const at::Tensor &xform, int64_t mode, int64_t padding, bool align);
/// Samples and records: the output of a grid transform (image values in `dtype`, output float32
/// unless `keepDtype`), with affine @ xform.
MetaTensor gridResample(const MetaTensor &img, const at::Tensor &xform,
                        const std::vector<int64_t> &dstSize, const std::string &name,
                        const std::string &mode, const std::string &padding, bool align,
                        at::ScalarType dtype, bool keepDtype);

/// How eager samples an input axis of one voxel, which the kernel's plain voxel positions must
/// copy by scaling that axis's row of the map: at 0 with align_corners (both of MONAI's grid
/// normalisations), else at `unaligned` times the mapped position (1/2 for Affine, whose grid is
/// normalised by max(size, 2) as MONAI's Resample does; 1 for to_norm_affine's normalisation).
void sampleSingletonAxesAsEager(std::vector<double> &matrix, const std::vector<int64_t> &in,
                                bool alignCorners, double unaligned);
/// With align_corners, affine_grid puts a one-voxel output axis at normalised 0, which is output
/// index 0.5 under to_norm_affine: adds half of that axis's column to the map's translation.
void centreSingletonOutputs(std::vector<double> &matrix, const std::vector<int64_t> &out,
                            bool alignCorners);

/// Where MONAI's spatial_resample puts an image of spatial shape `in` with voxel-to-world `src`
/// (n-d, float64) onto the grid `dst` of shape `shape`: the voxel map `xform` = src^-1 dst
/// (output voxel -> input voxel), and `unchanged` when MONAI returns the image as it is (src
/// and dst, or xform and the identity, equal within atol 1e-3 and the same size). Spacing and
/// SpatialResample build one for eager and compiled runs alike.
struct GridTarget {
  at::Tensor xform;
  std::vector<int64_t> shape;
  bool unchanged = false;
};
GridTarget gridTarget(const at::Tensor &src, const at::Tensor &dst, const std::vector<int64_t> &in,
                      const std::vector<int64_t> &shape);
/// The compiled form of a GridTarget for an image of spatial shape `in`: the kernel's map
/// (xform with grid_sample's one-voxel-axis rules; the identity when unchanged), the output
/// affine meta.affine @ xform and the grid record `name` (an identity xform when unchanged), as
/// eager writes them.
ResamplePlan gridPlan(const std::string &name, const std::vector<int64_t> &in, const Meta &meta,
                      const GridTarget &target, const std::string &mode, const std::string &padding,
                      bool align);
/// The element type of Spacing's and SpatialResample's output for an input of type `in`: float64
/// stays float64 (the float64 resampling cast back), every other type becomes float32.
at::ScalarType gridOutputType(at::ScalarType in);
/// Spacing's and SpatialResample's compiled form: bilinear and (2-D) bicubic; nearest stays
/// eager (x.5 ties, docs/transforms-resample.md). Traced with gridOutputType's element type.
bool gridTraceable(const std::string &mode, const std::string &padding);
/// Gives a plan of a bounded resample that pads nothing (empty bounds) the whole output as its
/// box, so the parameters keep the layout the trace reserved.
void boundWholeOutput(ResamplePlan &p);
void traceGrid(const Transform &t, frontend::ChainSpec &chain, const std::string &mode,
               const std::string &padding);

} // namespace med::transforms::rs
