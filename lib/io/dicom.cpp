// DICOM series folders: GDCM sorts the first series by slice position, ImageSeriesReader stacks
// the slices with rescale slope/intercept applied.
#include <ATen/ops/from_blob.h>

#include <itkGDCMImageIO.h>
#include <itkGDCMSeriesFileNames.h>
#include <itkImage.h>
#include <itkImageSeriesReader.h>

#include "io_internal.h"

namespace med::io::detail {

namespace {

using SeriesImage = itk::Image<float, 3>;

MetaTensor readSeries(const std::string &dir, c10::optional<at::ScalarType> dtype) {
  registerFactories();
  auto names = itk::GDCMSeriesFileNames::New();
  names->SetGlobalWarningDisplay(false);
  // As MONAI's ITKReader: series details split series that share a UID; the series date too.
  names->SetUseSeriesDetails(true);
  names->AddSeriesRestriction("0008|0021");
  names->SetDirectory(dir);
  const std::vector<std::string> &uids = names->GetSeriesUIDs();
  if (uids.empty())
    throw Error(dir, "no DICOM files found; expected a folder holding one DICOM series");
  const std::vector<std::string> files = names->GetFileNames(uids.front());
  if (files.empty())
    throw Error(dir, "DICOM series '" + uids.front() + "' has no readable files");

  auto dicomIO = itk::GDCMImageIO::New();
  auto reader = itk::ImageSeriesReader<SeriesImage>::New();
  reader->SetImageIO(dicomIO);
  reader->SetFileNames(files);
  reader->Update();
  SeriesImage::Pointer image = reader->GetOutput();

  const auto size = image->GetLargestPossibleRegion().GetSize();
  const int64_t nx = size[0], ny = size[1], nz = size[2];
  // ITK's buffer is C order (z, y, x); copy it into MONAI's (x, y, z) while the image is alive.
  at::Tensor zyx = at::from_blob(image->GetBufferPointer(), {nz, ny, nx}, at::kFloat);
  at::Tensor data = zyx.permute({2, 1, 0}).contiguous();

  // GDCM reports the type that holds the rescaled values (e.g. int16 for CT with intercept
  // -1024): that is the file's type when the caller keeps it.
  const at::ScalarType native = toScalarType(dicomIO->GetComponentType(), dir);
  const at::ScalarType target = dtype ? *dtype : native;
  if (target != at::kFloat)
    data = data.to(target);

  ItkGeometry g;
  for (int i = 0; i < 3; ++i) {
    g.spacing.push_back(image->GetSpacing()[i]);
    g.origin.push_back(image->GetOrigin()[i]);
    for (int j = 0; j < 3; ++j)
      g.direction.push_back(image->GetDirection()[i][j]);
  }
  MetaTensor out;
  out.data = data;
  out.meta.affine = affineFromItk(g);
  out.meta.original_affine = out.meta.affine;
  out.meta.spatial_shape = {nx, ny, nz};
  out.meta.filename_or_obj = dir;
  return out;
}

} // namespace

MetaTensor readDicomSeries(const std::string &dir, c10::optional<at::ScalarType> dtype) {
  try {
    return readSeries(dir, dtype);
  } catch (const Error &) {
    throw;
  } catch (const itk::ExceptionObject &e) {
    throw Error(dir, std::string("ITK could not read the DICOM series: ") + e.GetDescription());
  } catch (const std::exception &e) {
    throw Error(dir, std::string("could not read the DICOM series: ") + e.what());
  }
}

} // namespace med::io::detail
