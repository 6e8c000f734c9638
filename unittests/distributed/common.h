// The model, data and training loop shared by the distributed tests and their worker program.
// The loop itself is plain LibTorch: the test runs it on the whole batch in one process as the
// reference; the worker runs it on a shard with DistributedDataParallel.
#pragma once

#include <torch/torch.h>

#include <functional>

namespace medtest {

constexpr int kSteps = 5;
constexpr int64_t kGlobalBatch = 8;

// A conv + linear net with one registered parameter that forward never uses (exercises the
// "no gradient on any rank" path of the DDP reducer).
struct NetImpl : torch::nn::Module {
  NetImpl() {
    conv = register_module("conv", torch::nn::Conv1d(torch::nn::Conv1dOptions(2, 4, 3).padding(1)));
    fc = register_module("fc", torch::nn::Linear(4 * 8, 3));
    unused = register_module("unused", torch::nn::Linear(3, 3));
  }
  torch::Tensor forward(const torch::Tensor &x) { return fc(torch::tanh(conv(x)).flatten(1)); }
  torch::nn::Conv1d conv{nullptr};
  torch::nn::Linear fc{nullptr}, unused{nullptr};
};
TORCH_MODULE(Net);

inline Net make_net(uint64_t seed) {
  torch::manual_seed(seed);
  Net net;
  net->to(torch::kDouble);
  return net;
}

// The global batch of step `step`: x (8, 2, 8), y (8, 3), float64 so the comparison with the
// single-process run is not limited by float32 summation order.
inline std::pair<torch::Tensor, torch::Tensor> global_batch(int step) {
  torch::manual_seed(1000 + step);
  auto x = torch::randn({kGlobalBatch, 2, 8}, torch::kDouble);
  auto y = torch::randn({kGlobalBatch, 3}, torch::kDouble);
  return {x, y};
}

// Rows [rank * n / world, (rank + 1) * n / world) of the batch.
inline torch::Tensor shard(const torch::Tensor &t, int rank, int world) {
  int64_t n = t.size(0) / world;
  return t.narrow(0, rank * n, n);
}

// kSteps of SGD with momentum on the batches of `rank` of `world`; `micro` > 1 splits each shard
// into micro-batches whose losses are scaled and accumulated. `before_last_backward(true)` is
// called before the backward that should synchronize, `(false)` before the others.
inline void train(Net &net, int rank, int world, int micro,
                  const std::function<void(bool)> &before_backward = nullptr) {
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  for (int s = 0; s < kSteps; ++s) {
    auto [x, y] = global_batch(s);
    x = shard(x, rank, world);
    y = shard(y, rank, world);
    opt.zero_grad();
    for (int m = 0; m < micro; ++m) {
      auto loss = torch::mse_loss(net(shard(x, m, micro)), shard(y, m, micro)) / micro;
      if (before_backward)
        before_backward(m == micro - 1);
      loss.backward();
    }
    opt.step();
  }
}

// Five batches of one-hot-like binary (B, 3, 6, 6) predictions and labels with sizes 2,3,1,2,2.
inline std::vector<std::pair<torch::Tensor, torch::Tensor>> metric_batches() {
  torch::manual_seed(77);
  std::vector<std::pair<torch::Tensor, torch::Tensor>> out;
  for (int64_t b : {2, 3, 1, 2, 2})
    out.emplace_back(torch::randint(0, 2, {b, 3, 6, 6}).to(torch::kFloat),
                     torch::randint(0, 2, {b, 3, 6, 6}).to(torch::kFloat));
  // An item whose class 1 is empty in both: Dice is nan there and skipped by the reduction.
  out[1].first[0][1].zero_();
  out[1].second[0][1].zero_();
  return out;
}

} // namespace medtest
