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
/// zeros 0, border 1, reflection 2) or throws med::Error(where).
int64_t gridMode(const std::string &mode, const std::string &where);
int64_t gridPadding(const std::string &padding, const std::string &where);
/// at::grid_sampler of `img` (1, C, sp...) at `grid` for the named `mode` and `padding`; a
/// bicubic 3-D call, which grid_sample lacks, is a med::Error naming `where`.mode.
at::Tensor gridSample(const at::Tensor &img, const at::Tensor &grid, const std::string &mode,
                      const std::string &padding, bool alignCorners, const std::string &where);
extern const char *const kGridModes[3];
extern const char *const kGridPaddings[3];
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
