// SupervisedTrainer: the supervised training iteration and gradient accumulation.
#include "med/engines/trainer.h"

#include <ATen/ATen.h>

#include "med/core/error.h"

namespace med::engines {

namespace {

WorkflowConfig config_of(const SupervisedTrainerOptions &o) {
  if (!o.network())
    throw Error("SupervisedTrainer.network", "expected a module and a forward callable");
  if (!o.optimizer())
    throw Error("SupervisedTrainer.optimizer", "expected an optimizer, got nullptr");
  if (!o.loss_function())
    throw Error("SupervisedTrainer.loss_function", "expected a callable loss, got none");
  if (!o.train_data_loader())
    throw Error("SupervisedTrainer.train_data_loader", "expected a data source, got none");
  if (o.gradient_accumulation_steps() < 1)
    throw Error("SupervisedTrainer.gradient_accumulation_steps",
                "expected >= 1, got " + std::to_string(o.gradient_accumulation_steps()));
  WorkflowConfig c;
  c.device = o.device();
  c.max_epochs = o.max_epochs();
  c.data = o.train_data_loader();
  c.epoch_length = o.epoch_length();
  c.non_blocking = o.non_blocking();
  c.prepare_batch = o.prepare_batch();
  c.postprocessing = o.postprocessing();
  c.key_metric = o.key_train_metric();
  c.additional_metrics = o.additional_metrics();
  c.metric_cmp_fn = o.metric_cmp_fn();
  c.handlers = o.train_handlers();
  c.amp = o.amp();
  return c;
}

} // namespace

void zero_grad(torch::optim::Optimizer &optimizer, bool set_to_none) {
  for (auto &group : optimizer.param_groups())
    for (auto &p : group.params()) {
      if (!p.grad().defined())
        continue;
      if (set_to_none) {
        p.mutable_grad() = at::Tensor();
      } else {
        p.mutable_grad().detach_();
        p.mutable_grad().zero_();
      }
    }
}

SupervisedTrainer::SupervisedTrainer(Options options)
    : Workflow(config_of(options)), options_(std::move(options)) {
  register_events(
      {IterationEvents::FORWARD_COMPLETED.name(), IterationEvents::LOSS_COMPLETED.name(),
       IterationEvents::BACKWARD_COMPLETED.name(), IterationEvents::MODEL_COMPLETED.name()});
  inferer_ = options_.inferer() ? options_.inferer() : std::make_shared<inferers::SimpleInferer>();
  predictor_ = options_.network().forward;
  if (options_.iteration_update()) {
    set_process(
        [this](Engine &, Data &batch) { return options_.iteration_update()(*this, batch); });
  } else {
    set_process([this](Engine &, Data &batch) { return default_iteration(batch); });
  }
}

Output SupervisedTrainer::default_iteration(Data &batch) {
  const int64_t n = options_.gradient_accumulation_steps();
  if (n == 1)
    return train_step(batch, true, true, 1.0);
  // Position inside the epoch (0-based), so groups restart with each epoch.
  const int64_t k = (state.iteration - 1) % state.epoch_length;
  const bool first = k % n == 0;
  const bool last = (k + 1) % n == 0 || k + 1 == state.epoch_length;
  return train_step(batch, first, last, 1.0 / static_cast<double>(n));
}

Output SupervisedTrainer::train_step(Data &batch, bool zero, bool step, double loss_scale) {
  auto [inputs, targets] = prepare_batch()(batch, device(), non_blocking());
  state.output.clear();
  state.output[keys::IMAGE] = inputs;
  state.output[keys::LABEL] = targets;
  options_.network().module->train();
  if (zero)
    zero_grad(*options_.optimizer(), options_.optim_set_to_none());
  at::Tensor loss;
  {
    AmpGuard amp_guard(amp(), device());
    state.output[keys::PRED] = (*inferer_)(inputs, predictor_);
    fire_event(IterationEvents::FORWARD_COMPLETED);
    loss = options_.loss_function()(state.output[keys::PRED], targets);
    if (loss.numel() != 1)
      throw Error("SupervisedTrainer.loss_function",
                  "expected a scalar loss, got " + std::to_string(loss.numel()) +
                      " elements (use reduction \"mean\" or \"sum\")");
    state.output[keys::LOSS] = loss;
    fire_event(IterationEvents::LOSS_COMPLETED);
  }
  if (loss_scale != 1.0)
    (loss * loss_scale).backward();
  else
    loss.backward();
  state.output[keys::LOSS] = loss.detach();
  state.output[keys::PRED] = state.output[keys::PRED].detach();
  fire_event(IterationEvents::BACKWARD_COMPLETED);
  if (step)
    options_.optimizer()->step();
  fire_event(IterationEvents::MODEL_COMPLETED);
  return state.output;
}

} // namespace med::engines
