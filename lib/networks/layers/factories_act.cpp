// Act factory (factories.h): PyTorch activations plus MONAI's Swish, MemSwish and GEGLU.
#include <torch/nn/functional/activation.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/pimpl.h>

#include "args.h"

namespace med::networks::layers {

namespace {

/// MONAI's Swish: x * sigmoid(alpha * x).
class SwishImpl : public torch::nn::Module {
public:
  explicit SwishImpl(double alpha) : alpha_(alpha) {}
  at::Tensor forward(const at::Tensor &x) { return x * at::sigmoid(alpha_ * x); }

private:
  double alpha_;
};
TORCH_MODULE(Swish);

/// MONAI's MemSwish: x * sigmoid(x) (MONAI saves memory in backward; the values are the same).
class MemSwishImpl : public torch::nn::Module {
public:
  at::Tensor forward(const at::Tensor &x) { return x * at::sigmoid(x); }
};
TORCH_MODULE(MemSwish);

/// MONAI's GEGLU: the last axis is split in halves (x, gate) and x * gelu(gate) returned.
class GEGLUImpl : public torch::nn::Module {
public:
  at::Tensor forward(const at::Tensor &x) {
    if (x.dim() < 1 || x.size(-1) % 2 != 0)
      throw Error("GEGLU", "expected an even size along the last axis");
    auto halves = x.chunk(2, -1);
    return halves[0] * at::gelu(halves[1]);
  }
};
TORCH_MODULE(GEGLU);

torch::nn::AnyModule make(const std::string &n, detail::ArgReader &a) {
  namespace nn = torch::nn;
  if (n == "ELU")
    return nn::AnyModule(
        nn::ELU(nn::ELUOptions().alpha(a.real("alpha", 1.0)).inplace(a.flag("inplace", false))));
  if (n == "RELU")
    return nn::AnyModule(nn::ReLU(nn::ReLUOptions(a.flag("inplace", false))));
  if (n == "LEAKYRELU")
    return nn::AnyModule(nn::LeakyReLU(nn::LeakyReLUOptions()
                                           .negative_slope(a.real("negative_slope", 0.01))
                                           .inplace(a.flag("inplace", false))));
  if (n == "PRELU")
    return nn::AnyModule(nn::PReLU(nn::PReLUOptions()
                                       .num_parameters(a.integer("num_parameters", 1))
                                       .init(a.real("init", 0.25))));
  if (n == "RELU6")
    return nn::AnyModule(nn::ReLU6(nn::ReLU6Options(a.flag("inplace", false))));
  if (n == "SELU")
    return nn::AnyModule(nn::SELU(nn::SELUOptions(a.flag("inplace", false))));
  if (n == "CELU")
    return nn::AnyModule(
        nn::CELU(nn::CELUOptions().alpha(a.real("alpha", 1.0)).inplace(a.flag("inplace", false))));
  if (n == "GELU")
    return nn::AnyModule(nn::GELU(nn::GELUOptions().approximate(a.str("approximate", "none"))));
  if (n == "SIGMOID")
    return nn::AnyModule(nn::Sigmoid());
  if (n == "TANH")
    return nn::AnyModule(nn::Tanh());
  if (n == "SOFTMAX")
    return nn::AnyModule(nn::Softmax(nn::SoftmaxOptions(a.integer("dim", 1))));
  if (n == "LOGSOFTMAX")
    return nn::AnyModule(nn::LogSoftmax(nn::LogSoftmaxOptions(a.integer("dim", 1))));
  if (n == "SWISH")
    return nn::AnyModule(Swish(a.real("alpha", 1.0)));
  if (n == "MEMSWISH") {
    a.flag("inplace", false); // accepted as MONAI does; the result is the same
    return nn::AnyModule(MemSwish());
  }
  if (n == "MISH") {
    a.flag("inplace", false);
    return nn::AnyModule(nn::Mish());
  }
  if (n == "GEGLU")
    return nn::AnyModule(GEGLU());
  throw Error("Act.name", "unknown activation \"" + n +
                              "\"; expected one of ELU, RELU, LEAKYRELU, PRELU, RELU6, SELU, "
                              "CELU, GELU, SIGMOID, TANH, SOFTMAX, LOGSOFTMAX, SWISH, MEMSWISH, "
                              "MISH, GEGLU");
}

} // namespace

torch::nn::AnyModule act(const LayerSpec &spec) {
  std::string n = detail::upper(spec.name);
  detail::ArgReader a("Act[" + n + "]", spec.args);
  torch::nn::AnyModule m = make(n, a);
  a.finish();
  return m;
}

} // namespace med::networks::layers
