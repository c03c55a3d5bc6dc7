#pragma once
// Gradient averaging across the ranks of a distributed run.
#include <cstddef>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "engine/process_group.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {

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

}  // namespace engine
YOLO_END_NAMESPACE
