#include "engine/process_group.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <map>
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

#include "utils/torch_compat.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {

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

namespace {

/// The keys of the n-th group that rank `rank` of this process creates: every rank creates its groups in
/// the same order (a program that trains twice), so they agree on n, and a later group never reads the
/// keys of an earlier one in a store that outlives it (torchrun's, or a RankLauncher's).
std::string next_group_prefix(int rank) {
  static std::mutex mutex;
  static std::map<int, int> created;  // by rank: threads of one process may play several ranks (tests)
  std::lock_guard<std::mutex> lock(mutex);
  return fmt::format("yolo/{}/", created[rank]++);
}

}  // namespace

struct ProcessGroup::Impl {
  DistributedEnv env;
  std::string prefix;  // of this group's keys in the store
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
        const std::string key = fmt::format("{}heartbeat/{}", prefix, env.rank);
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
        for (int r = 0; r < env.world_size; ++r) counts.push_back(probe->add(fmt::format("{}heartbeat/{}", prefix, r), 0));
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
  impl->prefix = next_group_prefix(env.rank);
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
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>(impl->prefix + "pg", impl->store);
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
  const std::string full = impl_->prefix + "share/" + key;
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

}  // namespace engine
YOLO_END_NAMESPACE
