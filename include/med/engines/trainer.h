// SupervisedTrainer: MONAI's supervised training loop (prepare batch, inferer forward, loss,
// backward, optimizer step) as a Workflow, with gradient accumulation and a replaceable
// iteration.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include <torch/arg.h>
#include <torch/optim/optimizer.h>

#include "med/engines/workflow.h"
#include "med/inferers/inferer.h"

namespace med::engines {

class SupervisedTrainer;

/// Replaces the default iteration: (trainer, batch) -> output.
using TrainerIterationUpdate = std::function<Output(SupervisedTrainer &, Data &batch)>;

/// SupervisedTrainer's arguments (MONAI's names and defaults). `amp` enables CUDA autocast
/// (bfloat16, which needs no loss scaling) for the forward pass and the loss; it has no effect
/// on the CPU. `gradient_accumulation_steps` = n divides the loss by n, zeroes the gradients at
/// the first iteration of each group of n and steps the optimizer at the last one (or at the
/// epoch's last iteration), as MONAI's GradientAccumulation iteration_update does;
/// state.output["loss"] stays the unscaled loss.
///
///   auto trainer = SupervisedTrainer(
///       SupervisedTrainerOptions(/*max_epochs=*/5, batches, net, opt, DiceLoss())
///           .device(torch::kCUDA).key_train_metric({{"train_dice", dice_handler}})
///           .train_handlers({stats, checkpoint}));
///   trainer.run();
struct SupervisedTrainerOptions {
  SupervisedTrainerOptions(int64_t max_epochs, DataSource train_data_loader, Network network,
                           std::shared_ptr<torch::optim::Optimizer> optimizer,
                           LossFunction loss_function)
      : max_epochs_(max_epochs), train_data_loader_(std::move(train_data_loader)),
        network_(std::move(network)), optimizer_(std::move(optimizer)),
        loss_function_(std::move(loss_function)) {}
  TORCH_ARG(c10::Device, device) = c10::kCPU;
  TORCH_ARG(int64_t, max_epochs);
  TORCH_ARG(DataSource, train_data_loader);
  TORCH_ARG(Network, network);
  TORCH_ARG(std::shared_ptr<torch::optim::Optimizer>, optimizer);
  TORCH_ARG(LossFunction, loss_function);
  /// Iterations per epoch; <= 0 means the data source's size.
  TORCH_ARG(int64_t, epoch_length) = -1;
  TORCH_ARG(bool, non_blocking) = false;
  TORCH_ARG(PrepareBatch, prepare_batch) = default_prepare_batch;
  TORCH_ARG(TrainerIterationUpdate, iteration_update) = nullptr;
  /// nullptr: SimpleInferer.
  TORCH_ARG(std::shared_ptr<inferers::Inferer>, inferer) = nullptr;
  TORCH_ARG(Postprocessing, postprocessing) = nullptr;
  TORCH_ARG(MetricMap, key_train_metric) = {};
  TORCH_ARG(MetricMap, additional_metrics) = {};
  TORCH_ARG(MetricCmpFn, metric_cmp_fn) = default_metric_cmp_fn;
  TORCH_ARG(std::vector<std::shared_ptr<Handler>>, train_handlers) = {};
  TORCH_ARG(bool, amp) = false;
  /// Reset gradients to undefined instead of zero tensors.
  TORCH_ARG(bool, optim_set_to_none) = false;
  TORCH_ARG(int64_t, gradient_accumulation_steps) = 1;
};

/// The trainer. Each iteration: prepare_batch -> inputs, targets; network.train();
/// zero_grad; pred = inferer(inputs, network) [FORWARD_COMPLETED]; loss = loss_function(pred,
/// targets) [LOSS_COMPLETED]; loss.backward() [BACKWARD_COMPLETED]; optimizer step
/// [MODEL_COMPLETED]. state.output holds "image", "label", "pred" (detached) and "loss"
/// (detached scalar).
class SupervisedTrainer : public Workflow {
public:
  using Options = SupervisedTrainerOptions;
  explicit SupervisedTrainer(Options options);

  /// The built-in iteration (what iteration_update replaces); custom iterations may call it.
  Output default_iteration(Data &batch);
  /// One step with explicit control, for custom iterations: the loss is multiplied by
  /// `loss_scale` before backward; gradients are zeroed first when `zero_grad`; the optimizer
  /// steps when `step`.
  Output train_step(Data &batch, bool zero_grad, bool step, double loss_scale = 1.0);

  const Options &options() const { return options_; }
  Network &network() { return options_.network(); }
  torch::optim::Optimizer &optimizer() { return *options_.optimizer(); }

private:
  Options options_;
  std::shared_ptr<inferers::Inferer> inferer_;
  inferers::Predictor predictor_;
};

/// Zeroes every parameter gradient of `optimizer` (to undefined when `set_to_none`).
void zero_grad(torch::optim::Optimizer &optimizer, bool set_to_none);

} // namespace med::engines
