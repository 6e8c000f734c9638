// CastToType, EnsureType, SqueezeDim, Lambda, Activations and AsDiscrete (MONAI 1.4 semantics).
#include "med/transforms/utility.h"

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <sstream>

#include "med/core/dtype.h"
#include "med/core/error.h"

namespace med::transforms {
namespace {

void checkDefined(const at::Tensor &t, const std::string &where) {
  if (!t.defined())
    throw Error(where, "the image tensor is undefined");
}

// A dimension of a rank-`rank` tensor, negative counting from the end.
int64_t normaliseDim(int64_t dim, int64_t rank, const std::string &where) {
  if (dim < -rank || dim >= rank)
    throw Error(where, "dimension " + std::to_string(dim) + " is out of range for a tensor of " +
                           std::to_string(rank) + " dimensions");
  return dim < 0 ? dim + rank : dim;
}

// med.cast to `to` appended for transform `t`: Tensor.to's conversion (float to integer truncates
// toward zero). Nothing when the chain already has that type: kernel results are contiguous, and
// a kernel of one identity map would fold to a bare copy.
void traceCast(const Transform &t, frontend::ChainSpec &chain, rt::DType to) {
  if (to != chain.output())
    chain.ops.push_back(frontend::OpSpec{"cast", {}, {}, to, t.name()});
}

} // namespace

// --- CastToType / EnsureType ---------------------------------------------------------------------

bool CastToType::traceable() const { return kernelDType(o_.dtype()).has_value(); }

void CastToType::trace(frontend::ChainSpec &chain) const {
  traceCast(*this, chain, toDType(o_.dtype(), name() + ".dtype"));
}

bool EnsureType::traceable() const { return !o_.dtype() || kernelDType(*o_.dtype()); }

void EnsureType::trace(frontend::ChainSpec &chain) const {
  traceCast(*this, chain, o_.dtype() ? toDType(*o_.dtype(), name() + ".dtype") : chain.output());
}

MetaTensor CastToType::eager(const MetaTensor &img) const {
  checkDefined(img.data, name());
  return img.withData(img.data.to(o_.dtype()));
}

EnsureType::EnsureType(Options o) : o_(std::move(o)) {
  if (o_.data_type() != "tensor")
    throw Error("EnsureType.data_type", "only \"tensor\" is supported (Medulla has no numpy "
                                        "arrays), got \"" +
                                            o_.data_type() + "\"");
}

MetaTensor EnsureType::eager(const MetaTensor &img) const {
  checkDefined(img.data, name());
  at::Tensor t = o_.dtype() ? img.data.to(*o_.dtype()) : img.data;
  return img.withData(t.contiguous());
}

// --- SqueezeDim ----------------------------------------------------------------------------------

SqueezeDim::SqueezeDim(Options o) : o_(o) {}

MetaTensor SqueezeDim::eager(const MetaTensor &img) const {
  checkDefined(img.data, name());
  if (!o_.dim())
    return img.withData(img.data.squeeze());
  const int64_t dim = normaliseDim(*o_.dim(), img.data.dim(), "SqueezeDim.dim");
  if (img.data.size(dim) != 1) {
    std::ostringstream os;
    os << "can only squeeze a singleton dimension, got size " << img.data.size(dim)
       << " at dimension " << dim << " of shape " << img.data.sizes();
    throw Error("SqueezeDim.dim", os.str());
  }
  MetaTensor out = img.withData(img.data.squeeze(dim));
  if (o_.update_meta() && dim > 0 && dim <= 3) {
    // MONAI drops row and column dim - 1 of the affine; the 4x4 form keeps the two remaining
    // spatial axes first and an identity z.
    std::vector<int> old;
    for (int a = 0; a < 3; ++a)
      if (a != dim - 1)
        old.push_back(a);
    const int from[3] = {old[0], old[1], 3}, to[3] = {0, 1, 3};
    Affine r = rt::identityAffine();
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        r[to[i] * 4 + to[j]] = img.meta.affine[from[i] * 4 + from[j]];
    out.meta.affine = r;
  }
  return out;
}

// --- Lambda --------------------------------------------------------------------------------------

Lambda::Lambda(Options o) : o_(std::move(o)) {
  if (!o_.func())
    throw Error("Lambda.func", "expected a callable, got an empty std::function");
}

MetaTensor Lambda::eager(const MetaTensor &img) const { return o_.func()(img); }

// --- Activations ---------------------------------------------------------------------------------

Activations::Activations(Options o) : o_(std::move(o)) {
  if (o_.sigmoid() && o_.softmax())
    throw Error("Activations.softmax", "incompatible values: sigmoid=true and softmax=true");
}

MetaTensor Activations::eager(const MetaTensor &img) const {
  checkDefined(img.data, name());
  at::Tensor t = img.data;
  if ((o_.sigmoid() || o_.softmax()) && !at::isFloatingType(t.scalar_type()))
    t = t.to(at::kFloat);
  if (o_.sigmoid())
    t = at::sigmoid(t);
  if (o_.softmax())
    t = at::softmax(t, normaliseDim(o_.dim(), t.dim(), "Activations.dim"));
  if (o_.other())
    t = o_.other()(t);
  return img.withData(t);
}

// --- AsDiscrete ----------------------------------------------------------------------------------

AsDiscrete::AsDiscrete(Options o) : o_(std::move(o)) {
  if (o_.to_onehot() && *o_.to_onehot() < 1)
    throw Error("AsDiscrete.to_onehot",
                "expected a number of classes >= 1, got " + std::to_string(*o_.to_onehot()));
  if (o_.rounding() && *o_.rounding() != "torchrounding")
    throw Error("AsDiscrete.rounding",
                "expected \"torchrounding\" (or unset), got \"" + *o_.rounding() + "\"");
}

MetaTensor AsDiscrete::eager(const MetaTensor &img) const {
  checkDefined(img.data, name());
  at::Tensor t = img.data;
  if (o_.argmax())
    t = at::argmax(t, normaliseDim(o_.dim(), t.dim(), "AsDiscrete.dim"), o_.keepdim());
  if (o_.to_onehot()) {
    const int64_t n = *o_.to_onehot();
    const int64_t dim = normaliseDim(o_.dim(), t.dim(), "AsDiscrete.dim");
    if (t.size(dim) != 1)
      throw Error("AsDiscrete.to_onehot", "the labels should have size 1 along dimension " +
                                              std::to_string(dim) + ", got " +
                                              std::to_string(t.size(dim)));
    at::Tensor labels = t.to(at::kLong); // truncates as labels.long() in MONAI's one_hot
    if (labels.numel() > 0 &&
        (labels.min().item<int64_t>() < 0 || labels.max().item<int64_t>() >= n))
      throw Error("AsDiscrete.to_onehot", "labels must lie in [0, " + std::to_string(n - 1) +
                                              "], got values in [" +
                                              std::to_string(labels.min().item<int64_t>()) + ", " +
                                              std::to_string(labels.max().item<int64_t>()) + "]");
    std::vector<int64_t> shape(t.sizes().begin(), t.sizes().end());
    shape[dim] = n;
    t = at::zeros(shape, at::TensorOptions().dtype(o_.dtype())).scatter_(dim, labels, 1);
  }
  if (o_.threshold())
    t = t >= *o_.threshold();
  if (o_.rounding())
    t = at::round(t.scalar_type() == at::kBool ? t.to(o_.dtype()) : t);
  return img.withData(t.to(o_.dtype()));
}

} // namespace med::transforms
