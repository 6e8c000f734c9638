// init_process_group and friends: environment parsing, TCPStore rendezvous, Gloo/NCCL groups.
#include "state.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#include <torch/cuda.h>

#include <cstdlib>
#include <mutex>

#include "med/core/error.h"

namespace med::distributed {

namespace {

const char *kOwner = "init_process_group";

std::mutex gMutex;
std::shared_ptr<ProcessGroup::State> gDefault;

// An integer from the option, else from the environment variable `name`.
int intFrom(int value, const char *name, bool required, int fallback) {
  if (value >= 0)
    return value;
  const char *env = std::getenv(name);
  if (!env || !*env) {
    if (required)
      throw Error(std::string(kOwner) + "." + name,
                  "environment variable not set; expected an integer (launch with `med run "
                  "--nproc N -- program` or set it explicitly)");
    return fallback;
  }
  char *end = nullptr;
  long v = std::strtol(env, &end, 10);
  if (*end != '\0' || v < 0 || v > 1 << 30)
    throw Error(std::string(kOwner) + "." + name,
                std::string("expected a non-negative integer, got '") + env + "'");
  return int(v);
}

std::string addrFrom(const std::string &value) {
  if (!value.empty())
    return value;
  const char *env = std::getenv("MASTER_ADDR");
  if (!env || !*env)
    throw Error(std::string(kOwner) + ".MASTER_ADDR",
                "environment variable not set; expected the host of rank 0 (e.g. 127.0.0.1)");
  return env;
}

std::shared_ptr<::gloo::transport::Device> glooDevice(const std::string &addr) {
  if (const char *ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  // Single-machine runs talk over loopback; resolving the host name could pick an interface
  // that a sandbox or firewall blocks.
  if (addr == "localhost" || addr.rfind("127.", 0) == 0)
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

} // namespace

namespace detail {
void wait(const c10::intrusive_ptr<c10d::Work> &work, const std::string &what) {
  try {
    work->wait();
  } catch (const std::exception &e) {
    throw Error(what,
                std::string("collective failed (a rank died, diverged or timed out): ") + e.what());
  }
}
} // namespace detail

const ProcessGroup::State &ProcessGroup::state() const {
  if (!state_)
    throw Error("ProcessGroup", "empty handle; call med::distributed::init_process_group() first");
  return *state_;
}
int ProcessGroup::rank() const { return state().rank; }
int ProcessGroup::world_size() const { return state().world_size; }
int ProcessGroup::local_rank() const { return state().local_rank; }
const std::string &ProcessGroup::backend() const { return state().backend; }
c10d::ProcessGroup &ProcessGroup::c10d() const { return *state().group; }
c10d::Store &ProcessGroup::store() const { return *state().store; }
std::chrono::milliseconds ProcessGroup::timeout() const { return state().timeout; }
void ProcessGroup::barrier() const { detail::wait(state().group->barrier(), "barrier"); }

ProcessGroup init_process_group(const InitProcessGroupOptions &options) {
  std::lock_guard<std::mutex> lock(gMutex);
  if (gDefault)
    throw Error(std::string(kOwner), "the default process group is already initialized; call "
                                     "destroy_process_group() first");
  const std::string &backend = options.backend();
  if (backend != "gloo" && backend != "nccl")
    throw Error(std::string(kOwner) + ".backend",
                "expected \"gloo\" (CPU) or \"nccl\" (CUDA), got \"" + backend + "\"");
  if (backend == "nccl") {
    if (!torch::cuda::is_available())
      throw Error(std::string(kOwner) + ".backend",
                  "\"nccl\" needs CUDA GPUs, but CUDA is not available in this process; use "
                  "\"gloo\" on CPU");
#ifndef USE_C10D_NCCL
    throw Error(std::string(kOwner) + ".backend",
                "\"nccl\" requested, but this LibTorch was built without NCCL; use \"gloo\"");
#endif
  }
  if (options.timeout().count() <= 0)
    throw Error(std::string(kOwner) + ".timeout", "expected a positive duration");

  auto st = std::make_shared<ProcessGroup::State>();
  st->backend = backend;
  st->timeout = options.timeout();
  st->world_size = intFrom(options.world_size(), "WORLD_SIZE", true, 1);
  st->rank = intFrom(options.rank(), "RANK", true, 0);
  st->local_rank = intFrom(options.local_rank(), "LOCAL_RANK", false, st->rank);
  if (st->world_size < 1)
    throw Error(std::string(kOwner) + ".WORLD_SIZE", "expected at least 1, got 0");
  if (st->rank >= st->world_size)
    throw Error(std::string(kOwner) + ".RANK", "expected a rank in [0, " +
                                                   std::to_string(st->world_size) + "), got " +
                                                   std::to_string(st->rank));
  const std::string addr = addrFrom(options.master_addr());
  const int port = intFrom(options.master_port(), "MASTER_PORT", true, 0);
  if (port < 1 || port > 65535)
    throw Error(std::string(kOwner) + ".MASTER_PORT",
                "expected a port in [1, 65535], got " + std::to_string(port));

  c10d::TCPStoreOptions so;
  so.port = std::uint16_t(port);
  so.isServer = st->rank == 0;
  so.numWorkers = std::size_t(st->world_size);
  so.waitWorkers = true;
  so.timeout = st->timeout;
  try {
    st->store = c10::make_intrusive<c10d::TCPStore>(addr, so);
  } catch (const std::exception &e) {
    throw Error(std::string(kOwner),
                "rendezvous through the TCPStore at " + addr + ":" + std::to_string(port) +
                    " failed (is every rank started, and the port free?): " + e.what());
  }
  try {
    if (backend == "gloo") {
      auto go = c10d::ProcessGroupGloo::Options::create(st->timeout);
      go->devices.push_back(glooDevice(addr));
      st->group =
          c10::make_intrusive<c10d::ProcessGroupGloo>(st->store, st->rank, st->world_size, go);
    } else {
#ifdef USE_C10D_NCCL
      auto no = c10d::ProcessGroupNCCL::Options::create();
      no->timeout = st->timeout;
      st->group =
          c10::make_intrusive<c10d::ProcessGroupNCCL>(st->store, st->rank, st->world_size, no);
#endif
    }
  } catch (const std::exception &e) {
    throw Error(std::string(kOwner),
                "creating the " + backend + " process group failed: " + e.what());
  }
  gDefault = st;
  return ProcessGroup(st);
}

bool is_initialized() {
  std::lock_guard<std::mutex> lock(gMutex);
  return gDefault != nullptr;
}

ProcessGroup default_group() {
  std::lock_guard<std::mutex> lock(gMutex);
  if (!gDefault)
    throw Error("default_group",
                "no process group; call med::distributed::init_process_group() first");
  return ProcessGroup(gDefault);
}

void destroy_process_group() {
  std::shared_ptr<ProcessGroup::State> st;
  {
    std::lock_guard<std::mutex> lock(gMutex);
    st = std::move(gDefault);
    gDefault.reset();
  }
  if (st)
    ProcessGroup(st).barrier();
}

int get_rank() { return is_initialized() ? default_group().rank() : 0; }
int get_world_size() { return is_initialized() ? default_group().world_size() : 1; }
int get_local_rank() { return is_initialized() ? default_group().local_rank() : 0; }
bool is_main_process() { return get_rank() == 0; }
void barrier() {
  if (is_initialized())
    default_group().barrier();
}

} // namespace med::distributed
