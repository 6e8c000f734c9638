// Image I/O: MONAI's LoadImage, SaveImage and EnsureChannelFirst (array and dictionary forms).
// Files are read and written through ITK (NIfTI, NRRD, MetaImage, PNG, DICOM); ITK stays out of
// this header so that users do not pay for its includes.
#pragma once

#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/util/Optional.h>

#include "med/core/dict.h"
#include "med/core/error.h"
#include "med/core/meta_tensor.h"

namespace med::io {

/// The file extensions LoadImage understands (a directory is read as a DICOM series).
const std::vector<std::string> &supportedExtensions();

// --- LoadImage
// ------------------------------------------------------------------------------------

/// Options of LoadImage, MONAI's defaults (LoadImage(image_only=True, dtype=np.float32)).
///
///   auto opts = med::io::LoadImageOptions().dtype(c10::nullopt);   // keep the file's type
struct LoadImageOptions {
  /// Output dtype; nullopt keeps the file's type (uint16 becomes int32 and uint32 int64, since
  /// LibTorch has no unsigned types beyond uint8).
  LoadImageOptions &dtype(c10::optional<at::ScalarType> v) {
    dtype_ = v;
    return *this;
  }
  c10::optional<at::ScalarType> dtype() const { return dtype_; }

private:
  c10::optional<at::ScalarType> dtype_ = at::kFloat;
};

/// Reads an image file (.nii, .nii.gz, .nrrd, .nhdr, .mha, .mhd, .png, .dcm) or a DICOM series
/// folder into a MetaTensor in MONAI's layout: dims (x, y, z) = (i, j, k) of the file, then any
/// extra dim (time of a 4D NIfTI, colour of an RGB PNG) last with meta.original_channel_dim = -1;
/// plain images get original_channel_dim = nullopt ("no_channel"). meta.affine is voxel-to-RAS
/// (identity for PNG, which has no geometry). Throws med::Error naming the file on any failure.
///
///   med::MetaTensor img = med::io::LoadImage()("ch2.nii.gz");   // float32, (181, 217, 181)
///   auto ct = med::io::LoadImage(med::io::LoadImageOptions().dtype(c10::nullopt))("CT5N/");
class LoadImage {
public:
  explicit LoadImage(LoadImageOptions options = {}) : options_(options) {}
  MetaTensor operator()(const std::string &path) const;
  const LoadImageOptions &options() const { return options_; }

private:
  LoadImageOptions options_;
};

// --- EnsureChannelFirst
// ---------------------------------------------------------------------------

/// Options of EnsureChannelFirst. By default the channel axis comes from
/// meta.original_channel_dim (what LoadImage recorded); channel_dim() overrides it and
/// no_channel(true) declares that the data has no channel axis (MONAI's "no_channel").
///
///   med::io::EnsureChannelFirstOptions().channel_dim(-1);   // channels are the last axis
struct EnsureChannelFirstOptions {
  EnsureChannelFirstOptions &channel_dim(c10::optional<int> v) {
    channel_dim_ = v;
    return *this;
  }
  c10::optional<int> channel_dim() const { return channel_dim_; }
  EnsureChannelFirstOptions &no_channel(bool v) {
    no_channel_ = v;
    return *this;
  }
  bool no_channel() const { return no_channel_; }

private:
  c10::optional<int> channel_dim_;
  bool no_channel_ = false;
};

/// Moves the channel axis to the front, or adds a leading axis of size 1 when the image has none,
/// as MONAI's EnsureChannelFirst; the metadata is kept as is.
///
///   auto img = med::io::LoadImage()("ch2.nii.gz");          // (181, 217, 181)
///   auto chw = med::io::EnsureChannelFirst()(img);          // (1, 181, 217, 181)
class EnsureChannelFirst {
public:
  explicit EnsureChannelFirst(EnsureChannelFirstOptions options = {}) : options_(options) {}
  MetaTensor operator()(const MetaTensor &img) const;

private:
  EnsureChannelFirstOptions options_;
};

// --- SaveImage
// ------------------------------------------------------------------------------------

/// Options of SaveImage, MONAI's defaults: the file goes to
/// output_dir/<name>/<name>_trans.nii.gz where <name> is meta.filename_or_obj without folder and
/// extensions (no <name>/ sub-folder when separate_folder is false), unless output_path() names
/// the file explicitly.
///
///   auto opts = med::io::SaveImageOptions().output_dir("/tmp/out").output_ext(".nrrd");
struct SaveImageOptions {
  /// Explicit output file; overrides output_dir, output_postfix, output_ext and separate_folder.
  SaveImageOptions &output_path(std::string v) {
    output_path_ = std::move(v);
    return *this;
  }
  const std::string &output_path() const { return output_path_; }
  SaveImageOptions &output_dir(std::string v) {
    output_dir_ = std::move(v);
    return *this;
  }
  const std::string &output_dir() const { return output_dir_; }
  SaveImageOptions &output_postfix(std::string v) {
    output_postfix_ = std::move(v);
    return *this;
  }
  const std::string &output_postfix() const { return output_postfix_; }
  SaveImageOptions &output_ext(std::string v) {
    output_ext_ = std::move(v);
    return *this;
  }
  const std::string &output_ext() const { return output_ext_; }
  SaveImageOptions &separate_folder(bool v) {
    separate_folder_ = v;
    return *this;
  }
  bool separate_folder() const { return separate_folder_; }
  /// Dtype written; nullopt keeps the data's dtype. PNG needs uint8 (or integer data in
  /// [0, 65535], written as 16-bit), so set output_dtype(at::kByte) or nullopt for PNG.
  SaveImageOptions &output_dtype(c10::optional<at::ScalarType> v) {
    output_dtype_ = v;
    return *this;
  }
  c10::optional<at::ScalarType> output_dtype() const { return output_dtype_; }
  /// Where the data keeps its channels (MONAI's channel_dim): 0 = channel first, as after
  /// EnsureChannelFirst; nullopt = no channel axis. One channel is squeezed, more are written as
  /// a vector (multi-component) image.
  SaveImageOptions &channel_dim(c10::optional<int> v) {
    channel_dim_ = v;
    return *this;
  }
  c10::optional<int> channel_dim() const { return channel_dim_; }
  /// Resampling to meta.original_affine before writing is not supported: true throws.
  SaveImageOptions &resample(bool v) {
    resample_ = v;
    return *this;
  }
  bool resample() const { return resample_; }

private:
  std::string output_path_;
  std::string output_dir_ = "./";
  std::string output_postfix_ = "trans";
  std::string output_ext_ = ".nii.gz";
  bool separate_folder_ = true;
  c10::optional<at::ScalarType> output_dtype_ = at::kFloat;
  c10::optional<int> channel_dim_ = 0;
  bool resample_ = false;
};

/// Writes a MetaTensor through ITK with its geometry from meta.affine (RAS, converted to ITK's
/// LPS). The write is atomic: the file(s) are written in a temporary folder beside the target and
/// renamed into place, so a failure leaves nothing behind. An affine ITK cannot represent
/// (sheared, non-orthogonal) throws med::Error naming the file.
///
///   auto img = med::io::EnsureChannelFirst()(med::io::LoadImage()("ch2.nii.gz"));
///   med::io::SaveImage(med::io::SaveImageOptions().output_dir("out"))(img);
///   // -> out/ch2/ch2_trans.nii.gz
class SaveImage {
public:
  explicit SaveImage(SaveImageOptions options = {}) : options_(std::move(options)) {}
  /// Writes to the path the options give (see SaveImageOptions).
  void operator()(const MetaTensor &img) const;
  /// Writes to `path`, whatever the naming options say.
  void save(const MetaTensor &img, const std::string &path) const;
  /// The path operator() writes `img` to.
  std::string outputPath(const MetaTensor &img) const;

private:
  SaveImageOptions options_;
};

// --- Dictionary forms
// -----------------------------------------------------------------------------

/// LoadImage on the listed keys of a key -> path map (MONAI's LoadImaged). A listed key missing
/// from the input throws med::Error naming it unless allow_missing_keys is true; keys not listed
/// are not loaded.
///
///   med::Data d = med::io::LoadImaged({"image", "label"})({{"image", "a.nii"}, {"label",
///   "b.nii"}});
class LoadImaged {
public:
  explicit LoadImaged(std::vector<std::string> keys, LoadImageOptions options = {},
                      bool allow_missing_keys = false);
  Data operator()(const std::map<std::string, std::string> &paths) const;

private:
  std::vector<std::string> keys_;
  LoadImage load_;
  bool allow_missing_keys_;
};

/// EnsureChannelFirst on the listed keys (MONAI's EnsureChannelFirstd); other keys pass through.
///
///   d = med::io::EnsureChannelFirstd({"image", "label"})(d);
class EnsureChannelFirstd {
public:
  explicit EnsureChannelFirstd(std::vector<std::string> keys,
                               EnsureChannelFirstOptions options = {},
                               bool allow_missing_keys = false);
  Data operator()(const Data &data) const;

private:
  std::vector<std::string> keys_;
  EnsureChannelFirst transform_;
  bool allow_missing_keys_;
};

/// SaveImage on the listed keys (MONAI's SaveImaged); each image is named after its own
/// meta.filename_or_obj. Returns the input unchanged so that it can end a chain.
///
///   med::io::SaveImaged({"pred"}, med::io::SaveImageOptions().output_dir("out"))(d);
class SaveImaged {
public:
  explicit SaveImaged(std::vector<std::string> keys, SaveImageOptions options = {},
                      bool allow_missing_keys = false);
  Data operator()(const Data &data) const;

private:
  std::vector<std::string> keys_;
  SaveImage save_;
  bool allow_missing_keys_;
};

} // namespace med::io
