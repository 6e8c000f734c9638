// all_gather_tensors (variable first dimension) and the metric-buffer gather built on it.
#include "med/distributed/gather.h"

#include <ATen/ATen.h>

#include "med/core/error.h"
#include "med/metrics/metric.h"
#include "state.h"

namespace med::distributed {

namespace {
constexpr int64_t kMaxDims = 16;

ProcessGroup orDefault(ProcessGroup group) { return group.valid() ? group : default_group(); }

// Gathers one int64 vector of fixed length from every rank: (world, n).
at::Tensor gatherInts(const at::Tensor &mine, const ProcessGroup &g, const std::string &what) {
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < g.world_size(); ++r)
    out[0].push_back(at::empty_like(mine));
  std::vector<at::Tensor> in{mine};
  detail::wait(g.c10d().allgather(out, in), what);
  return at::stack(out[0]);
}
} // namespace

std::vector<at::Tensor> all_gather_tensors(const at::Tensor &tensor, ProcessGroup group) {
  const std::string owner = "all_gather_tensors";
  if (tensor.defined() && tensor.dim() == 0)
    throw Error(owner + ".tensor", "expected at least one dimension (items first), got a scalar");
  if (tensor.defined() && tensor.dim() > kMaxDims)
    throw Error(owner + ".tensor", "expected at most 16 dimensions");
  if (!group.valid() && !is_initialized()) {
    if (!tensor.defined())
      throw Error(owner + ".tensor", "undefined tensor and no other rank to take the shape from");
    return {tensor};
  }
  ProcessGroup g = orDefault(group);
  if (tensor.defined() && !tensor.device().is_cpu() && g.backend() == "gloo")
    throw Error(owner + ".tensor",
                "the gloo backend gathers CPU tensors; got a tensor on " + tensor.device().str());

  // Header per rank: [defined, dtype, ndim, sizes...].
  at::Tensor head = at::zeros({3 + kMaxDims}, at::kLong);
  if (tensor.defined()) {
    auto h = head.accessor<int64_t, 1>();
    h[0] = 1;
    h[1] = int64_t(tensor.scalar_type());
    h[2] = tensor.dim();
    for (int64_t d = 0; d < tensor.dim(); ++d)
      h[3 + d] = tensor.size(d);
  }
  at::Tensor heads = gatherInts(head, g, owner);
  auto H = heads.accessor<int64_t, 2>();
  const int world = g.world_size();
  int ref = -1;
  for (int r = 0; r < world && ref < 0; ++r)
    if (H[r][0])
      ref = r;
  if (ref < 0)
    throw Error(owner + ".tensor", "undefined on every rank; nothing to gather");
  int64_t maxRows = 0;
  for (int r = 0; r < world; ++r) {
    if (!H[r][0])
      continue;
    bool same = H[r][1] == H[ref][1] && H[r][2] == H[ref][2];
    for (int64_t d = 1; same && d < H[ref][2]; ++d)
      same = H[r][3 + d] == H[ref][3 + d];
    if (!same)
      throw Error(owner + ".tensor",
                  "ranks disagree on dtype or on the dimensions after the first (rank " +
                      std::to_string(ref) + " vs rank " + std::to_string(r) +
                      "); only the first dimension may differ");
    maxRows = std::max(maxRows, H[r][3]);
  }
  const auto dtype = at::ScalarType(H[ref][1]);
  std::vector<int64_t> shape(H[ref][2]);
  for (size_t d = 0; d < shape.size(); ++d)
    shape[d] = H[ref][3 + d];
  auto rowsOf = [&](int r) { return H[r][0] ? H[r][3] : int64_t(0); };

  // Bool is carried as uint8 (Gloo has no bool reduction type).
  const auto wire = dtype == at::kBool ? at::kByte : dtype;
  shape[0] = maxRows;
  at::Tensor padded = at::zeros(shape, at::TensorOptions().dtype(wire));
  if (tensor.defined() && tensor.size(0) > 0)
    padded.narrow(0, 0, tensor.size(0)).copy_(tensor.detach().cpu().to(wire));
  std::vector<at::Tensor> parts;
  if (maxRows > 0) {
    std::vector<std::vector<at::Tensor>> out(1);
    for (int r = 0; r < world; ++r)
      out[0].push_back(at::empty_like(padded));
    std::vector<at::Tensor> in{padded};
    detail::wait(g.c10d().allgather(out, in), owner);
    parts = out[0];
  } else {
    parts.assign(world, padded);
  }
  std::vector<at::Tensor> result;
  for (int r = 0; r < world; ++r)
    result.push_back(parts[r].narrow(0, 0, rowsOf(r)).to(dtype).clone());
  return result;
}

at::Tensor evenly_divisible_all_gather(const at::Tensor &tensor, ProcessGroup group) {
  return at::cat(all_gather_tensors(tensor, group), 0);
}

void all_gather_metric(med::metrics::CumulativeIterationMetric &metric, ProcessGroup group) {
  if (!group.valid() && !is_initialized())
    return; // one process already holds everything
  ProcessGroup g = orDefault(group);
  std::vector<at::Tensor> mine;
  try {
    mine = metric.get_buffers();
  } catch (const Error &) {
    // Nothing accumulated on this rank: take part with empty buffers.
  }
  // Ranks agree on the number of buffers first (0 on a rank that saw no batch).
  at::Tensor count = at::full({1}, int64_t(mine.size()), at::kLong);
  at::Tensor counts = gatherInts(count, g, metric.name() + ".all_gather");
  const int64_t n = counts.max().item<int64_t>();
  for (int r = 0; r < g.world_size(); ++r)
    if (counts[r].item<int64_t>() != 0 && counts[r].item<int64_t>() != n)
      throw Error(metric.name() + ".all_gather",
                  "ranks hold different numbers of buffers; was the same metric used?");
  if (n == 0)
    return; // no rank saw a batch
  std::vector<std::vector<at::Tensor>> merged;
  for (int64_t i = 0; i < n; ++i) {
    at::Tensor part = mine.empty() ? at::Tensor() : mine[i];
    merged.push_back({evenly_divisible_all_gather(part, g)});
  }
  metric.set_buffers(std::move(merged));
}

} // namespace med::distributed
