// Puts a module in eval mode for a scope and restores its previous mode (MONAI's eval_mode).
#pragma once

#include <memory>

#include <torch/nn/module.h>

namespace med::visualize {

class EvalGuard {
public:
  explicit EvalGuard(std::shared_ptr<torch::nn::Module> m) : m_(std::move(m)) {
    if (m_) {
      was_training_ = m_->is_training();
      m_->eval();
    }
  }
  ~EvalGuard() {
    if (m_ && was_training_)
      m_->train(true);
  }
  EvalGuard(const EvalGuard &) = delete;
  EvalGuard &operator=(const EvalGuard &) = delete;

private:
  std::shared_ptr<torch::nn::Module> m_;
  bool was_training_ = false;
};

} // namespace med::visualize
