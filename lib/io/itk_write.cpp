// SaveImage: MONAI's output naming, channel handling and dtype, written through itk::ImageIOBase
// with the geometry of meta.affine, atomically.
#include <filesystem>

#include <ATen/ops/max.h>
#include <ATen/ops/min.h>

#include <itkImageIOFactory.h>

#include "io_internal.h"
#include "med/io/image_io.h"

namespace med::io {
namespace {

namespace fs = std::filesystem;
using C = itk::IOComponentEnum;

/// The ITK component type for `data`, converting `data` where ITK has no equal type.
C componentFor(at::Tensor &data, bool png, const std::string &path) {
  switch (data.scalar_type()) {
  case at::kBool:
    data = data.to(at::kByte);
    return C::UCHAR;
  case at::kByte:
    return C::UCHAR;
  default:
    break;
  }
  if (png) {
    if (at::isIntegralType(data.scalar_type(), /*includeBool=*/false)) {
      const bool inRange = data.numel() == 0 || (at::min(data).item<int64_t>() >= 0 &&
                                                 at::max(data).item<int64_t>() <= 65535);
      if (inRange) {
        data = data.to(at::kInt).to(at::kShort); // the uint16 bit pattern
        return C::USHORT;
      }
    }
    throw Error(path, std::string("PNG stores 8- or 16-bit unsigned pixels; expected uint8 data "
                                  "(set output_dtype(at::kByte)) or integers in [0, 65535], got ") +
                          c10::toString(data.scalar_type()));
  }
  switch (data.scalar_type()) {
  case at::kChar:
    return C::CHAR;
  case at::kShort:
    return C::SHORT;
  case at::kInt:
    return C::INT;
  case at::kLong:
    return C::LONGLONG;
  case at::kFloat:
    return C::FLOAT;
  case at::kDouble:
    return C::DOUBLE;
  case at::kHalf:
  case at::kBFloat16:
    data = data.to(at::kFloat);
    return C::FLOAT;
  default:
    throw Error(path, std::string("cannot write dtype ") + c10::toString(data.scalar_type()) +
                          "; expected an integer or floating-point tensor");
  }
}

/// Writes `buffer` (C order (..., z, y, x[, c])) with ITK's IO for `file`'s extension.
void writeItk(const std::string &file, const at::Tensor &buffer, const std::vector<int64_t> &dims,
              int comps, C component, bool png, const detail::ItkGeometry &g) {
  detail::registerFactories();
  itk::ImageIOBase::Pointer io =
      itk::ImageIOFactory::CreateImageIO(file.c_str(), itk::IOFileModeEnum::WriteMode);
  if (!io)
    throw itk::ExceptionObject(__FILE__, __LINE__, "no ITK writer for this extension");
  const int nd = static_cast<int>(dims.size());
  io->SetNumberOfDimensions(nd);
  itk::ImageIORegion region(nd);
  for (int i = 0; i < nd; ++i) {
    io->SetDimensions(i, static_cast<unsigned int>(dims[i]));
    io->SetSpacing(i, g.spacing[i]);
    io->SetOrigin(i, g.origin[i]);
    std::vector<double> column(nd);
    for (int r = 0; r < nd; ++r)
      column[r] = g.direction[r * nd + i];
    io->SetDirection(i, column);
    region.SetIndex(i, 0);
    region.SetSize(i, dims[i]);
  }
  io->SetComponentType(component);
  io->SetNumberOfComponents(comps);
  if (comps == 1)
    io->SetPixelType(itk::IOPixelEnum::SCALAR);
  else if (png)
    io->SetPixelType(comps == 3 ? itk::IOPixelEnum::RGB : itk::IOPixelEnum::RGBA);
  else
    io->SetPixelType(itk::IOPixelEnum::VECTOR);
  io->SetFileName(file);
  io->SetIORegion(region);
  io->SetUseCompression(false);
  io->Write(buffer.data_ptr());
}

/// "ch2.nii.gz" -> "ch2", "/data/CT5N/" -> "CT5N" (MONAI strips every extension).
std::string stem(const std::string &filename_or_obj) {
  fs::path p(filename_or_obj);
  if (p.filename().empty())
    p = p.parent_path();
  std::string name = p.filename().string();
  for (std::string prev; prev != name;) {
    prev = name;
    const std::string e = fs::path(name).extension().string();
    if (!e.empty() && e.size() < name.size())
      name.resize(name.size() - e.size());
  }
  return name;
}

} // namespace

std::string SaveImage::outputPath(const MetaTensor &img) const {
  if (!options_.output_path().empty())
    return options_.output_path();
  if (img.meta.filename_or_obj.empty())
    throw Error("SaveImage", "meta.filename_or_obj is empty, so the output cannot be named; "
                             "expected a source file name or SaveImageOptions().output_path()");
  const std::string name = stem(img.meta.filename_or_obj);
  std::string ext = options_.output_ext();
  if (!ext.empty() && ext.front() != '.')
    ext = "." + ext;
  fs::path out(options_.output_dir().empty() ? "." : options_.output_dir());
  if (options_.separate_folder())
    out /= name;
  const std::string postfix =
      options_.output_postfix().empty() ? std::string() : "_" + options_.output_postfix();
  return (out / (name + postfix + ext)).string();
}

void SaveImage::operator()(const MetaTensor &img) const { save(img, outputPath(img)); }

void SaveImage::save(const MetaTensor &img, const std::string &path) const {
  if (options_.resample())
    throw Error(path, "SaveImage resample=true is not supported; expected resample(false)");
  const std::string ext = detail::extensionOf(path);
  if (ext.empty() || ext == ".dcm")
    throw Error(path, "unknown output file extension; expected one of .nii, .nii.gz, .nrrd, "
                      ".nhdr, .mha, .mhd, .png");
  if (!img.data.defined())
    throw Error(path, "the MetaTensor has no data");
  const bool png = ext == ".png";

  at::Tensor data = img.data.cpu(); // ITK writes from host memory
  int comps = 1;
  if (const c10::optional<int> cd = options_.channel_dim()) {
    const int64_t rank = data.dim();
    const int64_t c = *cd < 0 ? *cd + rank : *cd;
    if (rank < 2 || c < 0 || c >= rank)
      throw Error(path, "channel_dim " + std::to_string(*cd) +
                            " is out of range for data of rank " + std::to_string(rank) +
                            "; expected channel-first data (C, x, y[, z])");
    if (!img.meta.spatial_shape.empty() &&
        rank == static_cast<int64_t>(img.meta.spatial_shape.size()) &&
        !img.meta.original_channel_dim)
      throw Error(path, "the data has no channel axis (rank " + std::to_string(rank) +
                            " = the image's spatial rank); expected channel-first data: run "
                            "EnsureChannelFirst first, or set SaveImageOptions().channel_dim("
                            "c10::nullopt)");
    data = data.movedim(c, -1);
    comps = static_cast<int>(data.size(-1));
    if (comps == 1)
      data = data.squeeze(-1);
  }
  const int spatial = static_cast<int>(data.dim()) - (comps > 1 ? 1 : 0);
  if (png && (spatial != 2 || (comps != 1 && comps != 3 && comps != 4)))
    throw Error(path, "PNG holds 2D images with 1, 3 or 4 channels; got " +
                          std::to_string(spatial) + " spatial dims and " + std::to_string(comps) +
                          " channels");
  if (spatial < 1 || spatial > 4)
    throw Error(path, "expected 1 to 4 spatial dims, got " + std::to_string(spatial));
  if (options_.output_dtype())
    data = data.to(*options_.output_dtype());
  const C component = componentFor(data, png, path);

  std::vector<int64_t> dims(data.sizes().begin(), data.sizes().begin() + spatial);
  std::vector<int64_t> perm;
  for (int i = spatial - 1; i >= 0; --i)
    perm.push_back(i);
  if (comps > 1)
    perm.push_back(spatial);
  const at::Tensor buffer = data.permute(perm).contiguous();

  detail::ItkGeometry g;
  if (png) {
    g.spacing.assign(spatial, 1.0);
    g.origin.assign(spatial, 0.0);
    g.direction = {1.0, 0.0, 0.0, 1.0};
  } else {
    g = detail::itkFromAffine(img.meta.affine, spatial, path);
  }

  detail::AtomicWrite atomic(path);
  try {
    writeItk(atomic.tempPath(), buffer, dims, comps, component, png, g);
  } catch (const itk::ExceptionObject &e) {
    throw Error(path,
                std::string("ITK could not write the ") + ext + " file: " + e.GetDescription());
  }
  atomic.commit();
}

} // namespace med::io
