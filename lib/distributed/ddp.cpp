// DistributedDataParallel: parameter broadcast, bucketed gradient all-reduce from autograd hooks.
#include "med/distributed/ddp.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/engine.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <map>
#include <mutex>

#include "med/core/error.h"
#include "state.h"

namespace med::distributed {

namespace {
const char *kOwner = "DistributedDataParallel";

// Broadcasts `tensors` from rank 0, one flat tensor per (dtype, device) so few collectives run.
void broadcastFromRoot(const std::vector<at::Tensor> &tensors, const ProcessGroup &group) {
  std::map<std::pair<int, std::string>, std::vector<at::Tensor>> byKind;
  for (const auto &t : tensors)
    byKind[{int(t.scalar_type()), t.device().str()}].push_back(t);
  at::NoGradGuard noGrad;
  for (auto &[kind, list] : byKind) {
    std::vector<at::Tensor> flat;
    for (const auto &t : list)
      flat.push_back(t.detach().reshape({-1}));
    std::vector<at::Tensor> one{at::cat(flat)};
    detail::wait(group.c10d().broadcast(one), std::string(kOwner) + ".broadcast");
    int64_t off = 0;
    for (auto &t : list) {
      t.detach().copy_(one[0].narrow(0, off, t.numel()).view_as(t));
      off += t.numel();
    }
  }
}
} // namespace

struct DistributedDataParallel::Impl : std::enable_shared_from_this<Impl> {
  struct Bucket {
    std::vector<size_t> params;
    std::vector<int64_t> offsets;
    at::Tensor flat;
    size_t pending = 0;
    c10::intrusive_ptr<c10d::Work> work;
  };

  std::shared_ptr<torch::nn::Module> module;
  DistributedDataParallelOptions options;
  ProcessGroup group;
  std::vector<at::Tensor> params;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators;
  std::vector<uintptr_t> hookKeys;
  std::vector<size_t> bucketOf, slotOf;
  std::vector<bool> ready;
  std::vector<Bucket> buckets;
  size_t nextToLaunch = 0;
  bool active = false;
  bool requireSync = true;
  std::recursive_mutex mu;

  void buildBuckets() {
    const double cap = options.bucket_cap_mb() * 1024.0 * 1024.0;
    bucketOf.assign(params.size(), 0);
    slotOf.assign(params.size(), 0);
    for (size_t k = params.size(); k-- > 0;) { // reverse registration order
      const at::Tensor &p = params[k];
      bool fresh = buckets.empty();
      if (!fresh) {
        const Bucket &b = buckets.back();
        const at::Tensor &first = params[b.params.front()];
        int64_t bytes = (b.offsets.back() + p.numel()) * int64_t(p.element_size());
        fresh = first.scalar_type() != p.scalar_type() || first.device() != p.device() ||
                double(bytes) > cap;
      }
      if (fresh)
        buckets.emplace_back().offsets.push_back(0);
      Bucket &b = buckets.back();
      bucketOf[k] = buckets.size() - 1;
      slotOf[k] = b.params.size();
      b.params.push_back(k);
      b.offsets.push_back(b.offsets.back() + p.numel());
    }
    for (auto &b : buckets)
      b.flat = at::zeros({b.offsets.back()}, params[b.params.front()].options());
  }

  at::Tensor slot(size_t k) {
    Bucket &b = buckets[bucketOf[k]];
    int64_t off = b.offsets[slotOf[k]];
    return b.flat.narrow(0, off, params[k].numel()).view_as(params[k]);
  }

  void startRound() {
    active = true;
    ready.assign(params.size(), false);
    for (auto &b : buckets) {
      b.pending = b.params.size();
      b.work.reset();
    }
    nextToLaunch = 0;
    std::weak_ptr<Impl> weak = weak_from_this();
    torch::autograd::Engine::get_default_engine().queue_callback([weak] {
      if (auto self = weak.lock())
        self->finish();
    });
  }

  void launch(Bucket &b) {
    b.flat.div_(group.world_size());
    std::vector<at::Tensor> one{b.flat};
    b.work = group.c10d().allreduce(one);
  }

  // Launches buckets strictly in index order so every rank issues the same collective sequence.
  void launchReady() {
    while (nextToLaunch < buckets.size() && buckets[nextToLaunch].pending == 0)
      launch(buckets[nextToLaunch++]);
  }

  void onGradReady(size_t k) {
    std::lock_guard<std::recursive_mutex> lock(mu);
    if (!requireSync)
      return;
    if (!active)
      startRound();
    const at::Tensor &g = params[k].grad();
    if (!g.defined())
      return;
    if (g.is_sparse())
      throw Error(kOwner, "sparse gradients are not supported");
    at::NoGradGuard noGrad;
    if (bucketOf[k] < nextToLaunch) // already sent: a second backward in one round
      throw Error(kOwner, "parameter " + std::to_string(k) +
                              " received a gradient after its bucket was all-reduced; run one "
                              "backward per synchronization (use "
                              "set_require_backward_grad_sync(false) to accumulate)");
    slot(k).copy_(g);
    if (!ready[k]) {
      ready[k] = true;
      --buckets[bucketOf[k]].pending;
    }
    launchReady();
  }

  void finish() {
    std::lock_guard<std::recursive_mutex> lock(mu);
    if (!active)
      return;
    active = false;
    at::NoGradGuard noGrad;
    for (size_t k = 0; k < params.size(); ++k)
      if (!ready[k]) { // no local gradient: contribute zeros
        slot(k).zero_();
        ready[k] = true;
        --buckets[bucketOf[k]].pending;
      }
    launchReady();
    for (auto &b : buckets)
      detail::wait(b.work, std::string(kOwner) + ".allreduce");
    for (size_t k = 0; k < params.size(); ++k) {
      at::Tensor &p = params[k];
      if (p.grad().defined())
        p.mutable_grad().copy_(slot(k));
      else
        p.mutable_grad() = slot(k).clone();
    }
  }
};

DistributedDataParallel::DistributedDataParallel(std::shared_ptr<torch::nn::Module> module,
                                                 DistributedDataParallelOptions options,
                                                 ProcessGroup group)
    : impl_(std::make_shared<Impl>()) {
  if (!module)
    throw Error(std::string(kOwner) + ".module", "expected a module, got nullptr");
  if (!(options.bucket_cap_mb() > 0))
    throw Error(std::string(kOwner) + ".bucket_cap_mb",
                "expected a positive size in megabytes, got " +
                    std::to_string(options.bucket_cap_mb()));
  Impl &im = *impl_;
  im.module = std::move(module);
  im.options = options;
  im.group = group.valid() ? group : default_group();

  std::vector<at::Tensor> all = im.module->parameters();
  for (const auto &b : im.module->buffers())
    all.push_back(b);
  broadcastFromRoot(all, im.group);

  for (auto &p : im.module->parameters())
    if (p.requires_grad())
      im.params.push_back(p);
  im.buildBuckets();
  std::weak_ptr<Impl> weak = impl_;
  for (size_t k = 0; k < im.params.size(); ++k) {
    auto acc = torch::autograd::impl::grad_accumulator(im.params[k]);
    auto hook = std::make_unique<torch::autograd::utils::LambdaPostHook>(
        [weak, k](const torch::autograd::variable_list &outputs,
                  const torch::autograd::variable_list &) {
          if (auto self = weak.lock())
            self->onGradReady(k);
          return outputs;
        });
    im.hookKeys.push_back(acc->add_post_hook(std::move(hook)));
    im.accumulators.push_back(std::move(acc));
  }
}

DistributedDataParallel::~DistributedDataParallel() {
  for (size_t k = 0; k < impl_->accumulators.size(); ++k)
    impl_->accumulators[k]->del_post_hook(impl_->hookKeys[k]);
}

torch::nn::Module &DistributedDataParallel::module() const { return *impl_->module; }

void DistributedDataParallel::sync_buffers() {
  if (!impl_->options.broadcast_buffers())
    return;
  std::vector<at::Tensor> buffers = impl_->module->buffers();
  if (!buffers.empty())
    broadcastFromRoot(buffers, impl_->group);
}

void DistributedDataParallel::finish_gradient_sync() { impl_->finish(); }

void DistributedDataParallel::set_require_backward_grad_sync(bool sync) {
  std::lock_guard<std::recursive_mutex> lock(impl_->mu);
  impl_->requireSync = sync;
}

size_t DistributedDataParallel::num_buckets() const { return impl_->buckets.size(); }

} // namespace med::distributed
