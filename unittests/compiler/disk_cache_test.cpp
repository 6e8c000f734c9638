// The JIT's disk kernel cache: hits after the in-memory cache is dropped, corrupt and stale
// entries, MEDULLA_CACHE_DIR=off, concurrent writers in separate processes, and the time a new
// process takes to load a kernel. Child processes are this binary re-run with a --gtest_filter on
// DiskCacheChild.DISABLED_Run and a role in the environment.
#include "med/compiler/JitSession.h"
#include "med/frontends/Chain.h"
#include "med/runtime/launcher.h"

#include <gtest/gtest.h>

#include "llvm/Support/xxhash.h" // to forge entries with a valid checksum

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace {

namespace fs = std::filesystem;
using med::compiler::JitSession;
using med::compiler::Kernel;
using med::frontend::ChainSpec;
using med::frontend::OpSpec;
using med::rt::DType;

constexpr const char *kRoleVar = "MED_DISK_CACHE_TEST_ROLE";
constexpr const char *kReportVar = "MED_DISK_CACHE_TEST_REPORT";
constexpr const char *kGoVar = "MED_DISK_CACHE_TEST_GO";

// Every test in this binary (jit_test.cpp too) caches into a per-process temporary directory, so
// running the tests never reads or writes the user's cache. Children get their directory from
// the parent instead.
struct TestCacheRoot {
  std::string path;
  TestCacheRoot() {
    if (std::getenv(kRoleVar))
      return;
    const char *tmp = std::getenv("TMPDIR");
    std::string model = std::string(tmp && *tmp ? tmp : "/tmp") + "/medulla-cache-test-XXXXXX";
    std::vector<char> buf(model.begin(), model.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) {
      std::perror("mkdtemp");
      std::abort();
    }
    path = buf.data();
    setenv("MEDULLA_CACHE_DIR", (path + "/default").c_str(), 1);
  }
  ~TestCacheRoot() {
    std::error_code ec;
    if (!path.empty())
      fs::remove_all(path, ec);
  }
};
TestCacheRoot cacheRoot;

std::string shiftIR(double offset) {
  ChainSpec chain{DType::Float32,
                  {OpSpec{"shift_intensity", {{"offset", offset}}, {}, DType::Float32, "Shift"}}};
  std::string error;
  std::string ir = med::frontend::traceToIR(chain, &error);
  EXPECT_FALSE(ir.empty()) << error;
  return ir;
}

std::vector<float> input() {
  std::vector<float> in(1000);
  for (size_t i = 0; i < in.size(); ++i)
    in[i] = static_cast<float>(i) * 0.25f - 100.0f; // exact in float, so x + offset is too
  return in;
}

std::vector<float> run(const Kernel &k, const std::vector<float> &in) {
  std::vector<float> out(in.size(), -12345.0f);
  med::rt::BufferRef bufs[2] = {{const_cast<float *>(in.data()), (int64_t)in.size(), 4},
                                {out.data(), (int64_t)out.size(), 4}};
  if (k.elementwise)
    med::rt::launchElementwise(k.entry, bufs, 2, 1);
  else
    med::rt::launchWhole(k.entry, bufs, 2);
  return out;
}

void expectShifted(const std::vector<float> &out, const std::vector<float> &in, float offset) {
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i)
    ASSERT_EQ(out[i], in[i] + offset) << "i=" << i;
}

std::shared_ptr<const Kernel> compile(const std::string &ir, bool *hit = nullptr) {
  std::string error;
  auto k = JitSession::global().compile(ir, &error, hit);
  EXPECT_TRUE(k) << error;
  return k;
}

double msSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

std::vector<fs::path> filesIn(const std::string &dir, const std::string &needle) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto &e : fs::directory_iterator(dir, ec))
    if (e.path().filename().string().find(needle) != std::string::npos)
      out.push_back(e.path());
  return out;
}

std::string readFile(const fs::path &p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void writeFile(const fs::path &p, const std::string &bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << bytes;
}

// Restores an environment variable when the test ends.
struct EnvGuard {
  std::string name;
  bool had;
  std::string old;
  explicit EnvGuard(const char *n) : name(n), had(std::getenv(n) != nullptr) {
    if (had)
      old = std::getenv(n);
  }
  ~EnvGuard() {
    if (had)
      setenv(name.c_str(), old.c_str(), 1);
    else
      unsetenv(name.c_str());
  }
};

// Each test gets its own cache directory and an empty in-memory cache.
class DiskCache : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(cacheRoot.path.empty()) << "run as a child process";
    dir_ = cacheRoot.path + "/" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    setenv("MEDULLA_CACHE_DIR", dir_.c_str(), 1);
    JitSession::global().clear();
  }
  void TearDown() override {
    setenv("MEDULLA_CACHE_DIR", (cacheRoot.path + "/default").c_str(), 1);
    JitSession::global().clear();
  }
  std::string dir_;
};

// Starts this test binary as a child running DiskCacheChild.DISABLED_Run, with `env` added to
// this process's environment and stdout/stderr going to `log`.
pid_t spawnChild(const std::map<std::string, std::string> &env, const std::string &log) {
  std::vector<std::string> envStrings;
  for (char **e = environ; *e; ++e) {
    std::string entry = *e;
    std::string name = entry.substr(0, entry.find('='));
    if (!env.count(name))
      envStrings.push_back(entry);
  }
  for (const auto &[name, value] : env)
    envStrings.push_back(name + "=" + value);
  std::vector<char *> envp;
  for (std::string &s : envStrings)
    envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string exe = fs::read_symlink("/proc/self/exe").string();
  std::string arg0 = exe, filter = "--gtest_filter=DiskCacheChild.DISABLED_Run",
              disabled = "--gtest_also_run_disabled_tests";
  char *argv[] = {arg0.data(), filter.data(), disabled.data(), nullptr};
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) { // only async-signal-safe calls until exec
    dup2(fd, 1);
    dup2(fd, 2);
    execve(exe.c_str(), argv, envp.data());
    _exit(127);
  }
  close(fd);
  return pid;
}

int waitChild(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid)
    return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::map<std::string, double> readReport(const std::string &path) {
  std::map<std::string, double> values;
  std::ifstream f(path);
  std::string name;
  double value;
  while (f >> name >> value)
    values[name] = value;
  return values;
}

constexpr double kChildOffset = 3.25;

// A child process: compiles shiftIR(kChildOffset) in the cache dir the parent chose, checks the
// result and writes what happened to the report file. Runs only when started by spawnChild.
TEST(DiskCacheChild, DISABLED_Run) {
  const char *role = std::getenv(kRoleVar);
  if (!role)
    GTEST_SKIP() << "helper for DiskCache tests; runs only as their child process";
  if (const char *go = std::getenv(kGoVar)) {
    // Barrier: say we are ready, then wait for the parent's go so all children compile at once.
    writeFile(std::string(go) + ".ready-" + std::to_string(getpid()), "");
    for (int i = 0; i < 30000 && !fs::exists(go); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::string ir = shiftIR(kChildOffset);
  auto start = std::chrono::steady_clock::now();
  auto k = compile(ir);
  double wallMs = msSince(start);
  ASSERT_TRUE(k);
  auto in = input();
  expectShifted(run(*k, in), in, kChildOffset);
  if (std::strcmp(role, "load") == 0) {
    EXPECT_TRUE(k->fromDisk);
  }
  auto stats = JitSession::global().stats();
  std::ofstream report(std::getenv(kReportVar));
  report << "fromDisk " << k->fromDisk << "\nwallMs " << wallMs << "\nloadMs " << k->loadMs
         << "\ncompileMs " << k->compileMs << "\ndiskStores " << stats.diskStores << "\n";
}

TEST_F(DiskCache, SecondCompileAfterClearComesFromDisk) {
  std::string ir = shiftIR(1.5);
  auto in = input();
  auto before = JitSession::global().stats();
  auto cold = compile(ir);
  ASSERT_TRUE(cold);
  EXPECT_FALSE(cold->fromDisk);
  auto coldOut = run(*cold, in);
  expectShifted(coldOut, in, 1.5f);
  auto afterCold = JitSession::global().stats();
  EXPECT_EQ(afterCold.misses, before.misses + 1);
  EXPECT_EQ(afterCold.diskStores, before.diskStores + 1);
  EXPECT_EQ(filesIn(dir_, ".medk").size(), 1u);
  EXPECT_TRUE(filesIn(dir_, ".tmp-").empty());

  JitSession::global().clear();
  bool hit = true;
  auto warm = compile(ir, &hit);
  ASSERT_TRUE(warm);
  EXPECT_FALSE(hit); // not an in-memory hit
  EXPECT_TRUE(warm->fromDisk);
  EXPECT_EQ(warm->compileMs, 0);
  EXPECT_GT(warm->loadMs, 0);
  EXPECT_EQ(warm->elementwise, cold->elementwise);
  EXPECT_EQ(warm->fingerprint, cold->fingerprint);
  EXPECT_EQ(warm->ir, ir);
  auto afterWarm = JitSession::global().stats();
  EXPECT_EQ(afterWarm.diskHits, afterCold.diskHits + 1);
  EXPECT_EQ(afterWarm.misses, afterCold.misses);
  EXPECT_GE(afterWarm.loadMs, afterCold.loadMs + warm->loadMs - 1e-9);
  auto warmOut = run(*warm, in);
  EXPECT_EQ(0, std::memcmp(warmOut.data(), coldOut.data(), coldOut.size() * sizeof(float)));

  // The disk-loaded kernel is now the in-memory one.
  auto again = compile(ir, &hit);
  EXPECT_TRUE(hit);
  EXPECT_EQ(again.get(), warm.get());
  // The kernel compiled first stays valid after clear().
  expectShifted(run(*cold, in), in, 1.5f);
}

// A prefetch of a kernel the disk holds links it before returning (no thread: starting one
// cost more than the load), so the future is ready and the next compile() is a memory hit.
TEST_F(DiskCache, PrefetchOfAStoredKernelLoadsItAtOnce) {
  std::string ir = shiftIR(2.75);
  ASSERT_TRUE(compile(ir));
  JitSession::global().clear();
  auto before = JitSession::global().stats();
  std::future<void> pending = JitSession::global().prefetch(ir);
  EXPECT_EQ(pending.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  auto after = JitSession::global().stats();
  EXPECT_EQ(after.diskHits, before.diskHits + 1);
  EXPECT_EQ(after.misses, before.misses);
  bool hit = false;
  auto k = compile(ir, &hit);
  ASSERT_TRUE(k);
  EXPECT_TRUE(hit);
  EXPECT_TRUE(k->fromDisk);
  auto in = input();
  expectShifted(run(*k, in), in, 2.75f);
}

// Loaded kernels share one JIT, each in a dylib of its own under the same entry name: each runs
// its own code, the same entry loaded twice gives two working copies, and dropping some leaves
// the others intact.
TEST_F(DiskCache, LoadedKernelsStayIndependentWhenOthersAreDropped) {
  const std::vector<double> offsets = {0.5, 1.25, -4.0, 8.5};
  for (double o : offsets)
    ASSERT_TRUE(compile(shiftIR(o)));
  std::vector<std::shared_ptr<const Kernel>> loaded;
  for (int round = 0; round < 2; ++round) {
    JitSession::global().clear();
    for (double o : offsets) {
      loaded.push_back(compile(shiftIR(o)));
      ASSERT_TRUE(loaded.back());
      ASSERT_TRUE(loaded.back()->fromDisk);
    }
  }
  JitSession::global().clear();
  auto in = input();
  for (size_t i = 0; i < loaded.size(); ++i) { // drop the first round's copies one by one
    const float offset = static_cast<float>(offsets[i % offsets.size()]);
    expectShifted(run(*loaded[i], in), in, offset);
    if (i < offsets.size())
      loaded[i].reset();
    for (size_t j = i + 1; j < loaded.size(); ++j)
      expectShifted(run(*loaded[j], in), in, static_cast<float>(offsets[j % offsets.size()]));
  }
}

TEST_F(DiskCache, WholeBufferFlagSurvivesTheDisk) {
  ChainSpec chain{
      DType::Float32,
      {OpSpec{
          "scale_intensity", {{"minv", -1}, {"maxv", 1}}, {}, DType::Float32, "ScaleIntensity"}}};
  std::string error;
  std::string ir = med::frontend::traceToIR(chain, &error);
  ASSERT_FALSE(ir.empty()) << error;
  auto cold = compile(ir);
  ASSERT_TRUE(cold);
  ASSERT_FALSE(cold->elementwise);
  JitSession::global().clear();
  auto warm = compile(ir);
  ASSERT_TRUE(warm);
  EXPECT_TRUE(warm->fromDisk);
  EXPECT_FALSE(warm->elementwise);
  std::vector<float> in = {2, 4, 6, 10};
  EXPECT_EQ(run(*warm, in), (std::vector<float>{-1, -0.5f, 0, 1}));
}

// Code that calls libm: the disk loader must resolve `sinf` from the process like the compiler's
// engine does. Hand-written IR, since no med op needs libm yet.
TEST_F(DiskCache, KernelsCallingLibmResolveItFromTheProcess) {
  const std::string ir = R"mlir(
module {
  func.func @med_kernel(%in: memref<?xf32, strided<[1], offset: ?>>,
                        %out: memref<?xf32, strided<[1], offset: ?>>)
      attributes {llvm.emit_c_interface} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %n = memref.dim %in, %c0 : memref<?xf32, strided<[1], offset: ?>>
    scf.for %i = %c0 to %n step %c1 {
      %x = memref.load %in[%i] : memref<?xf32, strided<[1], offset: ?>>
      %y = math.sin %x : f32
      memref.store %y, %out[%i] : memref<?xf32, strided<[1], offset: ?>>
    }
    return
  }
}
)mlir";
  auto in = input();
  auto cold = compile(ir);
  ASSERT_TRUE(cold);
  auto coldOut = run(*cold, in);
  for (size_t i = 0; i < in.size(); ++i)
    ASSERT_NEAR(coldOut[i], std::sin(in[i]), 1e-6f) << "i=" << i;
  JitSession::global().clear();
  auto warm = compile(ir);
  ASSERT_TRUE(warm);
  EXPECT_TRUE(warm->fromDisk);
  auto warmOut = run(*warm, in);
  EXPECT_EQ(0, std::memcmp(warmOut.data(), coldOut.data(), coldOut.size() * sizeof(float)));
}

// Traced IR is kept beside the kernels, so a new process whose kernels come from disk never
// builds an MLIR context. Chains with offsets unique to this test, so the process's in-memory
// memo has not seen them.
TEST_F(DiskCache, TracedIRIsStoredAndReadBackUnderItsKey) {
  auto chainWith = [](double offset) {
    return ChainSpec{DType::Float32,
                     {OpSpec{"shift_intensity", {{"offset", offset}}, {}, DType::Float32, "S"}}};
  };
  auto slurp = [](const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  std::string error;
  // Stored: the magic line, the key and the IR just traced.
  const ChainSpec a = chainWith(0.8125);
  const std::string ir = med::frontend::traceToIR(a, &error);
  ASSERT_FALSE(ir.empty()) << error;
  const std::string file = med::frontend::traceCacheFile(a);
  ASSERT_TRUE(fs::exists(file)) << file;
  const std::string key = med::frontend::traceCacheKey(a);
  EXPECT_EQ(slurp(file), "medulla-trace v1\n" + std::to_string(key.size()) + "\n" + key + ir);
  // Read back: a file under a chain's key is what traceToIR returns for it.
  const ChainSpec b = chainWith(0.6875);
  const std::string keyB = med::frontend::traceCacheKey(b);
  writeFile(med::frontend::traceCacheFile(b), "medulla-trace v1\n" + std::to_string(keyB.size()) +
                                                  "\n" + keyB + "// read from disk\n");
  EXPECT_EQ(med::frontend::traceToIR(b, &error), "// read from disk\n");
  // A file whose key is another chain's is ignored and replaced by the real trace.
  const ChainSpec c = chainWith(0.5625);
  writeFile(med::frontend::traceCacheFile(c), slurp(file));
  const std::string irC = med::frontend::traceToIR(c, &error);
  EXPECT_NE(irC.find("med.shift_intensity"), std::string::npos) << irC;
  EXPECT_NE(irC, ir);
  EXPECT_EQ(slurp(med::frontend::traceCacheFile(c)).find(med::frontend::traceCacheKey(c)),
            std::string("medulla-trace v1\n").size() +
                std::to_string(med::frontend::traceCacheKey(c).size()).size() + 1);
}

TEST_F(DiskCache, CorruptEntriesAreRecompiledAndReplaced) {
  std::string ir = shiftIR(-7.5);
  auto in = input();
  ASSERT_TRUE(compile(ir));
  auto entries = filesIn(dir_, ".medk");
  ASSERT_EQ(entries.size(), 1u);
  const fs::path entry = entries[0];
  const std::string good = readFile(entry);
  ASSERT_GT(good.size(), 100u);

  std::mt19937 rng(42);
  std::string garbage(good.size(), '\0');
  for (char &c : garbage)
    c = static_cast<char>(rng());
  std::string flipped = good;
  flipped[flipped.size() - 50] ^= 0x5a; // inside the object code: checksum mismatch
  std::string hugeSize = good;
  hugeSize[40] = '\x7f'; // object size field
  std::string otherVersion = good;
  otherVersion[16] = '\x09';
  const std::vector<std::pair<const char *, std::string>> corruptions = {
      {"truncated to half", good.substr(0, good.size() / 2)},
      {"truncated inside the header", good.substr(0, 10)},
      {"empty", ""},
      {"random bytes", garbage},
      {"one byte flipped", flipped},
      {"absurd size field", hugeSize},
      {"other format version", otherVersion},
      {"one byte missing", good.substr(0, good.size() - 1)},
      {"one byte extra", good + "x"},
  };
  for (const auto &[what, bytes] : corruptions) {
    SCOPED_TRACE(what);
    writeFile(entry, bytes);
    JitSession::global().clear();
    auto before = JitSession::global().stats();
    auto k = compile(ir);
    ASSERT_TRUE(k);
    EXPECT_FALSE(k->fromDisk);
    expectShifted(run(*k, in), in, -7.5f);
    auto after = JitSession::global().stats();
    EXPECT_EQ(after.diskRejected, before.diskRejected + 1);
    EXPECT_EQ(after.misses, before.misses + 1);
    EXPECT_EQ(after.diskStores, before.diskStores + 1);
    // The entry was replaced by a valid one.
    JitSession::global().clear();
    auto reloaded = compile(ir);
    ASSERT_TRUE(reloaded);
    EXPECT_TRUE(reloaded->fromDisk);
    expectShifted(run(*reloaded, in), in, -7.5f);
  }
  EXPECT_EQ(filesIn(dir_, ".medk").size(), 1u);
  EXPECT_TRUE(filesIn(dir_, ".tmp-").empty());
}

// Rebuilds `entry` (a valid file) with its object code replaced and a correct checksum, so only
// the linker can notice; layout as in docs/kernel-cache.md.
std::string withObject(const std::string &entry, const std::string &object) {
  uint64_t keySize, irSize;
  std::memcpy(&keySize, entry.data() + 24, 8);
  std::memcpy(&irSize, entry.data() + 32, 8);
  std::string out = entry.substr(0, 48 + keySize + irSize) + object;
  uint64_t objectSize = object.size();
  std::memcpy(&out[40], &objectSize, 8);
  uint64_t checksum = llvm::xxh3_64bits(llvm::StringRef(out).drop_front(16));
  std::memcpy(&out[8], &checksum, 8);
  return out;
}

TEST_F(DiskCache, UnlinkableObjectCodeIsRecompiled) {
  std::string ir = shiftIR(5.5);
  auto in = input();
  ASSERT_TRUE(compile(ir));
  auto entries = filesIn(dir_, ".medk");
  ASSERT_EQ(entries.size(), 1u);
  const std::string good = readFile(entries[0]);
  uint64_t keySize, irSize;
  std::memcpy(&keySize, good.data() + 24, 8);
  std::memcpy(&irSize, good.data() + 32, 8);
  const std::string object = good.substr(48 + keySize + irSize);
  ASSERT_EQ(object.substr(0, 4), "\x7f"
                                 "ELF");
  std::string zeroedTail = object.substr(0, 64) + std::string(object.size() - 64, '\0');
  const std::vector<std::pair<const char *, std::string>> objects = {
      {"not an object", std::string(object.size(), 'x')},
      {"ELF header only", object.substr(0, 64)},
      {"ELF header, zeroed sections", zeroedTail},
      {"empty", ""},
  };
  for (const auto &[what, bytes] : objects) {
    SCOPED_TRACE(what);
    writeFile(entries[0], withObject(good, bytes));
    JitSession::global().clear();
    auto before = JitSession::global().stats();
    auto k = compile(ir);
    ASSERT_TRUE(k);
    EXPECT_FALSE(k->fromDisk);
    expectShifted(run(*k, in), in, 5.5f);
    EXPECT_EQ(JitSession::global().stats().diskRejected, before.diskRejected + 1);
  }
}

TEST_F(DiskCache, EntryOfAnotherKeyIsDetectedNotRun) {
  // Simulates a hash collision or a stale entry: the file at B's path holds A's key, IR and code.
  std::string a = shiftIR(1.0), b = shiftIR(2.0);
  auto in = input();
  ASSERT_TRUE(compile(a));
  auto onlyA = filesIn(dir_, ".medk");
  ASSERT_EQ(onlyA.size(), 1u);
  ASSERT_TRUE(compile(b));
  auto both = filesIn(dir_, ".medk");
  ASSERT_EQ(both.size(), 2u);
  fs::path pathB = both[0] == onlyA[0] ? both[1] : both[0];
  fs::copy_file(onlyA[0], pathB, fs::copy_options::overwrite_existing);

  JitSession::global().clear();
  auto before = JitSession::global().stats();
  auto k = compile(b);
  ASSERT_TRUE(k);
  EXPECT_FALSE(k->fromDisk);
  expectShifted(run(*k, in), in, 2.0f); // B's result, not A's
  EXPECT_EQ(JitSession::global().stats().diskRejected, before.diskRejected + 1);
  JitSession::global().clear();
  auto again = compile(b);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->fromDisk);
  expectShifted(run(*again, in), in, 2.0f);
}

TEST_F(DiskCache, OffDisablesIt) {
  EnvGuard home("HOME"), xdg("XDG_CACHE_HOME");
  std::string fakeHome = dir_ + "/home";
  fs::create_directories(fakeHome);
  setenv("HOME", fakeHome.c_str(), 1);
  unsetenv("XDG_CACHE_HOME");
  setenv("MEDULLA_CACHE_DIR", "off", 1);
  EXPECT_EQ(JitSession::diskCacheDir(), "");
  std::string ir = shiftIR(0.75);
  auto before = JitSession::global().stats();
  auto first = compile(ir);
  JitSession::global().clear();
  auto second = compile(ir);
  ASSERT_TRUE(first && second);
  EXPECT_FALSE(second->fromDisk);
  expectShifted(run(*second, input()), input(), 0.75f);
  auto after = JitSession::global().stats();
  EXPECT_EQ(after.diskHits, before.diskHits);
  EXPECT_EQ(after.diskStores, before.diskStores);
  EXPECT_EQ(after.misses, before.misses + 2);
  EXPECT_TRUE(fs::is_empty(fakeHome));
}

TEST_F(DiskCache, DefaultDirectoryFollowsXdgThenHome) {
  EnvGuard home("HOME"), xdg("XDG_CACHE_HOME");
  unsetenv("MEDULLA_CACHE_DIR");
  setenv("XDG_CACHE_HOME", (dir_ + "/xdg").c_str(), 1);
  setenv("HOME", (dir_ + "/home").c_str(), 1);
  EXPECT_EQ(JitSession::diskCacheDir(), dir_ + "/xdg/medulla/kernels");
  ASSERT_TRUE(compile(shiftIR(0.5)));
  EXPECT_EQ(filesIn(dir_ + "/xdg/medulla/kernels", ".medk").size(), 1u);
  unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(JitSession::diskCacheDir(), dir_ + "/home/.cache/medulla/kernels");
  setenv("MEDULLA_CACHE_DIR", "", 1); // empty counts as unset
  EXPECT_EQ(JitSession::diskCacheDir(), dir_ + "/home/.cache/medulla/kernels");
}

TEST_F(DiskCache, UnwritableDirectoryOnlyCostsTheStore) {
  writeFile(dir_ + ".file", "not a directory");
  setenv("MEDULLA_CACHE_DIR", (dir_ + ".file/kernels").c_str(), 1);
  auto before = JitSession::global().stats();
  auto k = compile(shiftIR(4.0));
  ASSERT_TRUE(k);
  expectShifted(run(*k, input()), input(), 4.0f);
  auto after = JitSession::global().stats();
  EXPECT_EQ(after.diskStores, before.diskStores);
  EXPECT_EQ(after.diskRejected, before.diskRejected);
  fs::remove(dir_ + ".file");
}

TEST_F(DiskCache, AbandonedTemporaryFilesAreRemovedOnTheNextStore) {
  // What a writer that crashed before its rename leaves behind.
  fs::create_directories(dir_);
  fs::path old = dir_ + "/0123456789abcdef0123456789abcdef.medk.tmp-abandoned";
  fs::path fresh = dir_ + "/0123456789abcdef0123456789abcdef.medk.tmp-inprogress";
  writeFile(old, "partial");
  writeFile(fresh, "partial");
  fs::last_write_time(old, fs::file_time_type::clock::now() - std::chrono::hours(2));
  ASSERT_TRUE(compile(shiftIR(8.0)));
  EXPECT_FALSE(fs::exists(old));
  EXPECT_TRUE(fs::exists(fresh));               // may belong to a live writer
  EXPECT_EQ(filesIn(dir_, ".medk").size(), 2u); // the new entry and the in-progress file
}

TEST_F(DiskCache, TwoThreadsCompilingOneKeyShareOneEntry) {
  std::string ir = shiftIR(6.0);
  std::shared_ptr<const Kernel> k[2];
  std::thread t0([&] { k[0] = compile(ir); });
  std::thread t1([&] { k[1] = compile(ir); });
  t0.join();
  t1.join();
  ASSERT_TRUE(k[0] && k[1]);
  EXPECT_EQ(k[0].get(), k[1].get()); // compiles are serialised; the second is a memory hit
  EXPECT_EQ(filesIn(dir_, ".medk").size(), 1u);
  expectShifted(run(*k[1], input()), input(), 6.0f);
}

TEST_F(DiskCache, ConcurrentWriterProcessesBothSucceed) {
  fs::create_directories(dir_);
  const int n = 3;
  std::string go = cacheRoot.path + "/" + "go-concurrent";
  std::vector<pid_t> pids;
  for (int i = 0; i < n; ++i) {
    std::string report = dir_ + "-child" + std::to_string(i) + ".txt";
    pids.push_back(spawnChild(
        {{kRoleVar, "write"}, {"MEDULLA_CACHE_DIR", dir_}, {kReportVar, report}, {kGoVar, go}},
        dir_ + "-child" + std::to_string(i) + ".log"));
    ASSERT_GT(pids.back(), 0);
  }
  // Release the children together once all are up, so their compiles and writes overlap.
  for (int i = 0; i < 60000 && filesIn(cacheRoot.path, "go-concurrent.ready-").size() < n; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  writeFile(go, "");
  int writers = 0;
  for (int i = 0; i < n; ++i) {
    std::string log = dir_ + "-child" + std::to_string(i) + ".log";
    EXPECT_EQ(waitChild(pids[i]), 0) << readFile(log);
    auto report = readReport(dir_ + "-child" + std::to_string(i) + ".txt");
    ASSERT_EQ(report.count("fromDisk"), 1u) << readFile(log);
    // Each child either stored its compile or found a complete entry from another.
    EXPECT_TRUE(report["diskStores"] == 1 || report["fromDisk"] == 1) << readFile(log);
    writers += report["diskStores"] == 1;
  }
  std::printf("[ disk cache ] %d of %d concurrent children compiled and stored the same entry\n",
              writers, n);
  EXPECT_GE(writers, 1);
  EXPECT_EQ(filesIn(dir_, ".medk").size(), 1u);
  EXPECT_TRUE(filesIn(dir_, ".tmp-").empty());
  auto k = compile(shiftIR(kChildOffset));
  ASSERT_TRUE(k);
  EXPECT_TRUE(k->fromDisk);
  expectShifted(run(*k, input()), input(), kChildOffset);
}

TEST_F(DiskCache, NewProcessLoadIsTimed) {
  std::string ir = shiftIR(kChildOffset);
  auto start = std::chrono::steady_clock::now();
  auto cold = compile(ir);
  double coldMs = msSince(start);
  ASSERT_TRUE(cold);
  ASSERT_FALSE(cold->fromDisk);

  const int reps = 1000;
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i)
    compile(ir);
  double memoryMs = msSince(start) / reps;

  JitSession::global().clear();
  start = std::chrono::steady_clock::now();
  auto warm = compile(ir);
  double sameProcessDiskMs = msSince(start);
  ASSERT_TRUE(warm && warm->fromDisk);

  std::string report = dir_ + "-child.txt", log = dir_ + "-child.log";
  start = std::chrono::steady_clock::now();
  pid_t pid =
      spawnChild({{kRoleVar, "load"}, {"MEDULLA_CACHE_DIR", dir_}, {kReportVar, report}}, log);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(waitChild(pid), 0) << readFile(log);
  double childProcessMs = msSince(start);
  auto child = readReport(report);
  EXPECT_EQ(child["fromDisk"], 1) << readFile(log);
  std::printf("[ disk cache ] cold compile: %.1f ms (parse + passes + codegen %.1f ms)\n"
              "[ disk cache ] in-memory hit: %.3f us (mean of %d)\n"
              "[ disk cache ] disk hit, same process: %.2f ms (load %.2f ms)\n"
              "[ disk cache ] disk hit, new process: first compile() %.2f ms (load %.2f ms); "
              "whole child process %.0f ms\n",
              coldMs, cold->compileMs, memoryMs * 1000, reps, sameProcessDiskMs, warm->loadMs,
              child["wallMs"], child["loadMs"], childProcessMs);
}

} // namespace
