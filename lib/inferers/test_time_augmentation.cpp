// TestTimeAugmentation (test_time_augmentation.h).
#include "med/inferers/test_time_augmentation.h"

#include <ATen/ATen.h>

#include "med/core/error.h"
#include "med/transforms/invertd.h"

namespace med::inferers {

namespace {
const char *kOwner = "TestTimeAugmentation";
const char *kPred = "__tta_pred";

// Per-voxel mode over dim 0 of int64 values, the smallest value on a tie: sort the examples,
// then for each run of equal values count its length and keep the longest (first) run.
at::Tensor modeOverExamples(const at::Tensor &values) {
  at::Tensor sorted = std::get<0>(values.sort(0));
  const int64_t n = sorted.size(0);
  at::Tensor best = sorted[0].clone(), bestCount = at::ones_like(best);
  at::Tensor run = at::ones_like(best);
  for (int64_t i = 1; i < n; ++i) {
    at::Tensor same = sorted[i].eq(sorted[i - 1]);
    run = at::where(same, run + 1, at::ones_like(run));
    at::Tensor better = run.gt(bestCount);
    best = at::where(better, sorted[i], best);
    bestCount = at::where(better, run, bestCount);
  }
  return best;
}
transforms::Compose seeded(transforms::Compose c, uint64_t seed) {
  c.set_random_state(seed);
  return c;
}
} // namespace

TestTimeAugmentation::TestTimeAugmentation(transforms::Compose transform, Predictor inferrer_fn,
                                           TestTimeAugmentationOptions options)
    : transform_(seeded(std::move(transform), options.seed())),
      pipeline_(transform_.compile(transforms::Schedule::cpu())), inferrer_(std::move(inferrer_fn)),
      options_(std::move(options)) {
  if (!inferrer_)
    throw Error(std::string(kOwner) + ".inferrer_fn", "expected a predictor, got none");
  if (options_.batch_size() < 1)
    throw Error(std::string(kOwner) + ".batch_size",
                "expected >= 1, got " + std::to_string(options_.batch_size()));
}

at::Tensor TestTimeAugmentation::full(const Data &data, int64_t num_examples) const {
  if (num_examples < 1)
    throw Error(std::string(kOwner) + ".num_examples",
                "expected >= 1, got " + std::to_string(num_examples));
  const std::string &key = options_.image_key();
  if (!data.count(key))
    throw Error(std::string(kOwner) + ".image_key", "key \"" + key + "\" is not in the data");
  transforms::Invertd invert({kPred}, {key});
  std::vector<at::Tensor> outs;
  for (int64_t first = 0; first < num_examples; first += options_.batch_size()) {
    const int64_t count = std::min(options_.batch_size(), num_examples - first);
    std::vector<MetaTensor> augmented;
    std::vector<at::Tensor> inputs;
    for (int64_t i = first; i < first + count; ++i) {
      rt::RandomKey rk{options_.seed(), 0, static_cast<uint64_t>(i), 0};
      Data aug = pipeline_.run(data, rk);
      augmented.push_back(aug.at(key));
      inputs.push_back(augmented.back().data);
      if (inputs.back().sizes() != inputs.front().sizes())
        throw Error(std::string(kOwner) + ".batch_size",
                    "augmented copies differ in shape, so they cannot share a batch; use "
                    "batch_size 1");
    }
    at::Tensor preds = inferrer_(at::stack(inputs, 0));
    if (!preds.defined() || preds.dim() != inputs.front().dim() + 1 || preds.size(0) != count)
      throw Error(std::string(kOwner) + ".inferrer_fn",
                  "expected a (" + std::to_string(count) +
                      ", C, *spatial) prediction for the batch of augmented copies");
    for (int64_t j = 0; j < count; ++j) {
      // The prediction lies on the augmented grid: give it the augmented image's records and
      // undo them as Invertd does.
      Data d{{key, augmented[j]}, {kPred, augmented[j].withData(preds[j])}};
      at::Tensor back = invert(d).at(kPred).data;
      if (options_.post_func())
        back = options_.post_func()(back);
      outs.push_back(back);
    }
  }
  return at::stack(outs, 0);
}

TestTimeAugmentationResult TestTimeAugmentation::operator()(const Data &data,
                                                            int64_t num_examples) const {
  at::Tensor all = full(data, num_examples);
  at::Tensor values = all.is_floating_point() ? all : all.to(at::kFloat);
  TestTimeAugmentationResult r;
  r.mode = modeOverExamples(all.to(at::kLong));
  r.mean = values.mean(0);
  r.std = values.std(0);
  r.vvc = (values.std() / values.mean()).item<double>();
  return r;
}

} // namespace med::inferers
