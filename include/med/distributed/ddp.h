// Data-parallel training: every rank holds a replica of the model, trains on its own shard of the
// batch, and averages gradients with the others during backward, so all replicas take the same
// optimizer step (torch.nn.parallel.DistributedDataParallel, for the LibTorch C++ frontend).
#pragma once

#include <memory>

#include <torch/arg.h>
#include <torch/nn/module.h>

#include "med/distributed/process_group.h"

namespace med::distributed {

/// Options of DistributedDataParallel (torch's names and defaults).
struct DistributedDataParallelOptions {
  /// Gradients are packed into buckets of about this many megabytes; a bucket is all-reduced as
  /// soon as all of its gradients are ready, while backward goes on computing the others.
  TORCH_ARG(double, bucket_cap_mb) = 25.0;
  /// Copy rank 0's buffers (e.g. BatchNorm running statistics) to every rank in
  /// sync_buffers(), which forward-time code calls before each forward.
  TORCH_ARG(bool, broadcast_buffers) = true;
};

/// Wraps a module for data-parallel training. Construction broadcasts rank 0's parameters and
/// buffers so every replica starts equal. Hooks on each parameter's gradient accumulator copy
/// the fresh gradient into its bucket (buckets follow the reverse of parameters() order, which is
/// roughly the order backward produces them); full buckets are all-reduced asynchronously, in
/// bucket order on every rank. At the end of backward an autograd engine callback waits for all
/// buckets and writes the averaged gradients into `.grad`, so the loop needs no extra call;
/// finish_gradient_sync() does the same explicitly and is a no-op when already done (call it
/// before the optimizer step if gradients are produced outside a normal backward).
/// Parameters that got no gradient on any rank are given a zero gradient, so every replica ends
/// the step with identical `.grad` (mind weight decay on such parameters).
///
///   med::distributed::init_process_group();
///   auto net = torch::nn::Linear(8, 2);
///   med::distributed::DistributedDataParallel ddp(net.ptr());
///   torch::optim::SGD opt(net->parameters(), 0.1);
///   for (auto &[x, y] : my_shard) {
///     opt.zero_grad();
///     ddp.sync_buffers();
///     torch::mse_loss(net(x), y).backward();   // gradients are averaged across ranks here
///     opt.step();
///   }
class DistributedDataParallel {
public:
  explicit DistributedDataParallel(std::shared_ptr<torch::nn::Module> module,
                                   DistributedDataParallelOptions options = {},
                                   ProcessGroup group = {});
  ~DistributedDataParallel();
  DistributedDataParallel(const DistributedDataParallel &) = delete;
  DistributedDataParallel &operator=(const DistributedDataParallel &) = delete;

  /// The wrapped module (call its forward as usual).
  torch::nn::Module &module() const;
  /// Broadcasts rank 0's buffers when broadcast_buffers is set; call before each forward.
  void sync_buffers();
  /// Waits for every bucket and stores the averaged gradients in `.grad`. Automatic at the end
  /// of backward; calling it again (or with no backward since the last sync) does nothing.
  void finish_gradient_sync();
  /// When false, backward leaves local gradients alone (gradient accumulation over several
  /// micro-batches); set it back to true for the backward that should synchronize.
  void set_require_backward_grad_sync(bool sync);
  /// Number of gradient buckets (depends on bucket_cap_mb and the parameter sizes).
  size_t num_buckets() const;

  struct Impl;

private:
  std::shared_ptr<Impl> impl_;
};

} // namespace med::distributed
