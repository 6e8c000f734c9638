// What the supervised engines are built from: the network adapter, the loss, batch preparation,
// postprocessing, the metric-handler interface and set_determinism (MONAI's engines/utils.py and
// utils/misc.py set_determinism).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "med/core/dict.h"
#include "med/engines/engine.h"

namespace med::engines {

/// A network as engines need it: the module (parameters, train()/eval(), checkpoints) and the
/// call that maps a batch of inputs to predictions. Built from any module holder
/// (`med::networks::nets::UNet`, `torch::nn::Linear`), a `shared_ptr` to a module with a
/// one-tensor forward, or a module plus a custom callable.
///
///   Network net = UNet(UNetOptions(3, 1, 2).channels({16, 32}).strides({2}));
///   Network two_heads(module, [m = module.get()](const at::Tensor &x) { return m->head(x); });
struct Network {
  std::shared_ptr<torch::nn::Module> module;
  std::function<at::Tensor(const at::Tensor &)> forward;

  Network() = default;
  Network(std::shared_ptr<torch::nn::Module> m, std::function<at::Tensor(const at::Tensor &)> f)
      : module(std::move(m)), forward(std::move(f)) {}
  template <typename Impl>
  Network(const torch::nn::ModuleHolder<Impl> &holder)
      : module(holder.ptr()),
        forward([m = holder.ptr()](const at::Tensor &x) { return m->forward(x); }) {}
  template <typename Impl, typename = std::enable_if_t<std::is_base_of_v<torch::nn::Module, Impl> &&
                                                       !std::is_same_v<Impl, torch::nn::Module>>>
  Network(std::shared_ptr<Impl> m)
      : module(m), forward([m](const at::Tensor &x) { return m->forward(x); }) {}

  explicit operator bool() const { return module && forward; }
};

/// loss(pred, target) -> scalar; any callable, including loss module holders
/// (`med::losses::DiceLoss(...)`).
using LossFunction = std::function<at::Tensor(const at::Tensor &pred, const at::Tensor &target)>;

/// (batch, device, non_blocking) -> (inputs, targets); targets may be undefined (inference).
using PrepareBatch = std::function<std::pair<at::Tensor, at::Tensor>(
    const Data &batch, const c10::Device &device, bool non_blocking)>;

/// MONAI's default_prepare_batch: batch["image"] and, when present, batch["label"], moved to
/// `device`. Throws med::Error when "image" is missing.
std::pair<at::Tensor, at::Tensor>
default_prepare_batch(const Data &batch, const c10::Device &device, bool non_blocking);

/// Runs on the output of each iteration before any ITERATION_COMPLETED handler (MONAI's
/// `postprocessing`, e.g. activation + threshold before metrics), on the batched tensors.
///
///   .postprocessing([](Output o) { o["pred"] = (o["pred"].sigmoid() > 0.5).to(at::kFloat);
///                                  return o; })
using Postprocessing = std::function<Output(Output)>;

/// (current, best) -> whether current is better (MONAI's metric_cmp_fn).
using MetricCmpFn = std::function<bool(double current, double previous)>;

/// MONAI's default_metric_cmp_fn: current > previous.
inline bool default_metric_cmp_fn(double current, double previous) { return current > previous; }

/// A handler that computes one metric per epoch into state.metrics[name] (and
/// state.metric_details[name]); engines attach it under the name given in their key / additional
/// metric maps. See med::handlers::IgniteMetricHandler and med::handlers::MeanDice.
class MetricHandler : public Handler {
public:
  /// Attaches under default_name().
  void attach(Engine &engine) override { attach(engine, default_name()); }
  /// Resets at EPOCH_STARTED, updates at ITERATION_COMPLETED, writes state.metrics[name] at
  /// EPOCH_COMPLETED.
  virtual void attach(Engine &engine, const std::string &name) = 0;
  virtual std::string default_name() const = 0;
};

/// name -> metric handler (MONAI's key_train_metric / key_val_metric / additional_metrics).
using MetricMap = std::map<std::string, std::shared_ptr<MetricHandler>>;

/// MONAI's set_determinism: seeds torch's CPU (and CUDA) generators and std::rand with `seed`,
/// makes cuDNN deterministic (benchmark off) and, when `use_deterministic_algorithms`, asks
/// torch for deterministic kernels. nullopt draws a fresh seed and turns cuDNN determinism
/// off. Transforms keep their own counter-based streams: pass them (any object with
/// set_random_state(uint64_t), e.g. med::transforms::Compose) to seed them too. Returns the
/// seed used.
///
///   med::engines::set_determinism(0);
///   med::engines::set_determinism(0, false, train_transforms, val_transforms);
uint64_t set_determinism(std::optional<uint64_t> seed = 0,
                         bool use_deterministic_algorithms = false);

template <typename R, typename... Rest>
uint64_t set_determinism(std::optional<uint64_t> seed, bool use_deterministic_algorithms,
                         R &randomizable, Rest &...rest) {
  uint64_t s = set_determinism(seed, use_deterministic_algorithms);
  randomizable.set_random_state(s);
  (rest.set_random_state(s), ...);
  return s;
}

/// The seed given to the last set_determinism call (nullopt when none or when it was nullopt).
std::optional<uint64_t> determinism_seed();

} // namespace med::engines
