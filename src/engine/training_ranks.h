#pragma once
// The ranks of one training run as the trainer sees them: who this process is, the few collectives the
// loop needs, and the gradient reducer. In a single process every call is the identity or a no-op, so the
// trainer has one path for one process and for many (CPU, CUDA, MPS; Gloo or NCCL).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "engine/device.h"
#include "engine/distributed_env.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {

class ProcessGroup;
class GradientReducer;
struct LaunchedRun;

class TrainingRanks {
 public:
  /// One process: rank 0 of 1.
  TrainingRanks();
  /// Joins the run's ranks when the environment (torchrun, Slurm) or several devices (ranks a
  /// yolo::RankLauncher started) ask for it, and moves `device.primary` to this rank's device. Ranks other
  /// than 0 log warnings and errors only, as Ultralytics' quiet ranks, until this object ends.
  /// `device_arg` is the user's `device=` (for messages); `timeout_s` bounds the rendezvous and collectives.
  static std::unique_ptr<TrainingRanks> join(DeviceChoice& device, const std::string& device_arg, double timeout_s);
  ~TrainingRanks();
  TrainingRanks(const TrainingRanks&) = delete;
  TrainingRanks& operator=(const TrainingRanks&) = delete;

  bool distributed() const { return group_ != nullptr; }
  int rank() const;
  int world_size() const;
  bool main() const { return rank() == 0; }
  /// The process group, or nullptr in a single process (validators shard their batches over it).
  ProcessGroup* group() const { return group_.get(); }

  /// Rank 0's values of `tensors`, copied in place on every rank (one flat collective per dtype).
  void broadcast(std::vector<torch::Tensor> tensors);
  /// Whether `flag` is true on any rank: every rank takes the same decision (stop, skip AMP).
  bool any(bool flag);
  /// The mean over ranks of `values`, in place.
  void average(std::vector<double>& values);
  /// Rank 0's `value` on every rank (the run folder rank 0 chose).
  std::string share(const std::string& key, const std::string& value);
  void barrier();

  /// From now on, the gradients of `parameters` are averaged across ranks during each backward
  /// (bucketed all-reduces overlapped with it); finish_backward() completes them. Returns the bucket count.
  size_t reduce_gradients(std::vector<torch::Tensor> parameters);
  /// After each backward: waits for the gradient all-reduces (no-op in a single process).
  void finish_backward();

 private:
  std::unique_ptr<ProcessGroup> group_;
  std::unique_ptr<GradientReducer> reducer_;
  std::optional<LogLevel> saved_log_level_;
};

}  // namespace engine
YOLO_END_NAMESPACE
