// Shared pieces of the segmentation losses: reductions, one-hot, input preparation, warnings.
#include "med/losses/reduction.h"

#include <iostream>
#include <mutex>
#include <set>
#include <sstream>

#include <ATen/ATen.h>

#include "med/core/error.h"
#include "stencil_generated.h"

#include <torch/csrc/autograd/autograd.h>

namespace med::losses {

namespace {
std::string shapeStr(const at::Tensor &t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}
} // namespace

void check_reduction(const std::string &owner, const std::string &reduction,
                     const std::string &allowed) {
  std::string padded = "," + allowed + ",";
  if (reduction.empty() || padded.find("," + reduction + ",") == std::string::npos)
    throw Error(owner + ".reduction", "expected one of " + allowed + ", got '" + reduction + "'");
}

at::Tensor reduce(const at::Tensor &loss, const std::string &reduction) {
  if (reduction == "mean")
    return loss.mean();
  if (reduction == "sum")
    return loss.sum();
  return loss;
}

at::Tensor one_hot(const at::Tensor &labels, int64_t num_classes, const std::string &owner) {
  if (labels.dim() < 2 || labels.size(1) != 1)
    throw Error(owner + ".target",
                "one-hot encoding expects a label map with one channel (B, 1, ...), got " +
                    shapeStr(labels));
  at::Tensor idx = labels.detach().to(at::kLong);
  if (idx.numel() > 0) {
    int64_t lo = idx.min().item<int64_t>(), hi = idx.max().item<int64_t>();
    if (lo < 0 || hi >= num_classes)
      throw Error(owner + ".target", "labels must lie in [0, " + std::to_string(num_classes) +
                                         ") for one-hot encoding, got values in [" +
                                         std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  std::vector<int64_t> shape = labels.sizes().vec();
  shape[1] = num_classes;
  return at::zeros(shape, labels.options().dtype(at::kFloat)).scatter_(1, idx, 1.0);
}

void warn_once(const std::string &message) {
  static std::mutex m;
  static std::set<std::string> seen;
  std::lock_guard<std::mutex> lock(m);
  if (seen.insert(message).second)
    std::cerr << "warning: " << message << "\n";
}

void check_activation(const std::string &owner, const SegPrep &prep) {
  if (int(prep.sigmoid) + int(prep.softmax) + int(prep.other_act != nullptr) > 1)
    throw Error(owner, "incompatible values: more than one of sigmoid=true, softmax=true, "
                       "other_act set");
}

SegInputs prepare_seg(const std::string &owner, const SegPrep &prep, const at::Tensor &input,
                      const at::Tensor &target, bool check_shape) {
  if (!input.defined() || input.dim() < 3)
    throw Error(owner + ".input", "expected a (B, C, *spatial) tensor with at least one spatial "
                                  "axis, got " +
                                      (input.defined() ? shapeStr(input) : "an undefined tensor"));
  if (!target.defined() || target.dim() != input.dim())
    throw Error(owner + ".target",
                "expected as many dimensions as the input " + shapeStr(input) + ", got " +
                    (target.defined() ? shapeStr(target) : "an undefined tensor"));
  at::Tensor x = input, y = target;
  int64_t nch = x.size(1);
  if (prep.sigmoid)
    x = at::sigmoid(x);
  if (prep.softmax) {
    if (nch == 1)
      warn_once(owner + ": single channel prediction, softmax=true ignored.");
    else
      x = at::softmax(x, 1);
  }
  if (prep.other_act)
    x = prep.other_act(x);
  if (prep.to_onehot_y) {
    if (nch == 1)
      warn_once(owner + ": single channel prediction, to_onehot_y=true ignored.");
    else
      y = one_hot(y, nch, owner);
  }
  if (!prep.include_background) {
    if (nch == 1) {
      warn_once(owner + ": single channel prediction, include_background=false ignored.");
    } else {
      y = y.slice(1, 1);
      x = x.slice(1, 1);
    }
  }
  if (check_shape && !x.sizes().equals(y.sizes()))
    throw Error(owner + ".target", "ground truth has shape " + shapeStr(y) +
                                       " after preparation, expected the input's " + shapeStr(x));
  return {x, y};
}

at::Tensor detail::channelSumsGradWithGraph(const at::Tensor &map, const at::Tensor &input,
                                            const at::Tensor &go) {
  std::vector<int64_t> axes;
  for (int64_t d = 2; d < map.dim(); ++d)
    axes.push_back(d);
  at::Tensor sums = map.to(at::kDouble).sum(axes);
  return torch::autograd::grad({sums}, {input}, {go}, /*retain_graph=*/true,
                               /*create_graph=*/true)[0];
}

} // namespace med::losses
