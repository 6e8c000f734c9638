// Helpers shared by the I/O sources (private to lib/io): ITK set-up, dtype and geometry
// conversions, and the atomic-write machinery.
#pragma once

#include <array>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include <itkImageIOBase.h>

#include "med/core/error.h"
#include "med/core/meta_tensor.h"

namespace med::io::detail {

/// Registers the NIfTI, NRRD, MetaImage, GDCM and PNG IO factories once (UseITK is not used).
void registerFactories();

/// The supported extension `path` ends with (lower case, ".nii.gz" counts as one), or "".
std::string extensionOf(const std::string &path);
/// "expected one of .nii, .nii.gz, ..." for error messages.
std::string expectedExtensionsText();

/// The ATen type holding ITK's component type losslessly (uint16 -> int32, uint32 -> int64).
at::ScalarType toScalarType(itk::IOComponentEnum ct, const std::string &path);
/// The ATen type with ITK's component size, used as raw storage for a Read().
at::ScalarType storageType(itk::IOComponentEnum ct, const std::string &path);
/// Widens unsigned 16/32-bit data read as signed storage into its lossless ATen type.
at::Tensor widenUnsigned(const at::Tensor &raw, itk::IOComponentEnum ct);

/// Geometry of an ITK image in its own (LPS) convention; direction is row-major dims x dims.
struct ItkGeometry {
  std::vector<double> spacing;
  std::vector<double> origin;
  std::vector<double> direction;
};
/// affine_RAS = diag(-1,-1,1,1) . [D . diag(spacing) | origin] over the first min(dims, 3) axes.
Affine affineFromItk(const ItkGeometry &g);
/// The inverse of affineFromItk for `dims` spatial axes; throws med::Error(path, ...) when the
/// affine is sheared, non-orthogonal or degenerate (ITK cannot represent it).
ItkGeometry itkFromAffine(const Affine &affine, int dims, const std::string &path);

/// What LoadImage takes from a NIfTI-1 header itself (see nifti_header.cpp for why).
struct NiftiHeader {
  bool valid = false; ///< false: not a single-file NIfTI-1 header, nothing below is set
  int qform_code = 0;
  int sform_code = 0;
  std::array<double, 12> srow{}; ///< srow_x, srow_y, srow_z (RAS), row-major 3x4
  int64_t expected_bytes = 0;    ///< vox_offset + voxel bytes
};
/// Parses the header of a .nii or .nii.gz (either byte order); throws when it is too short.
NiftiHeader readNiftiHeader(const std::string &path);
/// Throws med::Error when the file holds fewer bytes than its header describes.
void checkNiftiComplete(const std::string &path, const NiftiHeader &header, bool gz);

/// Throws med::Error when a .mha/.mhd holds less data than its header describes (`rawBytes`
/// uncompressed, or CompressedDataSize).
void checkMetaImageComplete(const std::string &path, int64_t rawBytes);

/// Reads a DICOM series folder (first series, slices sorted by position, rescale applied) into
/// (x, y, z) order.
MetaTensor readDicomSeries(const std::string &dir, c10::optional<at::ScalarType> dtype);

/// Writes files into a fresh temporary folder beside `target` and renames them into place when
/// commit() is called; the destructor removes the folder and whatever is left in it, and, if
/// commit() never succeeded, the output folders it had to create.
class AtomicWrite {
public:
  explicit AtomicWrite(const std::string &target);
  ~AtomicWrite();
  AtomicWrite(const AtomicWrite &) = delete;
  AtomicWrite &operator=(const AtomicWrite &) = delete;
  /// Where the writer must write (same file name as the target, inside the temporary folder).
  const std::string &tempPath() const { return tempPath_; }
  /// Moves every file of the temporary folder next to the target (companions first).
  void commit();

private:
  void removeCreatedFolders();

  std::string target_;
  std::string tempDir_;
  std::string tempPath_;
  std::vector<std::string> created_; ///< folders this write created, deepest first
  bool committed_ = false;
};

} // namespace med::io::detail
