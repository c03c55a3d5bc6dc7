#include "yolo/engine/distributed.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

// The c10d headers guard their content with USE_C10D_GLOO / USE_C10D_NCCL, which LibTorch's CMake
// config does not export. Gloo is part of every Linux LibTorch build, but its headers are a separate
// package on some systems (Debian: libgloo-dev).
#if __has_include(<torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>) && __has_include(<gloo/algorithm.h>)
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#define YOLO_HAVE_GLOO 1
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#else
#define YOLO_HAVE_GLOO 0
#endif
// NCCL needs nccl.h besides LibTorch's headers: the build defines USE_C10D_NCCL (YOLO_WITH_NCCL=ON) where
// it has both.
#if __has_include(<torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>) && defined(USE_C10D_NCCL) && YOLO_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#define YOLO_HAVE_NCCL 1
#else
#define YOLO_HAVE_NCCL 0
#endif

#include <fmt/ranges.h>

#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/utils/torch_compat.h"

extern char** environ;

namespace yolo::engine {
namespace {

constexpr const char* kLaunchedVar = "YOLO_DDP_LAUNCHED";

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

int env_int(const char* name, const std::string& text, int lo, int hi) {
  size_t used = 0;
  long value = 0;
  try {
    value = std::stol(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  YOLO_CHECK(used == text.size() && !text.empty(), "environment variable {}='{}' is not an integer", name, text);
  YOLO_CHECK(value >= lo && value <= hi, "environment variable {}={} is out of range [{}, {}]", name, value, lo, hi);
  return static_cast<int>(value);
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return fmt::format("was killed by signal {} ({})", sig, strsignal(sig));
  }
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  return fmt::format("ended with wait status {}", status);
}

bool status_failed(int status) { return !(WIFEXITED(status) && WEXITSTATUS(status) == 0); }

}  // namespace

// ---- environment ------------------------------------------------------------------------------

DistributedEnv distributed_env_from_environment() {
  DistributedEnv e;
  const auto rank = env("RANK"), world = env("WORLD_SIZE");
  const auto slurm_rank = env("SLURM_PROCID"), slurm_world = env("SLURM_NTASKS");
  if (rank || world) {
    YOLO_CHECK(rank && world, "distributed training needs both RANK and WORLD_SIZE in the environment (got {}={})",
               rank ? "RANK" : "WORLD_SIZE", rank ? *rank : *world);
    e.world_size = env_int("WORLD_SIZE", *world, 1, 1 << 20);
    e.rank = env_int("RANK", *rank, 0, e.world_size - 1);
    e.local_rank = env("LOCAL_RANK") ? env_int("LOCAL_RANK", *env("LOCAL_RANK"), 0, e.world_size - 1) : e.rank;
    e.source = is_launched_worker() ? "launcher" : "env";
  } else if (slurm_rank && slurm_world && env_int("SLURM_NTASKS", *slurm_world, 1, 1 << 20) > 1) {
    e.world_size = env_int("SLURM_NTASKS", *slurm_world, 1, 1 << 20);
    e.rank = env_int("SLURM_PROCID", *slurm_rank, 0, e.world_size - 1);
    e.local_rank = env("SLURM_LOCALID") ? env_int("SLURM_LOCALID", *env("SLURM_LOCALID"), 0, e.world_size - 1) : 0;
    e.source = "slurm";
    if (!env("MASTER_ADDR")) {
      const auto nodes = env("SLURM_NNODES");
      if (auto launch_node = env("SLURM_LAUNCH_NODE_IPADDR")) {
        e.master_addr = *launch_node;
      } else {
        YOLO_CHECK(!nodes || *nodes == "1",
                   "a Slurm job over {} nodes needs MASTER_ADDR (the address of the node of task 0) in the "
                   "environment",
                   *nodes);
      }
    }
  } else {
    return e;
  }
  if (auto addr = env("MASTER_ADDR")) e.master_addr = *addr;
  if (auto port = env("MASTER_PORT")) e.master_port = env_int("MASTER_PORT", *port, 1, 65535);
  return e;
}

bool is_launched_worker() { return env(kLaunchedVar).value_or("") == "1"; }

int pick_master_port(int preferred) {
  auto try_bind = [](int port) -> int {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    int result = -1;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      socklen_t len = sizeof(addr);
      if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) result = ntohs(addr.sin_port);
    }
    ::close(fd);
    return result;
  };
  if (preferred > 0 && try_bind(preferred) == preferred) return preferred;
  const int port = try_bind(0);
  YOLO_CHECK(port > 0, "cannot find a free TCP port for the distributed rendezvous: {}", std::strerror(errno));
  return port;
}

// ---- process group ----------------------------------------------------------------------------

#if YOLO_HAVE_GLOO

namespace {

#if YOLO_HAVE_NCCL
// NCCL refuses two ranks on one GPU ("Duplicate GPU detected"), which is how DDP is tried on a one-GPU
// machine (device=0,0): every rank publishes its host and GPU, and ranks that share one use Gloo instead.
bool ranks_share_a_gpu(c10d::Store& store, const DistributedEnv& env, const torch::Device& device) {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const int index = device.has_index() ? device.index() : 0;
  const std::string mine = fmt::format("{}/cuda:{}", host, index);
  store.set(fmt::format("gpu/{}", env.rank), std::vector<uint8_t>(mine.begin(), mine.end()));
  std::vector<std::string> seen;
  bool shared = false;
  for (int r = 0; r < env.world_size; ++r) {
    const auto value = store.get(fmt::format("gpu/{}", r));
    std::string gpu(value.begin(), value.end());
    shared = shared || std::find(seen.begin(), seen.end(), gpu) != seen.end();
    seen.push_back(std::move(gpu));
  }
  if (shared && env.rank == 0)
    log_warning("DDP: several ranks share a GPU, so they communicate through Gloo (NCCL needs one GPU per rank)");
  return shared;
}
#endif

}  // namespace

struct ProcessGroup::Impl {
  DistributedEnv env;
  torch::Device device{torch::kCPU};
  std::chrono::milliseconds timeout{};
  std::string backend_name;
  std::shared_ptr<HostedStore> hosted;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<compat::C10dBackend> backend;

  // Heartbeats: every rank bumps its counter in the store once a second from a thread of its own (and its
  // own store connection), so that after a failed collective the ranks that stopped can be named.
  std::thread heartbeat;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;

  c10::intrusive_ptr<c10d::TCPStore> connect(std::chrono::milliseconds connect_timeout, bool server) const {
    c10d::TCPStoreOptions o;
    o.port = static_cast<uint16_t>(env.master_port);
    o.isServer = server;
    o.numWorkers = static_cast<size_t>(env.world_size);
    o.waitWorkers = false;
    o.timeout = connect_timeout;
    return c10::make_intrusive<c10d::TCPStore>(env.master_addr, o);
  }

  void start_heartbeat() {
    heartbeat = std::thread([this] {
      try {
        auto own = connect(std::chrono::milliseconds(10000), false);
        const std::string key = fmt::format("yolo/heartbeat/{}", env.rank);
        std::unique_lock<std::mutex> lock(mutex);
        while (!stopping) {
          lock.unlock();
          own->add(key, 1);
          lock.lock();
          wake.wait_for(lock, std::chrono::seconds(1), [this] { return stopping; });
        }
      } catch (const std::exception&) {
        // The store is gone (rank 0 ended or died): failures are reported by the collectives.
      }
    });
  }

  void stop_heartbeat() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    if (heartbeat.joinable()) heartbeat.join();
  }

  /// The ranks whose heartbeat did not move over a few seconds, or nullopt when the store is unreachable.
  std::optional<std::vector<int>> silent_ranks() const {
    try {
      auto probe = connect(std::chrono::milliseconds(5000), false);
      auto read = [&] {
        std::vector<int64_t> counts;
        for (int r = 0; r < env.world_size; ++r) counts.push_back(probe->add(fmt::format("yolo/heartbeat/{}", r), 0));
        return counts;
      };
      const auto before = read();
      std::this_thread::sleep_for(std::chrono::milliseconds(2500));
      const auto after = read();
      std::vector<int> silent;
      for (int r = 0; r < env.world_size; ++r)
        if (r != env.rank && after[r] == before[r]) silent.push_back(r);
      return silent;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }

  std::function<std::string()> extra_failures;
};

ProcessGroup::ProcessGroup(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ProcessGroup::~ProcessGroup() {
  if (!impl_) return;
  impl_->stop_heartbeat();
  impl_->backend.reset();
  impl_->store.reset();
  impl_->hosted.reset();
}

struct HostedStore::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
};

HostedStore::HostedStore(const std::string& addr, int preferred_port, std::chrono::milliseconds timeout,
                         int world_size)
    : impl_(std::make_unique<Impl>()) {
  auto host = [&](int port) {
    c10d::TCPStoreOptions o;
    o.port = static_cast<uint16_t>(port);
    o.isServer = true;
    o.numWorkers = static_cast<size_t>(world_size);
    o.waitWorkers = false;
    o.timeout = timeout;
    return c10::make_intrusive<c10d::TCPStore>(addr, o);
  };
  try {
    impl_->store = host(preferred_port);
  } catch (const std::exception&) {
    try {
      impl_->store = host(0);  // busy: any free port
    } catch (const std::exception& e) {
      YOLO_FAIL("cannot host the distributed rendezvous store on this machine: {}", e.what());
    }
  }
  YOLO_CHECK(impl_->store->getPort() > 0, "the rendezvous store did not report the port it listens on");
}

HostedStore::~HostedStore() = default;
int HostedStore::port() const { return impl_->store->getPort(); }

std::unique_ptr<ProcessGroup> ProcessGroup::create(const DistributedEnv& env, const torch::Device& device,
                                                   std::chrono::milliseconds timeout,
                                                   std::shared_ptr<HostedStore> hosted) {
  YOLO_CHECK(env.world_size >= 1 && env.rank >= 0 && env.rank < env.world_size, "rank {} is not in [0, {})", env.rank,
             env.world_size);
  YOLO_CHECK(timeout.count() > 0, "the distributed timeout must be positive, got {} ms", timeout.count());
  auto impl = std::make_unique<Impl>();
  impl->env = env;
  impl->device = device;
  impl->timeout = timeout;
  // torchrun's agent hosts the store itself at MASTER_PORT and says so; otherwise rank 0 hosts it.
  const bool agent_store = std::getenv("TORCHELASTIC_USE_AGENT_STORE") != nullptr &&
                           std::string(std::getenv("TORCHELASTIC_USE_AGENT_STORE")) == "True";
  try {
    if (hosted) {
      YOLO_CHECK(env.rank == 0 && hosted->port() == env.master_port, "a hosted store belongs to rank 0 at its port");
      impl->store = hosted->impl_->store;
      impl->hosted = std::move(hosted);
    } else {
      impl->store = impl->connect(timeout, env.rank == 0 && !agent_store);
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    YOLO_FAIL("rank {}: cannot {} the rendezvous store at {}:{} within {:.0f}s ({}): {}", env.rank,
              env.rank == 0 ? "host" : "reach", env.master_addr, env.master_port, timeout.count() / 1000.0,
              env.rank == 0 ? "is MASTER_PORT in use?" : "is rank 0 running, and MASTER_ADDR/MASTER_PORT right?",
              e.what());
  }
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("yolo/pg", impl->store);
  try {
#if YOLO_HAVE_NCCL
    if (device.is_cuda() && !ranks_share_a_gpu(*prefixed, env, device)) {
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      impl->backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, env.rank, env.world_size, options);
      impl->backend_name = "nccl";
    }
#endif
    if (!impl->backend) {
      auto options = c10d::ProcessGroupGloo::Options::create(timeout);
      const bool loopback = env.master_addr == "localhost" || env.master_addr.rfind("127.", 0) == 0;
      if (auto iface = std::getenv("GLOO_SOCKET_IFNAME"); iface && *iface) {
        options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(iface));
      } else if (loopback) {
        options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      } else {
        options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      }
      options->threads = 2;
      impl->backend = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, env.rank, env.world_size, options);
      impl->backend_name = "gloo";
    }
  } catch (const std::exception& e) {
    YOLO_FAIL("rank {}: the {} ranks did not all meet at {}:{} within {:.0f}s: {}", env.rank, env.world_size,
              env.master_addr, env.master_port, timeout.count() / 1000.0, e.what());
  }
  impl->start_heartbeat();
  return std::unique_ptr<ProcessGroup>(new ProcessGroup(std::move(impl)));
}

int ProcessGroup::rank() const { return impl_->env.rank; }
int ProcessGroup::world_size() const { return impl_->env.world_size; }
const std::string& ProcessGroup::backend_name() const { return impl_->backend_name; }
std::chrono::milliseconds ProcessGroup::timeout() const { return impl_->timeout; }

void ProcessGroup::on_failure_describe(std::function<std::string()> describe) {
  impl_->extra_failures = std::move(describe);
}

void ProcessGroup::fail(const std::string& what, const std::exception& cause) {
  // The launcher's word (which child exited, how) beats the heartbeats; a child killed a moment ago may
  // not be reaped yet, so it is asked again after the heartbeat probe.
  std::string who;
  if (impl_->extra_failures) who = impl_->extra_failures();
  if (who.empty()) {
    const auto silent = impl_->silent_ranks();
    if (impl_->extra_failures) who = impl_->extra_failures();
    if (!who.empty()) {
    } else if (!silent) {
      who = fmt::format("the store at {}:{} is unreachable: rank 0 (or the launcher hosting the store) died or "
                        "ended",
                        impl_->env.master_addr, impl_->env.master_port);
    } else if (!silent->empty()) {
      who = fmt::format("rank {} stopped answering (died or hung)", fmt::join(*silent, ", rank "));
    } else {
      who = "every rank is still alive: a rank is stuck or slow past the timeout";
    }
  }
  YOLO_FAIL("distributed {} failed on rank {} of {}: {} ({})", what, impl_->env.rank, impl_->env.world_size, who,
            cause.what());
}

namespace {

class GlooPending : public ProcessGroup::Pending {
 public:
  GlooPending(ProcessGroup& group, c10::intrusive_ptr<c10d::Work> work, std::string what)
      : group_(group), work_(std::move(work)), what_(std::move(what)) {}
  void wait() override {
    if (!work_) return;
    auto work = std::move(work_);
    try {
      work->wait();
    } catch (const std::exception& e) {
      group_.fail(what_, e);
    }
  }

 private:
  ProcessGroup& group_;
  c10::intrusive_ptr<c10d::Work> work_;
  std::string what_;
};

/// Starts a collective; a failure to start it, like one while waiting, becomes ProcessGroup::fail's error.
template <typename Launch>
std::unique_ptr<GlooPending> start_collective(ProcessGroup& group, const std::string& what, Launch launch) {
  c10::intrusive_ptr<c10d::Work> work;
  try {
    work = launch();
  } catch (const std::exception& e) {
    group.fail(what, e);
  }
  return std::make_unique<GlooPending>(group, std::move(work), what);
}

/// NCCL reduces CUDA tensors only: a CPU tensor makes a round trip through the rank's device.
torch::Tensor on_comm_device(const torch::Tensor& t, const std::string& backend, const torch::Device& device) {
  return backend == "nccl" && t.device() != device ? t.to(device) : t;
}

}  // namespace

void ProcessGroup::broadcast(std::vector<torch::Tensor>& tensors, int root) {
  for (auto& t : tensors) {
    auto comm = on_comm_device(t, impl_->backend_name, impl_->device);
    std::vector<torch::Tensor> one{comm};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    start_collective(*this, "broadcast", [&] { return impl_->backend->broadcast(one, o); })->wait();
    if (!comm.is_same(t)) t.copy_(comm);
  }
}

std::unique_ptr<ProcessGroup::Pending> ProcessGroup::allreduce_sum_async(torch::Tensor& tensor) {
  std::vector<torch::Tensor> one{tensor};
  c10d::AllreduceOptions o;
  o.reduceOp = c10d::ReduceOp::SUM;
  return start_collective(*this, "all-reduce", [&] { return impl_->backend->allreduce(one, o); });
}

void ProcessGroup::allreduce_sum(torch::Tensor& tensor) {
  auto comm = on_comm_device(tensor, impl_->backend_name, impl_->device);
  allreduce_sum_async(comm)->wait();
  if (!comm.is_same(tensor)) tensor.copy_(comm);
}

std::vector<torch::Tensor> ProcessGroup::allgather_variable(const torch::Tensor& tensor) {
  YOLO_CHECK(tensor.dim() == 1, "allgather_variable takes 1-D tensors, got {} dims", tensor.dim());
  const auto comm = impl_->backend_name == "nccl" ? impl_->device : torch::Device(torch::kCPU);
  const int W = world_size();
  auto length = torch::full({1}, tensor.size(0), torch::TensorOptions().dtype(torch::kInt64).device(comm));
  std::vector<std::vector<torch::Tensor>> lengths(1);
  for (int r = 0; r < W; ++r) lengths[0].push_back(torch::empty_like(length));
  std::vector<torch::Tensor> in{length};
  start_collective(*this, "all-gather", [&] { return impl_->backend->allgather(lengths, in); })->wait();
  int64_t longest = 1;
  std::vector<int64_t> sizes;
  for (const auto& l : lengths[0]) sizes.push_back(l.to(torch::kCPU).item<int64_t>()), longest = std::max(longest, sizes.back());
  auto padded = torch::zeros({longest}, tensor.options().device(comm));
  if (tensor.size(0) > 0) padded.narrow(0, 0, tensor.size(0)).copy_(tensor);
  std::vector<std::vector<torch::Tensor>> out(1);
  for (int r = 0; r < W; ++r) out[0].push_back(torch::empty_like(padded));
  std::vector<torch::Tensor> in2{padded};
  start_collective(*this, "all-gather", [&] { return impl_->backend->allgather(out, in2); })->wait();
  std::vector<torch::Tensor> result;
  for (int r = 0; r < W; ++r) result.push_back(out[0][r].narrow(0, 0, sizes[r]).to(tensor.device()));
  return result;
}

void ProcessGroup::barrier() {
  start_collective(*this, "barrier", [&] { return impl_->backend->barrier(); })->wait();
}

std::string ProcessGroup::share(const std::string& key, const std::string& value_on_root) {
  const std::string full = "yolo/share/" + key;
  try {
    if (rank() == 0) {
      impl_->store->set(full, std::vector<uint8_t>(value_on_root.begin(), value_on_root.end()));
      return value_on_root;
    }
    const auto bytes = impl_->store->get(full);  // waits for rank 0 (store timeout)
    return std::string(bytes.begin(), bytes.end());
  } catch (const std::exception& e) {
    fail("store exchange of '" + key + "'", e);
  }
}

#else  // !YOLO_HAVE_GLOO

struct ProcessGroup::Impl {};
ProcessGroup::ProcessGroup(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProcessGroup::~ProcessGroup() = default;
struct HostedStore::Impl {};
HostedStore::HostedStore(const std::string&, int, std::chrono::milliseconds, int) {
  YOLO_FAIL("distributed training needs LibTorch's Gloo backend, and this build found no Gloo headers "
            "(install libgloo-dev, or use a LibTorch package that ships them) — train on one device");
}
HostedStore::~HostedStore() = default;
int HostedStore::port() const { return 0; }
std::unique_ptr<ProcessGroup> ProcessGroup::create(const DistributedEnv& env, const torch::Device&,
                                                   std::chrono::milliseconds, std::shared_ptr<HostedStore>) {
  YOLO_FAIL("rank {}: distributed training needs LibTorch's Gloo backend, and this build found no Gloo headers "
            "(install libgloo-dev, or use a LibTorch package that ships them) — train on one device",
            env.rank);
}
int ProcessGroup::rank() const { return 0; }
int ProcessGroup::world_size() const { return 1; }
const std::string& ProcessGroup::backend_name() const {
  static const std::string none = "none";
  return none;
}
std::chrono::milliseconds ProcessGroup::timeout() const { return {}; }
void ProcessGroup::on_failure_describe(std::function<std::string()>) {}
void ProcessGroup::fail(const std::string& what, const std::exception& cause) {
  YOLO_FAIL("distributed {} failed: {}", what, cause.what());
}
void ProcessGroup::broadcast(std::vector<torch::Tensor>&, int) {}
std::unique_ptr<ProcessGroup::Pending> ProcessGroup::allreduce_sum_async(torch::Tensor&) { return nullptr; }
void ProcessGroup::allreduce_sum(torch::Tensor&) {}
std::vector<torch::Tensor> ProcessGroup::allgather_variable(const torch::Tensor& t) { return {t}; }
void ProcessGroup::barrier() {}
std::string ProcessGroup::share(const std::string&, const std::string& value) { return value; }

#endif  // YOLO_HAVE_GLOO

// ---- gradient reducer -------------------------------------------------------------------------

struct GradientReducer::Impl {
  struct Slot {
    torch::Tensor param;
    size_t bucket = 0;
    int64_t offset = 0;
    bool ready = false;
    unsigned hook = 0;
  };
  struct Bucket {
    torch::Tensor flat;
    std::vector<size_t> slots;
    size_t pending = 0;
    bool ready = false, launched = false;
    std::unique_ptr<ProcessGroup::Pending> work;
  };

  ProcessGroup& group;
  std::vector<Slot> slots;
  std::vector<Bucket> buckets;
  size_t next_launch = 0;
  size_t launched_in_backward = 0, overlapped = 0;
  bool in_backward = false;
  std::mutex mutex;

  explicit Impl(ProcessGroup& g) : group(g) {}

  void begin_round() {
    for (auto& s : slots) s.ready = false;
    for (auto& b : buckets) b.pending = b.slots.size(), b.ready = b.launched = false, b.work.reset();
    next_launch = 0;
    launched_in_backward = 0;
    in_backward = true;
  }

  /// Buckets start in index order on every rank, whatever order their gradients complete in.
  void launch_ready() {
    while (next_launch < buckets.size() && buckets[next_launch].ready) {
      auto& b = buckets[next_launch++];
      b.work = group.allreduce_sum_async(b.flat);
      b.launched = true;
    }
  }

  void on_grad(size_t index, const torch::Tensor& grad) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!in_backward) begin_round();
    auto& slot = slots[index];
    YOLO_CHECK(!grad.is_sparse(), "distributed training supports dense gradients only");
    auto& bucket = buckets[slot.bucket];
    YOLO_CHECK(!slot.ready && !bucket.launched,
               "a parameter got two gradients in one backward pass (reentrant backward is not supported with DDP)");
    bucket.flat.narrow(0, slot.offset, slot.param.numel()).copy_(grad.reshape({-1}));
    slot.ready = true;
    if (--bucket.pending == 0) {
      bucket.ready = true;
      launch_ready();
      launched_in_backward = next_launch;
    }
  }
};

GradientReducer::GradientReducer(ProcessGroup& group, std::vector<torch::Tensor> parameters, size_t bucket_bytes,
                                 size_t first_bucket_bytes)
    : impl_(std::make_unique<Impl>(group)) {
  YOLO_CHECK(!parameters.empty(), "GradientReducer needs parameters");
  // Gradients arrive roughly from the last layer to the first: buckets follow the reverse order.
  std::reverse(parameters.begin(), parameters.end());
  size_t cap = first_bucket_bytes, used = 0;
  for (auto& p : parameters) {
    YOLO_CHECK(p.requires_grad(), "GradientReducer: a parameter without requires_grad");
    auto& buckets = impl_->buckets;
    const size_t bytes = static_cast<size_t>(p.numel()) * p.element_size();
    const bool fits = !buckets.empty() && used + bytes <= cap &&
                      buckets.back().flat.scalar_type() == p.scalar_type() &&
                      buckets.back().flat.device() == p.device();
    if (!fits) {
      if (!buckets.empty()) cap = bucket_bytes;
      buckets.emplace_back();
      buckets.back().flat = torch::empty({0}, p.options().requires_grad(false));
      used = 0;
    }
    Impl::Slot slot;
    slot.param = p;
    slot.bucket = buckets.size() - 1;
    slot.offset = static_cast<int64_t>(used / p.element_size());
    used += bytes;
    buckets.back().slots.push_back(impl_->slots.size());
    impl_->slots.push_back(slot);
  }
  for (auto& b : impl_->buckets) {
    int64_t n = 0;
    for (auto s : b.slots) n += impl_->slots[s].param.numel();
    b.flat = torch::zeros({n}, b.flat.options());
  }
  Impl* impl = impl_.get();
  for (size_t i = 0; i < impl_->slots.size(); ++i) {
    impl_->slots[i].hook = impl_->slots[i].param.register_hook([impl, i](torch::Tensor grad) -> torch::Tensor {
      impl->on_grad(i, grad);
      // .grad receives zeros now and the average in finish(): it never holds an unreduced gradient.
      return torch::zeros_like(grad);
    });
  }
}

GradientReducer::~GradientReducer() {
  for (auto& s : impl_->slots) s.param.remove_hook(s.hook);
}

size_t GradientReducer::num_buckets() const { return impl_->buckets.size(); }
size_t GradientReducer::overlapped_buckets() const { return impl_->overlapped; }

void GradientReducer::finish() {
  auto& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mutex);
  if (!d.in_backward) return;
  d.in_backward = false;
  d.overlapped = d.launched_in_backward;
  for (auto& b : d.buckets) {
    if (b.ready) continue;
    for (auto s : b.slots) {  // parameters that took no part in this backward count as zero
      auto& slot = d.slots[s];
      if (!slot.ready) b.flat.narrow(0, slot.offset, slot.param.numel()).zero_(), slot.ready = true;
    }
    b.ready = true;
  }
  d.launch_ready();
  const double world = d.group.world_size();
  for (auto& b : d.buckets) {
    b.work->wait();
    b.work.reset();
    b.flat.div_(world);
    for (auto s : b.slots) {
      auto& slot = d.slots[s];
      auto average = b.flat.narrow(0, slot.offset, slot.param.numel()).view(slot.param.sizes());
      auto& grad = slot.param.mutable_grad();
      if (grad.defined()) {
        grad.add_(average);
      } else {
        grad = average.clone();
      }
    }
  }
}

// ---- the built-in launcher --------------------------------------------------------------------

namespace {

std::vector<std::string> own_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  YOLO_CHECK(in, "cannot read /proc/self/cmdline to start the other ranks (the built-in launcher needs Linux)");
  std::vector<std::string> args;
  std::string arg;
  while (std::getline(in, arg, '\0')) args.push_back(arg);
  YOLO_CHECK(!args.empty(), "/proc/self/cmdline is empty: cannot start the other ranks");
  return args;
}

std::string own_executable() {
  std::vector<char> buffer(4096);
  const auto n = ::readlink("/proc/self/exe", buffer.data(), buffer.size() - 1);
  YOLO_CHECK(n > 0, "cannot resolve /proc/self/exe to start the other ranks: {}", std::strerror(errno));
  return std::string(buffer.data(), static_cast<size_t>(n));
}

}  // namespace

WorkerProcesses::WorkerProcesses(const DistributedEnv& env) {
  YOLO_CHECK(env.rank == 0 && env.world_size > 1, "the launcher runs in rank 0 of a run of several ranks");
  const auto exe = own_executable();
  const auto args = own_command_line();
  const std::vector<std::string> ours{"RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
                                      "LOCAL_WORLD_SIZE", kLaunchedVar};
  std::vector<std::string> base_env;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry = *e;
    const auto name = entry.substr(0, entry.find('='));
    if (std::find(ours.begin(), ours.end(), name) == ours.end()) base_env.push_back(entry);
  }
  long max_fd = ::sysconf(_SC_OPEN_MAX);
  if (max_fd <= 0 || max_fd > 65536) max_fd = 65536;
  const pid_t parent = ::getpid();
  for (int rank = 1; rank < env.world_size; ++rank) {
    // Everything the child needs is built before fork: between fork and exec only async-signal-safe calls.
    std::vector<std::string> child_env = base_env;
    child_env.push_back(fmt::format("RANK={}", rank));
    child_env.push_back(fmt::format("LOCAL_RANK={}", rank));
    child_env.push_back(fmt::format("WORLD_SIZE={}", env.world_size));
    child_env.push_back(fmt::format("LOCAL_WORLD_SIZE={}", env.world_size));
    child_env.push_back(fmt::format("MASTER_ADDR={}", env.master_addr));
    child_env.push_back(fmt::format("MASTER_PORT={}", env.master_port));
    child_env.push_back(fmt::format("{}=1", kLaunchedVar));
    std::vector<char*> argv, envp;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : child_env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const std::string error_text = fmt::format("rank {}: cannot execute {}\n", rank, exe);

    const pid_t pid = ::fork();
    if (pid < 0) {
      const std::string reason = std::strerror(errno);
      end_all();  // the ranks already started
      YOLO_FAIL("cannot start rank {} of {}: fork failed: {}", rank, env.world_size, reason);
    }
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive rank 0
      if (::getppid() != parent) ::_exit(1);
#ifdef SYS_close_range
      if (::syscall(SYS_close_range, 3u, ~0u, 0u) != 0)
#endif
        for (long fd = 3; fd < max_fd; ++fd) ::close(static_cast<int>(fd));
      ::execve(exe.c_str(), argv.data(), envp.data());
      [[maybe_unused]] auto ignored = ::write(2, error_text.data(), error_text.size());
      ::_exit(127);
    }
    children_.push_back(Child{rank, pid, false, 0});
  }
  log_info("DDP: started ranks 1..{} of {} ({} {}), rendezvous at {}:{}", env.world_size - 1, env.world_size, exe,
           args.size() > 1 ? "with the same arguments" : "", env.master_addr, env.master_port);
}

void WorkerProcesses::reap(bool block) {
  for (auto& c : children_) {
    if (c.done) continue;
    int status = 0;
    const pid_t r = ::waitpid(c.pid, &status, block ? 0 : WNOHANG);
    if (r == c.pid || (r < 0 && errno == ECHILD)) c.done = true, c.status = r == c.pid ? status : 0;
  }
}

std::string WorkerProcesses::failures() {
  reap(false);
  std::vector<std::string> parts;
  for (const auto& c : children_)
    if (c.done && status_failed(c.status))
      parts.push_back(fmt::format("rank {} (pid {}) {}", c.rank, c.pid, describe_status(c.status)));
  return fmt::format("{}", fmt::join(parts, "; "));
}

void WorkerProcesses::join(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    reap(false);
    const bool all_done = std::all_of(children_.begin(), children_.end(), [](const Child& c) { return c.done; });
    if (all_done) break;
    if (std::chrono::steady_clock::now() > deadline) {
      std::vector<int> running;
      for (const auto& c : children_)
        if (!c.done) running.push_back(c.rank);
      YOLO_FAIL("rank {} did not exit within {:.0f}s of the end of training", fmt::join(running, ", rank "),
                timeout.count() / 1000.0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const auto failed = failures();
  YOLO_CHECK(failed.empty(), "distributed training failed: {}", failed);
}

WorkerProcesses::~WorkerProcesses() { end_all(); }

void WorkerProcesses::end_all() {
  reap(false);
  for (const auto& c : children_)
    if (!c.done) ::kill(c.pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline &&
         std::any_of(children_.begin(), children_.end(), [](const Child& c) { return !c.done; })) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    reap(false);
  }
  for (const auto& c : children_)
    if (!c.done) ::kill(c.pid, SIGKILL);
  reap(true);
}

}  // namespace yolo::engine
