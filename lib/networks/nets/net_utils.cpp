// Shared architecture pieces (net_utils.h).
#include "net_utils.h"

#include <torch/nn/init.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "med/networks/layers/factories.h"

namespace med::networks::nets::detail {

namespace nn = torch::nn;

nn::AnyModule biasFreeConv(int64_t dims, int64_t in, int64_t out, int64_t kernel, int64_t stride) {
  return layers::conv({"CONV",
                       {{"in_channels", in},
                        {"out_channels", out},
                        {"kernel_size", kernel},
                        {"stride", stride},
                        {"padding", kernel / 2},
                        {"bias", false}}},
                      dims);
}

void initClassifierWeights(nn::Module &net) {
  for (const auto &m : net.modules(/*include_self=*/false)) {
    at::Tensor w, b;
    if (auto *c3 = m->as<nn::Conv3dImpl>())
      nn::init::kaiming_normal_(c3->weight);
    else if (auto *c2 = m->as<nn::Conv2dImpl>())
      nn::init::kaiming_normal_(c2->weight);
    else if (auto *c1 = m->as<nn::Conv1dImpl>())
      nn::init::kaiming_normal_(c1->weight);
    else if (auto *lin = m->as<nn::LinearImpl>())
      nn::init::zeros_(lin->bias);
    else if (auto *n3 = m->as<nn::BatchNorm3dImpl>())
      w = n3->weight, b = n3->bias;
    else if (auto *n2 = m->as<nn::BatchNorm2dImpl>())
      w = n2->weight, b = n2->bias;
    else if (auto *n1 = m->as<nn::BatchNorm1dImpl>())
      w = n1->weight, b = n1->bias;
    if (w.defined())
      nn::init::ones_(w);
    if (b.defined())
      nn::init::zeros_(b);
  }
}

} // namespace med::networks::nets::detail
