// SupervisedEvaluator and EnsembleEvaluator: MONAI's validation loops (eval mode, no
// gradients, inferer forward, postprocessing, metrics), usually run by a ValidationHandler
// attached to a trainer.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/arg.h>

#include "med/engines/workflow.h"
#include "med/inferers/inferer.h"

namespace med::engines {

class SupervisedEvaluator;
class EnsembleEvaluator;

/// SupervisedEvaluator's arguments (MONAI's names and defaults; `amp` as in the trainer).
///
///   SupervisedEvaluator eval(SupervisedEvaluatorOptions(val_batches, net)
///       .inferer(std::make_shared<SlidingWindowInferer>(SlidingWindowInfererOptions({96, 96,
///       96}))) .postprocessing(threshold) .key_val_metric({{"val_mean_dice",
///       std::make_shared<med::handlers::MeanDice>()}}));
///   eval.run();
struct SupervisedEvaluatorOptions {
  SupervisedEvaluatorOptions(DataSource val_data_loader, Network network)
      : val_data_loader_(std::move(val_data_loader)), network_(std::move(network)) {}
  TORCH_ARG(c10::Device, device) = c10::kCPU;
  TORCH_ARG(DataSource, val_data_loader);
  TORCH_ARG(Network, network);
  TORCH_ARG(int64_t, epoch_length) = -1;
  TORCH_ARG(bool, non_blocking) = false;
  TORCH_ARG(PrepareBatch, prepare_batch) = default_prepare_batch;
  TORCH_ARG(std::function<Output(SupervisedEvaluator &, Data &)>, iteration_update) = nullptr;
  TORCH_ARG(std::shared_ptr<inferers::Inferer>, inferer) = nullptr;
  TORCH_ARG(Postprocessing, postprocessing) = nullptr;
  TORCH_ARG(MetricMap, key_val_metric) = {};
  TORCH_ARG(MetricMap, additional_metrics) = {};
  TORCH_ARG(MetricCmpFn, metric_cmp_fn) = default_metric_cmp_fn;
  TORCH_ARG(std::vector<std::shared_ptr<Handler>>, val_handlers) = {};
  TORCH_ARG(bool, amp) = false;
};

/// Evaluates one network: per iteration prepare_batch, network.eval(), no-grad
/// pred = inferer(inputs, network) [FORWARD_COMPLETED, MODEL_COMPLETED]; state.output holds
/// "image", "label", "pred".
class SupervisedEvaluator : public Workflow {
public:
  using Options = SupervisedEvaluatorOptions;
  explicit SupervisedEvaluator(Options options);

  /// One validation pass labelled with the trainer's epoch (MONAI's run(global_epoch)): the
  /// pass runs as epoch `global_epoch` (so handlers log it under that epoch) from iteration 0.
  void run(int64_t global_epoch);
  using Engine::run;
  Output default_iteration(Data &batch);
  const Options &options() const { return options_; }

private:
  Options options_;
  std::shared_ptr<inferers::Inferer> inferer_;
};

/// EnsembleEvaluator's arguments: several networks, one prediction key each (default "pred_0",
/// "pred_1", ...); a postprocessing step usually combines them (e.g. a mean into "pred").
struct EnsembleEvaluatorOptions {
  EnsembleEvaluatorOptions(DataSource val_data_loader, std::vector<Network> networks)
      : val_data_loader_(std::move(val_data_loader)), networks_(std::move(networks)) {}
  TORCH_ARG(c10::Device, device) = c10::kCPU;
  TORCH_ARG(DataSource, val_data_loader);
  TORCH_ARG(std::vector<Network>, networks);
  TORCH_ARG(std::vector<std::string>, pred_keys) = {};
  TORCH_ARG(int64_t, epoch_length) = -1;
  TORCH_ARG(bool, non_blocking) = false;
  TORCH_ARG(PrepareBatch, prepare_batch) = default_prepare_batch;
  TORCH_ARG(std::shared_ptr<inferers::Inferer>, inferer) = nullptr;
  TORCH_ARG(Postprocessing, postprocessing) = nullptr;
  TORCH_ARG(MetricMap, key_val_metric) = {};
  TORCH_ARG(MetricMap, additional_metrics) = {};
  TORCH_ARG(MetricCmpFn, metric_cmp_fn) = default_metric_cmp_fn;
  TORCH_ARG(std::vector<std::shared_ptr<Handler>>, val_handlers) = {};
  TORCH_ARG(bool, amp) = false;
};

/// Evaluates several networks on the same batches; state.output holds "image", "label" and
/// one prediction per pred_key.
///
///   EnsembleEvaluator ens(EnsembleEvaluatorOptions(val_batches, {net_a, net_b})
///       .postprocessing([](Output o) { o["pred"] = (o["pred_0"] + o["pred_1"]) / 2; return o; }));
class EnsembleEvaluator : public Workflow {
public:
  using Options = EnsembleEvaluatorOptions;
  explicit EnsembleEvaluator(Options options);
  /// As SupervisedEvaluator::run(global_epoch).
  void run(int64_t global_epoch);
  using Engine::run;
  Output default_iteration(Data &batch);
  const Options &options() const { return options_; }

private:
  Options options_;
  std::shared_ptr<inferers::Inferer> inferer_;
};

} // namespace med::engines
