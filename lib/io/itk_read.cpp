// LoadImage: one image file through itk::ImageIOBase into an ATen buffer (no pixel-type
// templates), then MONAI's (x, y, z[, extra]) layout and a RAS affine.
#include <filesystem>
#include <numeric>

#include <ATen/ops/empty.h>

#include <itkImageIOFactory.h>

#include "io_internal.h"
#include "med/io/image_io.h"

namespace med::io {
namespace {

namespace fs = std::filesystem;

/// Reads `path` with the ITK ImageIO that claims it; the tensor keeps the file's type.
MetaTensor readFile(const std::string &path, const std::string &ext) {
  detail::NiftiHeader nifti;
  if (ext == ".nii" || ext == ".nii.gz") {
    nifti = detail::readNiftiHeader(path);
    detail::checkNiftiComplete(path, nifti, ext == ".nii.gz");
  }
  detail::registerFactories();
  itk::ImageIOBase::Pointer io =
      itk::ImageIOFactory::CreateImageIO(path.c_str(), itk::IOFileModeEnum::ReadMode);
  if (!io)
    throw Error(path, "no ITK reader accepts this file; expected a valid " + ext + " file");
  io->SetFileName(path);
  io->ReadImageInformation();

  const int nd = static_cast<int>(io->GetNumberOfDimensions());
  const int comps = static_cast<int>(io->GetNumberOfComponents());
  if (nd < 1 || comps < 1)
    throw Error(path, "the header describes an empty image");
  std::vector<int64_t> dims(nd);
  itk::ImageIORegion region(nd);
  for (int i = 0; i < nd; ++i) {
    dims[i] = static_cast<int64_t>(io->GetDimensions(i));
    region.SetIndex(i, 0);
    region.SetSize(i, io->GetDimensions(i));
  }
  io->SetIORegion(region);
  if (ext == ".mha" || ext == ".mhd")
    detail::checkMetaImageComplete(path, static_cast<int64_t>(io->GetImageSizeInBytes()));

  const itk::IOComponentEnum ct = io->GetComponentType();
  const at::ScalarType storage = detail::storageType(ct, path);
  const int64_t count = std::accumulate(dims.begin(), dims.end(), int64_t(1),
                                        [](int64_t a, int64_t b) { return a * b; }) *
                        comps;
  at::Tensor raw = at::empty({count}, at::TensorOptions().dtype(storage));
  if (static_cast<int64_t>(io->GetComponentSize()) != static_cast<int64_t>(raw.element_size()) ||
      static_cast<int64_t>(io->GetImageSizeInBytes()) != static_cast<int64_t>(raw.nbytes()))
    throw Error(path, "unexpected pixel buffer size for component type '" +
                          itk::ImageIOBase::GetComponentTypeAsString(ct) + "'");
  io->Read(raw.data_ptr());

  // ITK's buffer is x-fastest (C order (..., z, y, x[, c])); MONAI's layout is (x, y, z, ...[, c]).
  std::vector<int64_t> cshape(dims.rbegin(), dims.rend());
  std::vector<int64_t> perm;
  for (int i = nd - 1; i >= 0; --i)
    perm.push_back(i);
  if (comps > 1) {
    cshape.push_back(comps);
    perm.push_back(nd);
  }
  // A permuted view: LoadImage makes it contiguous in one pass with the dtype conversion.
  at::Tensor data = detail::widenUnsigned(raw.view(cshape).permute(perm), ct);

  MetaTensor out;
  out.data = data;
  detail::ItkGeometry g;
  for (int i = 0; i < nd; ++i) {
    g.spacing.push_back(io->GetSpacing(i));
    g.origin.push_back(io->GetOrigin(i));
  }
  g.direction.assign(nd * nd, 0.0);
  for (int c = 0; c < nd; ++c) {
    const std::vector<double> col = io->GetDirection(c);
    for (int r = 0; r < nd && r < static_cast<int>(col.size()); ++r)
      g.direction[r * nd + c] = col[r];
  }
  // PNG has no geometry: MONAI's PILReader gives the identity.
  out.meta.affine = ext == ".png" ? rt::identityAffine() : detail::affineFromItk(g);
  if (nifti.valid && nifti.sform_code > 0 && nd >= 2) {
    // nibabel's rule (MONAI reads NIfTI with nibabel): the sform wins whenever it is set; ITK 5.2
    // prefers the qform. 2D images keep the top-left block only.
    const int k = std::min(nd, 3);
    for (int r = 0; r < k; ++r) {
      for (int c = 0; c < k; ++c)
        out.meta.affine[r * 4 + c] = nifti.srow[r * 4 + c];
      out.meta.affine[r * 4 + 3] = nifti.srow[r * 4 + 3];
    }
  }
  out.meta.original_affine = out.meta.affine;
  out.meta.spatial_shape.assign(dims.begin(), dims.begin() + std::min(nd, 3));
  out.meta.filename_or_obj = path;
  if (nd > 3 || comps > 1)
    out.meta.original_channel_dim = -1;
  return out;
}

} // namespace

MetaTensor LoadImage::operator()(const std::string &path) const {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st))
    throw Error(path, "no such file or folder; " + detail::expectedExtensionsText());
  MetaTensor out;
  if (fs::is_directory(st)) {
    out = detail::readDicomSeries(path, options_.dtype());
  } else {
    const std::string ext = detail::extensionOf(path);
    if (ext.empty())
      throw Error(path, "unknown image file extension; " + detail::expectedExtensionsText());
    try {
      out = readFile(path, ext);
    } catch (const Error &) {
      throw;
    } catch (const itk::ExceptionObject &e) {
      throw Error(path, std::string("ITK could not read the ") + ext +
                            " file (truncated or corrupt?): " + e.GetDescription());
    } catch (const std::exception &e) {
      throw Error(path, std::string("could not read the ") + ext + " file: " + e.what());
    }
  }
  const at::ScalarType dtype = options_.dtype().value_or(out.data.scalar_type());
  if (dtype != out.data.scalar_type() || !out.data.is_contiguous()) {
    at::Tensor dense = at::empty(out.data.sizes(), out.data.options().dtype(dtype));
    dense.copy_(out.data);
    out.data = dense;
  }
  return out;
}

} // namespace med::io
