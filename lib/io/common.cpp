// ITK factory registration, supported extensions, dtype mapping and RAS <-> LPS geometry.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <mutex>

#include <ATen/ops/bitwise_and.h>

#include <itkGDCMImageIOFactory.h>
#include <itkMetaImageIOFactory.h>
#include <itkNiftiImageIOFactory.h>
#include <itkNrrdImageIOFactory.h>
#include <itkObjectFactoryBase.h>
#include <itkPNGImageIOFactory.h>

#include "io_internal.h"
#include "med/io/image_io.h"

namespace med::io {

const std::vector<std::string> &supportedExtensions() {
  static const std::vector<std::string> exts = {".nii", ".nii.gz", ".nrrd", ".nhdr",
                                                ".mha", ".mhd",    ".png",  ".dcm"};
  return exts;
}

namespace detail {

void registerFactories() {
  static std::once_flag once;
  std::call_once(once, [] {
    itk::ObjectFactoryBase::RegisterFactory(itk::NiftiImageIOFactory::New());
    itk::ObjectFactoryBase::RegisterFactory(itk::NrrdImageIOFactory::New());
    itk::ObjectFactoryBase::RegisterFactory(itk::MetaImageIOFactory::New());
    itk::ObjectFactoryBase::RegisterFactory(itk::GDCMImageIOFactory::New());
    itk::ObjectFactoryBase::RegisterFactory(itk::PNGImageIOFactory::New());
  });
}

std::string extensionOf(const std::string &path) {
  std::string lower(path);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string best;
  for (const std::string &ext : supportedExtensions())
    if (lower.size() > ext.size() &&
        lower.compare(lower.size() - ext.size(), ext.size(), ext) == 0 && ext.size() > best.size())
      best = ext;
  return best;
}

std::string expectedExtensionsText() {
  std::string s = "expected one of ";
  for (const std::string &ext : supportedExtensions())
    s += ext + ", ";
  return s + "or a DICOM series folder";
}

at::ScalarType toScalarType(itk::IOComponentEnum ct, const std::string &path) {
  using C = itk::IOComponentEnum;
  switch (ct) {
  case C::UCHAR:
    return at::kByte;
  case C::CHAR:
    return at::kChar;
  case C::SHORT:
    return at::kShort;
  case C::USHORT:
  case C::INT:
    return at::kInt;
  case C::UINT:
  case C::LONG:
  case C::ULONG:
  case C::LONGLONG:
  case C::ULONGLONG:
    return at::kLong;
  case C::FLOAT:
    return at::kFloat;
  case C::DOUBLE:
    return at::kDouble;
  default:
    throw Error(path, "unsupported pixel component type '" +
                          itk::ImageIOBase::GetComponentTypeAsString(ct) +
                          "'; expected an integer, float or double type");
  }
}

at::ScalarType storageType(itk::IOComponentEnum ct, const std::string &path) {
  using C = itk::IOComponentEnum;
  switch (ct) {
  case C::USHORT:
    return at::kShort;
  case C::UINT:
    return at::kInt;
  case C::LONG:
  case C::ULONG:
    return sizeof(long) == 8 ? at::kLong : at::kInt;
  default:
    return toScalarType(ct, path);
  }
}

at::Tensor widenUnsigned(const at::Tensor &raw, itk::IOComponentEnum ct) {
  using C = itk::IOComponentEnum;
  if (ct == C::USHORT)
    return at::bitwise_and(raw.to(at::kInt), 0xFFFF);
  if (ct == C::UINT || (ct == C::ULONG && sizeof(long) == 4))
    return at::bitwise_and(raw.to(at::kLong), int64_t(0xFFFFFFFF));
  if (ct == C::LONG && sizeof(long) == 4)
    return raw.to(at::kLong);
  return raw; // 64-bit unsigned stays in int64 (values above 2^63 wrap)
}

Affine affineFromItk(const ItkGeometry &g) {
  const int n = static_cast<int>(g.spacing.size());
  const int k = std::min(n, 3);
  Affine a = rt::identityAffine();
  for (int r = 0; r < k; ++r) {
    const double flip = r < 2 ? -1.0 : 1.0; // LPS -> RAS
    for (int c = 0; c < k; ++c)
      a[r * 4 + c] = flip * g.direction[r * n + c] * g.spacing[c];
    a[r * 4 + 3] = flip * g.origin[r];
  }
  return a;
}

ItkGeometry itkFromAffine(const Affine &affine, int dims, const std::string &path) {
  const int k = std::min(dims, 3);
  for (int c = 0; c < 4; ++c)
    if (std::fabs(affine[12 + c] - (c == 3 ? 1.0 : 0.0)) > 1e-9)
      throw Error(path, "the affine's last row must be (0, 0, 0, 1)");
  ItkGeometry g;
  g.spacing.assign(dims, 1.0);
  g.origin.assign(dims, 0.0);
  g.direction.assign(dims * dims, 0.0);
  for (int i = 0; i < dims; ++i)
    g.direction[i * dims + i] = 1.0;
  for (int c = 0; c < k; ++c) {
    double norm = 0;
    for (int r = 0; r < k; ++r)
      norm += affine[r * 4 + c] * affine[r * 4 + c];
    norm = std::sqrt(norm);
    if (!(norm > 1e-12) || !std::isfinite(norm))
      throw Error(path, "the affine is degenerate (column " + std::to_string(c) +
                            " is zero or not finite); ITK needs a positive spacing per axis");
    g.spacing[c] = norm;
    for (int r = 0; r < k; ++r) {
      const double flip = r < 2 ? -1.0 : 1.0; // RAS -> LPS
      g.direction[r * dims + c] = flip * affine[r * 4 + c] / norm;
    }
  }
  for (int r = 0; r < k; ++r)
    g.origin[r] = (r < 2 ? -1.0 : 1.0) * affine[r * 4 + 3];
  // ITK's direction must be orthonormal: a sheared or non-orthogonal affine cannot be written.
  for (int a = 0; a < k; ++a)
    for (int b = 0; b < k; ++b) {
      double dot = 0;
      for (int r = 0; r < k; ++r)
        dot += g.direction[r * dims + a] * g.direction[r * dims + b];
      if (std::fabs(dot - (a == b ? 1.0 : 0.0)) > 1e-4)
        throw Error(path, "the affine is sheared or non-orthogonal (axes " + std::to_string(a) +
                              " and " + std::to_string(b) +
                              " are not perpendicular); ITK can only write orthogonal axes");
    }
  return g;
}

} // namespace detail
} // namespace med::io
