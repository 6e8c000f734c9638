// blend_images, matshow3d and rescale_array (MONAI 1.4.0 semantics, see docs/visualize.md).
#include "med/visualize/utils.h"

#include <cmath>
#include <vector>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "med/core/error.h"
#include "med/visualize/colormap.h"

namespace med::visualize {
namespace {

std::string shapeStr(c10::IntArrayRef s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i)
    out += (i ? ", " : "") + std::to_string(s[i]);
  return out + ")";
}

/// Checks the shapes blend_images needs and returns (image, label) as float32 on the CPU side
/// of the computation (the device is kept).
void checkBlendInputs(const at::Tensor &image, const at::Tensor &label) {
  if (!image.defined() || image.dim() < 3 || image.dim() > 4)
    throw Error("blend_images.image", "expected a channel-first 2-D or 3-D image (C, H, W[, D])");
  if (!label.defined() || label.dim() != image.dim() || label.size(0) != 1)
    throw Error("blend_images.label", "expected 1 channel and the image's rank, got shape " +
                                          (label.defined() ? shapeStr(label.sizes()) : "none"));
  if (image.size(0) != 1 && image.size(0) != 3)
    throw Error("blend_images.image",
                "expected 1 or 3 channels, got " + std::to_string(image.size(0)));
  if (image.sizes().slice(1) != label.sizes().slice(1))
    throw Error("blend_images.label", "spatial shape " + shapeStr(label.sizes().slice(1)) +
                                          " does not match the image's " +
                                          shapeStr(image.sizes().slice(1)));
}

at::Tensor blendWith(const at::Tensor &image, const at::Tensor &label, at::Tensor w_label,
                     const std::string &cmap, bool rescale_arrays, bool transparent_background) {
  at::Tensor img = rescale_arrays ? rescale_array(image) : image.to(at::kFloat);
  at::Tensor lab = rescale_arrays ? rescale_array(label) : label;
  if (img.size(0) == 1)
    img = at::cat({img, img, img}, 0);
  // (1, *spatial) -> (*spatial, 4) -> (3, *spatial)
  at::Tensor rgb = apply_colormap(lab[0], cmap).movedim(-1, 0).narrow(0, 0, 3);
  w_label = w_label.to(at::kFloat).to(img.device());
  if (transparent_background)
    w_label = at::where(lab == 0, at::zeros_like(w_label), w_label);
  return (1 - w_label) * img + w_label * rgb.to(img.device());
}

} // namespace

at::Tensor rescale_array(const at::Tensor &array, double minv, double maxv) {
  at::Tensor a = array.to(at::kFloat);
  if (a.numel() == 0)
    return a;
  const double mina = a.min().item<double>(), maxa = a.max().item<double>();
  if (mina == maxa)
    return a * minv;
  return (a - mina) / (maxa - mina) * (maxv - minv) + minv;
}

at::Tensor blend_images(const at::Tensor &image, const at::Tensor &label, double alpha,
                        const std::string &cmap, bool rescale_arrays, bool transparent_background) {
  checkBlendInputs(image, label);
  if (!(alpha >= 0.0 && alpha <= 1.0))
    throw Error("blend_images.alpha", "expected a weight in [0, 1], got " + std::to_string(alpha));
  at::Tensor w = at::full(label.sizes(), alpha, label.options().dtype(at::kFloat));
  return blendWith(image, label, w, cmap, rescale_arrays, transparent_background);
}

at::Tensor blend_images(const at::Tensor &image, const at::Tensor &label, const at::Tensor &alpha,
                        const std::string &cmap, bool rescale_arrays, bool transparent_background) {
  checkBlendInputs(image, label);
  at::Tensor w = alpha;
  if (w.defined() && w.dim() == image.dim() - 1)
    w = w.unsqueeze(0);
  if (!w.defined() || w.dim() != image.dim() || w.size(0) != 1 ||
      w.sizes().slice(1) != image.sizes().slice(1))
    throw Error("blend_images.alpha",
                "expected a weight map of the image's spatial shape " +
                    shapeStr(image.sizes().slice(1)) +
                    (w.defined() ? ", got " + shapeStr(w.sizes()) : std::string()));
  return blendWith(image, label, w.clone(), cmap, rescale_arrays, transparent_background);
}

Matshow3dResult matshow3d(const at::Tensor &volume, const Matshow3dOptions &o) {
  if (!volume.defined() || volume.numel() == 0)
    throw Error("matshow3d.volume", "expected a non-empty tensor");
  at::Tensor vol = volume.detach().to(at::kCPU);
  const auto cd = o.channel_dim();
  if (cd) {
    if ((*cd != 0 && *cd != 1) || *cd >= vol.dim() ||
        (vol.size(*cd) != 1 && vol.size(*cd) != 3 && vol.size(*cd) != 4))
      throw Error("matshow3d.channel_dim",
                  "expected None, 0 or 1, with 1, 3 or 4 channels on that axis; volume shape " +
                      shapeStr(vol.sizes()));
  }
  while (vol.dim() < 3)
    vol = vol.unsqueeze(0);
  const int64_t nd = vol.dim();
  if (o.frame_dim() < -nd || o.frame_dim() >= nd)
    throw Error("matshow3d.frame_dim", "expected an axis of a " + std::to_string(nd) +
                                           "-D volume, got " + std::to_string(o.frame_dim()));
  if (cd) {
    if (nd < 4)
      throw Error("matshow3d.channel_dim",
                  "a channel axis needs a volume of at least 4 axes (frames, C, H, W); shape " +
                      shapeStr(vol.sizes()));
    vol = vol.movedim(o.frame_dim(), -4);
    vol = vol.reshape({-1, vol.size(-3), vol.size(-2), vol.size(-1)});
  } else {
    vol = vol.movedim(o.frame_dim(), -3);
    vol = vol.reshape({-1, vol.size(-2), vol.size(-1)});
  }
  at::Tensor dv = vol.to(at::kDouble);
  at::Tensor finite = dv.masked_select(~at::isnan(dv));
  Matshow3dResult r;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  r.vmin = o.vmin() ? *o.vmin() : (finite.numel() ? finite.min().item<double>() : nan);
  r.vmax = o.vmax() ? *o.vmax() : (finite.numel() ? finite.max().item<double>() : nan);

  vol = vol.slice(0, 0, c10::nullopt, std::max<int64_t>(o.every_n(), 1));
  const int64_t n = vol.size(0);
  const int64_t fpr = o.frames_per_row() > 0
                          ? o.frames_per_row()
                          : static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  const int64_t cols = std::max<int64_t>(std::min(n, fpr), 1);
  const int64_t rows = (n + cols - 1) / cols;
  if (o.margin() < 0)
    throw Error("matshow3d.margin", "expected >= 0, got " + std::to_string(o.margin()));
  const int64_t m = o.margin(), h = vol.size(-2), w = vol.size(-1);
  std::vector<int64_t> padded(vol.sizes().begin(), vol.sizes().end());
  padded[0] = rows * cols;
  padded[padded.size() - 2] = h + 2 * m;
  padded[padded.size() - 1] = w + 2 * m;
  at::Tensor frames = at::full(padded, o.fill_value(), vol.options().dtype(o.dtype()));
  frames.narrow(0, 0, n).narrow(-2, m, h).narrow(-1, m, w).copy_(vol);
  if (cd) {
    const int64_t c = vol.size(1);
    // (rows, cols, C, H', W') -> (H'-rows, W'-cols, C)
    r.image = frames.reshape({rows, cols, c, h + 2 * m, w + 2 * m})
                  .permute({0, 3, 1, 4, 2})
                  .reshape({rows * (h + 2 * m), cols * (w + 2 * m), c});
  } else {
    r.image = frames.reshape({rows, cols, h + 2 * m, w + 2 * m})
                  .permute({0, 2, 1, 3})
                  .reshape({rows * (h + 2 * m), cols * (w + 2 * m)});
  }
  return r;
}

} // namespace med::visualize
