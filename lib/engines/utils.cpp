// default_prepare_batch, set_determinism.
#include "med/engines/utils.h"

#include <cstdlib>
#include <random>

#include <ATen/ATen.h>
#include <ATen/Context.h>

#include "med/core/error.h"

namespace med::engines {

std::pair<at::Tensor, at::Tensor>
default_prepare_batch(const Data &batch, const c10::Device &device, bool non_blocking) {
  auto image = batch.find(keys::IMAGE);
  if (image == batch.end() || !image->second.data.defined())
    throw Error("default_prepare_batch.batch",
                "expected a batch with an \"image\" tensor (and optionally \"label\")");
  at::Tensor inputs = image->second.data.to(device, non_blocking);
  at::Tensor targets;
  auto label = batch.find(keys::LABEL);
  if (label != batch.end() && label->second.data.defined())
    targets = label->second.data.to(device, non_blocking);
  return {inputs, targets};
}

namespace {
std::optional<uint64_t> &last_seed() {
  static std::optional<uint64_t> seed;
  return seed;
}
} // namespace

uint64_t set_determinism(std::optional<uint64_t> seed, bool use_deterministic_algorithms) {
  uint64_t s = seed ? *seed : std::random_device{}();
  at::manual_seed(s); // CPU and, when present, CUDA generators
  std::srand(static_cast<unsigned>(s));
  auto &ctx = at::globalContext();
  ctx.setDeterministicCuDNN(seed.has_value());
  if (seed)
    ctx.setBenchmarkCuDNN(false);
  ctx.setDeterministicAlgorithms(use_deterministic_algorithms, /*warn_only=*/false);
  last_seed() = seed;
  return s;
}

std::optional<uint64_t> determinism_seed() { return last_seed(); }

} // namespace med::engines
