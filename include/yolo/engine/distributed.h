#pragma once
// Distributed data-parallel (DDP) training: one process per device, gradients averaged across them.
//
// A run has `world_size` processes (ranks). Each trains on its shard of every epoch with batch / world_size
// images, its gradients are summed across ranks by a bucketed all-reduce that overlaps with backward, and
// rank 0 alone logs progress and writes the run folder. The processes find each other through a TCP store
// at MASTER_ADDR:MASTER_PORT hosted by rank 0, and talk through c10d's Gloo backend (CPU tensors), or NCCL
// where the LibTorch build has it and the ranks train on CUDA devices.
//
// Ranks come from the environment, as torchrun and Slurm set it (RANK / LOCAL_RANK / WORLD_SIZE /
// MASTER_ADDR / MASTER_PORT, or SLURM_PROCID / SLURM_LOCALID / SLURM_NTASKS), or from the built-in launcher:
// `device=0,1` or `device=cpu,cpu` in a process that is not yet a rank makes it rank 0 and starts ranks
// 1..n-1 as copies of the same executable with the same arguments.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace yolo::engine {

/// Where this process sits in a distributed run.
struct DistributedEnv {
  int rank = 0, local_rank = 0, world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string source = "none";  ///< "env" (torchrun-style), "slurm", "launcher" or "none"
  bool active() const { return world_size > 1; }
};

/// Reads the rank variables of the environment; a single process (world_size 1) when none are set.
/// Inconsistent or malformed values are an error naming the variable.
DistributedEnv distributed_env_from_environment();

/// The rendezvous store of rank 0, hosted before the other ranks exist (the built-in launcher), so that
/// the port they are given is one this process already holds: `preferred` when free, else one the system
/// picks. Handed to ProcessGroup::create, which then uses it instead of hosting one.
class HostedStore {
 public:
  HostedStore(const std::string& addr, int preferred_port, std::chrono::milliseconds timeout, int world_size);
  ~HostedStore();
  HostedStore(const HostedStore&) = delete;
  HostedStore& operator=(const HostedStore&) = delete;
  int port() const;

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The c10d process group of a run, with the few collectives training needs. Every rank must call
/// the collectives in the same order. A failure (a rank that died, a timeout) throws yolo::Error that
/// names the rank(s) that stopped answering where that can be told.
class ProcessGroup {
 public:
  /// Joins (rank 0: hosts) the TCP store and builds the backend; waits at most `timeout` for the others.
  /// Gloo for CPU devices; NCCL for CUDA devices where this build has it, else Gloo.
  static std::unique_ptr<ProcessGroup> create(const DistributedEnv& env, const torch::Device& device,
                                              std::chrono::milliseconds timeout,
                                              std::shared_ptr<HostedStore> hosted = nullptr);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const;
  int world_size() const;
  const std::string& backend_name() const;
  std::chrono::milliseconds timeout() const;

  /// Copies `root`'s tensors into every rank's (in place; same shapes on every rank).
  void broadcast(std::vector<torch::Tensor>& tensors, int root = 0);
  /// Sums `tensor` across ranks in place.
  void allreduce_sum(torch::Tensor& tensor);
  /// Starts summing `tensor` across ranks in place; wait() on the handle before reading it.
  class Pending;
  std::unique_ptr<Pending> allreduce_sum_async(torch::Tensor& tensor);
  /// Every rank's 1-D `tensor` (lengths may differ between ranks), in rank order.
  std::vector<torch::Tensor> allgather_variable(const torch::Tensor& tensor);
  /// Waits for every rank.
  void barrier();

  /// rank 0's `value_on_root` on every rank (through the store), e.g. the run folder rank 0 chose.
  std::string share(const std::string& key, const std::string& value_on_root);

  /// Adds what a launcher knows (which child died, how) to the error of a failed collective.
  void on_failure_describe(std::function<std::string()> describe);
  /// Turns a failure of a collective into an error naming the rank(s) that stopped answering.
  [[noreturn]] void fail(const std::string& what, const std::exception& cause);

  struct Impl;

 private:
  explicit ProcessGroup(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class ProcessGroup::Pending {
 public:
  virtual ~Pending() = default;
  virtual void wait() = 0;
};

/// Averages gradients across ranks as PyTorch's DistributedDataParallel does: parameters are packed into
/// buckets (in reverse order, as gradients arrive during backward), a hook on each parameter copies its
/// gradient into its bucket, and a full bucket starts an asynchronous all-reduce while backward goes on.
/// finish() waits for all of them and adds the averages into the parameters' .grad.
///
/// Why not c10d::Reducer: its constructor and its protocol (prepare_for_forward/backward, the logger,
/// the comm hook) are driven by Python's DDP and change between LibTorch 1.13 and 2.x (ProcessGroup vs
/// Backend); gradient hooks and the process group's allreduce are stable C++ API, and a reducer of our
/// own is short enough to read.
///
/// Gradient accumulation: every backward is reduced (Ultralytics' DDP has no no_sync), and the hook hands
/// autograd a zero gradient so that .grad holds only reduced values, bitwise what a single process
/// accumulating the same micro-batches holds.
class GradientReducer {
 public:
  GradientReducer(ProcessGroup& group, std::vector<torch::Tensor> parameters, size_t bucket_bytes = 25u << 20,
                  size_t first_bucket_bytes = 1u << 20);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  /// Completes the reduction of the last backward: waits for the buckets in flight, starts those whose
  /// parameters got no gradient (they count as zero), divides by world_size and adds into .grad.
  /// A no-op when no backward ran since the last call.
  void finish();
  size_t num_buckets() const;
  /// Buckets of the last finished backward whose all-reduce started while backward was still running
  /// (the overlap); the others started in finish().
  size_t overlapped_buckets() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// Ranks 1..n-1 of a run started by the built-in launcher: child processes running this executable with the
/// same arguments and RANK / LOCAL_RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT set. The destructor ends
/// (SIGTERM, then SIGKILL) and reaps the children still running, so that no rank outlives a failed run.
class WorkerProcesses {
 public:
  /// Starts the children for `env` (whose rank is 0). Their stdout/stderr are this process's.
  explicit WorkerProcesses(const DistributedEnv& env);
  ~WorkerProcesses();
  WorkerProcesses(const WorkerProcesses&) = delete;
  WorkerProcesses& operator=(const WorkerProcesses&) = delete;

  /// Waits (up to `timeout`) for every child to exit; an error naming the first that failed.
  void join(std::chrono::milliseconds timeout);
  /// "rank 2 (pid 1234) was killed by signal 9 (Killed)" for each child that has failed so far; empty if none.
  std::string failures();

 private:
  void reap(bool block);
  void end_all();
  struct Child {
    int rank = 0;
    int pid = -1;
    bool done = false;
    int status = 0;
  };
  std::vector<Child> children_;
};

/// A TCP port for a rendezvous (tests, scripts that start ranks themselves): `preferred` if it is free on
/// this machine now, else a free port the system chooses. (The built-in launcher uses HostedStore, which
/// keeps the port it finds.)
int pick_master_port(int preferred = 29500);

/// True in a child started by the built-in launcher (it exits once training is over).
bool is_launched_worker();

}  // namespace yolo::engine
