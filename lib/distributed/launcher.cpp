// launch(): fork/exec N ranks, watch them, stop the rest when one fails.
#include "med/distributed/launcher.h"

#include <arpa/inet.h>
#include <csignal>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "med/core/error.h"

extern char **environ;

namespace med::distributed {

namespace {

volatile std::sig_atomic_t gSignal = 0;
void onSignal(int sig) { gSignal = sig; }

// The environment of one rank: ours minus the variables we set, plus them.
std::vector<std::string> rankEnv(const LaunchOptions &o, int rank, int port) {
  const std::vector<std::pair<std::string, std::string>> vars = {
      {"RANK", std::to_string(rank)},
      {"LOCAL_RANK", std::to_string(rank)},
      {"WORLD_SIZE", std::to_string(o.nproc())},
      {"LOCAL_WORLD_SIZE", std::to_string(o.nproc())},
      {"MASTER_ADDR", o.master_addr()},
      {"MASTER_PORT", std::to_string(port)}};
  std::vector<std::string> env;
  for (char **e = environ; *e; ++e) {
    std::string kv = *e;
    bool ours = false;
    for (const auto &v : vars)
      ours |= kv.rfind(v.first + "=", 0) == 0;
    if (!ours)
      env.push_back(kv);
  }
  for (const auto &v : vars)
    env.push_back(v.first + "=" + v.second);
  return env;
}

int statusCode(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return 1;
}

} // namespace

int find_free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    throw Error("find_free_port", std::string("socket() failed: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) != 0) {
    int err = errno;
    ::close(fd);
    throw Error("find_free_port", std::string("bind() failed: ") + std::strerror(err));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

int launch(const LaunchOptions &o) {
  if (o.command().empty())
    throw Error("launch.command", "expected a program to run, got nothing");
  if (o.nproc() < 1)
    throw Error("launch.nproc", "expected at least 1 process, got " + std::to_string(o.nproc()));
  if (o.master_port() < 0 || o.master_port() > 65535)
    throw Error("launch.master_port", "expected a port in [0, 65535] (0 picks a free one), got " +
                                          std::to_string(o.master_port()));
  const int port = o.master_port() == 0 ? find_free_port() : o.master_port();

  // Everything exec needs is built before fork (the child only calls async-signal-safe code).
  std::vector<char *> argv;
  for (const auto &a : o.command())
    argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::vector<std::string>> envs;
  std::vector<std::vector<char *>> envps;
  for (int r = 0; r < o.nproc(); ++r)
    envs.push_back(rankEnv(o, r, port));
  for (auto &env : envs) {
    envps.emplace_back();
    for (auto &kv : env)
      envps.back().push_back(const_cast<char *>(kv.c_str()));
    envps.back().push_back(nullptr);
  }

  const std::string execError = "med run: cannot execute " + o.command().front() + "\n";
  gSignal = 0;
  struct sigaction sa {
  }, oldInt{}, oldTerm{};
  sa.sa_handler = onSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &oldInt);
  sigaction(SIGTERM, &sa, &oldTerm);

  std::vector<pid_t> pids(o.nproc(), -1);
  std::vector<bool> done(o.nproc(), false);
  auto stopAll = [&](int sig) {
    for (int r = 0; r < o.nproc(); ++r)
      if (pids[r] > 0 && !done[r])
        ::kill(pids[r], sig);
  };
  // Reaps every child, escalating to SIGKILL after the grace period.
  auto reapAll = [&] {
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(o.kill_grace_s());
    bool killed = false;
    for (;;) {
      bool left = false;
      for (int r = 0; r < o.nproc(); ++r) {
        if (pids[r] <= 0 || done[r])
          continue;
        int status = 0;
        if (::waitpid(pids[r], &status, WNOHANG) == pids[r])
          done[r] = true;
        else
          left = true;
      }
      if (!left)
        return;
      if (!killed && std::chrono::steady_clock::now() > deadline) {
        stopAll(SIGKILL);
        killed = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  };
  auto restoreSignals = [&] {
    sigaction(SIGINT, &oldInt, nullptr);
    sigaction(SIGTERM, &oldTerm, nullptr);
  };

  for (int r = 0; r < o.nproc(); ++r) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::execvpe(argv[0], argv.data(), envps[r].data());
      ssize_t ignored = ::write(2, execError.data(), execError.size());
      (void)ignored;
      ::_exit(127);
    }
    if (pid < 0) {
      int err = errno;
      stopAll(SIGTERM);
      reapAll();
      restoreSignals();
      throw Error("launch", std::string("fork() failed: ") + std::strerror(err));
    }
    pids[r] = pid;
  }

  const auto start = std::chrono::steady_clock::now();
  int result = 0;
  int running = o.nproc();
  while (running > 0) {
    bool progressed = false;
    for (int r = 0; r < o.nproc(); ++r) {
      if (done[r])
        continue;
      int status = 0;
      if (::waitpid(pids[r], &status, WNOHANG) != pids[r])
        continue;
      done[r] = true;
      --running;
      progressed = true;
      int code = statusCode(status);
      if (code != 0 && result == 0) {
        result = code;
        std::fprintf(stderr, "med run: rank %d failed (exit status %d); stopping the others\n", r,
                     code);
        stopAll(SIGTERM);
        reapAll();
        running = 0;
        break;
      }
    }
    if (running == 0)
      break;
    if (gSignal != 0) {
      stopAll(gSignal);
      reapAll();
      result = 128 + gSignal;
      break;
    }
    if (o.timeout_s() > 0 &&
        std::chrono::steady_clock::now() - start > std::chrono::duration<double>(o.timeout_s())) {
      std::fprintf(stderr, "med run: timed out after %.0f s; stopping every rank\n", o.timeout_s());
      stopAll(SIGTERM);
      reapAll();
      result = 124;
      break;
    }
    if (!progressed)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  restoreSignals();
  return result;
}

} // namespace med::distributed
