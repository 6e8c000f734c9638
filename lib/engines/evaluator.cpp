// SupervisedEvaluator and EnsembleEvaluator: no-grad evaluation iterations.
#include "med/engines/evaluator.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "med/core/error.h"

namespace med::engines {

namespace {

template <typename O> WorkflowConfig config_of(const O &o, const std::string &owner) {
  if (!o.val_data_loader())
    throw Error(owner + ".val_data_loader", "expected a data source, got none");
  WorkflowConfig c;
  c.device = o.device();
  c.max_epochs = 1;
  c.data = o.val_data_loader();
  c.epoch_length = o.epoch_length();
  c.non_blocking = o.non_blocking();
  c.prepare_batch = o.prepare_batch();
  c.postprocessing = o.postprocessing();
  c.key_metric = o.key_val_metric();
  c.additional_metrics = o.additional_metrics();
  c.metric_cmp_fn = o.metric_cmp_fn();
  c.handlers = o.val_handlers();
  c.amp = o.amp();
  return c;
}

void register_eval_events(Engine &e) {
  e.register_events(
      {IterationEvents::FORWARD_COMPLETED.name(), IterationEvents::MODEL_COMPLETED.name()});
}

// One evaluation pass labelled as epoch `global_epoch`.
void run_as_epoch(Engine &e, int64_t global_epoch, const std::string &owner) {
  if (global_epoch < 1)
    throw Error(owner + ".run.global_epoch", "expected >= 1, got " + std::to_string(global_epoch));
  if (e.state.epoch_length <= 0)
    e.state.epoch_length = e.data.size();
  e.state.max_epochs = global_epoch;
  e.state.epoch = global_epoch - 1;
  e.state.iteration = 0;
  e.run();
}

} // namespace

SupervisedEvaluator::SupervisedEvaluator(Options options)
    : Workflow(config_of(options, "SupervisedEvaluator")), options_(std::move(options)) {
  if (!options_.network())
    throw Error("SupervisedEvaluator.network", "expected a module and a forward callable");
  register_eval_events(*this);
  inferer_ = options_.inferer() ? options_.inferer() : std::make_shared<inferers::SimpleInferer>();
  if (options_.iteration_update())
    set_process([this](Engine &, Data &b) { return options_.iteration_update()(*this, b); });
  else
    set_process([this](Engine &, Data &b) { return default_iteration(b); });
}

void SupervisedEvaluator::run(int64_t global_epoch) {
  run_as_epoch(*this, global_epoch, "SupervisedEvaluator");
}

Output SupervisedEvaluator::default_iteration(Data &batch) {
  auto [inputs, targets] = prepare_batch()(batch, device(), non_blocking());
  state.output.clear();
  state.output[keys::IMAGE] = inputs;
  state.output[keys::LABEL] = targets;
  options_.network().module->eval();
  {
    at::NoGradGuard no_grad;
    AmpGuard amp_guard(amp(), device());
    state.output[keys::PRED] = (*inferer_)(inputs, options_.network().forward);
  }
  fire_event(IterationEvents::FORWARD_COMPLETED);
  fire_event(IterationEvents::MODEL_COMPLETED);
  return state.output;
}

EnsembleEvaluator::EnsembleEvaluator(Options options)
    : Workflow(config_of(options, "EnsembleEvaluator")), options_(std::move(options)) {
  const auto &nets = options_.networks();
  if (nets.empty())
    throw Error("EnsembleEvaluator.networks", "expected at least one network");
  for (size_t i = 0; i < nets.size(); ++i)
    if (!nets[i])
      throw Error("EnsembleEvaluator.networks",
                  "network " + std::to_string(i) + " has no module or forward callable");
  if (options_.pred_keys().empty()) {
    std::vector<std::string> names;
    for (size_t i = 0; i < nets.size(); ++i)
      names.push_back("pred_" + std::to_string(i));
    options_.pred_keys(names);
  }
  if (options_.pred_keys().size() != nets.size())
    throw Error("EnsembleEvaluator.pred_keys", "expected one key per network (" +
                                                   std::to_string(nets.size()) + "), got " +
                                                   std::to_string(options_.pred_keys().size()));
  register_eval_events(*this);
  inferer_ = options_.inferer() ? options_.inferer() : std::make_shared<inferers::SimpleInferer>();
  set_process([this](Engine &, Data &b) { return default_iteration(b); });
}

void EnsembleEvaluator::run(int64_t global_epoch) {
  run_as_epoch(*this, global_epoch, "EnsembleEvaluator");
}

Output EnsembleEvaluator::default_iteration(Data &batch) {
  auto [inputs, targets] = prepare_batch()(batch, device(), non_blocking());
  state.output.clear();
  state.output[keys::IMAGE] = inputs;
  state.output[keys::LABEL] = targets;
  {
    at::NoGradGuard no_grad;
    AmpGuard amp_guard(amp(), device());
    for (size_t i = 0; i < options_.networks().size(); ++i) {
      const Network &net = options_.networks()[i];
      net.module->eval();
      state.output[options_.pred_keys()[i]] = (*inferer_)(inputs, net.forward);
    }
  }
  fire_event(IterationEvents::FORWARD_COMPLETED);
  fire_event(IterationEvents::MODEL_COMPLETED);
  return state.output;
}

} // namespace med::engines
