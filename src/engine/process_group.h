#pragma once
// The rendezvous store and the process group of a distributed run: the few collectives training needs,
// over c10d's Gloo backend (CPU tensors), or NCCL where the LibTorch build has it and the ranks train on
// CUDA devices. The processes find each other through a TCP store at MASTER_ADDR:MASTER_PORT.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "engine/distributed_env.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {

/// A rendezvous store hosted by this process on a port it holds from the start: `preferred` when free, else
/// one the system picks (pass 0 for any). The ranks are told port() afterwards, so there is no window in
/// which another program takes it. Handed to ProcessGroup::create by rank 0 (or kept by a test playing
/// torchrun's agent), which then uses it instead of hosting one.
class HostedStore {
 public:
  HostedStore(const std::string& addr, int preferred_port, std::chrono::milliseconds timeout, int world_size);
  ~HostedStore();
  HostedStore(const HostedStore&) = delete;
  HostedStore& operator=(const HostedStore&) = delete;
  int port() const;

  struct Impl;

 private:
  friend class ProcessGroup;
  std::unique_ptr<Impl> impl_;
};

/// The c10d process group of a run. Every rank must call the collectives in the same order. A failure
/// (a rank that died, a timeout) throws yolo::Error that names the rank(s) that stopped answering where
/// that can be told.
class ProcessGroup {
 public:
  /// Joins (rank 0: hosts, unless `hosted` or torchrun's agent does) the TCP store and builds the backend;
  /// waits at most `timeout` for the others. Gloo for CPU devices; NCCL for CUDA devices where this build
  /// has it, else Gloo. Groups created one after another in a process (two trainings) use keys of their own.
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

}  // namespace engine
YOLO_END_NAMESPACE
