#pragma once
// The epoch's running mean of the loss items, kept on the training device: each batch adds to it without
// the host waiting for the device, and the host reads it only when it needs the figures (a progress refresh,
// the end of the epoch), one synchronisation per read.
#include <chrono>
#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {

class RunningLosses {
 public:
  /// `count` loss items per batch; reads come at most every `refresh` while batches run.
  RunningLosses(int64_t count, const torch::Device& device,
                std::chrono::milliseconds refresh = std::chrono::milliseconds(500));

  /// Batch `index` (0-based within the epoch): folds its detached loss items into the mean as Ultralytics'
  /// tloss = (tloss * i + items) / (i + 1), and notes the batch if its total loss is not finite.
  void add(int64_t index, const torch::Tensor& items, const torch::Tensor& total);

  /// Whether a read is worth its wait: batches were added since the last one, and `refresh` has passed or
  /// the caller needs the figures now (`now`).
  bool due(bool now) const;

  struct Reading {
    std::vector<double> means;
    int64_t first_non_finite = -1;  ///< the first batch whose total loss was NaN or infinite; -1: none
  };
  /// Waits for the device and reads (engine::read_to_host).
  Reading read();

 private:
  using Clock = std::chrono::steady_clock;
  int64_t count_;
  torch::Tensor values_;  // float32 [count + 1]: the means, then the first non-finite batch (-1: none)
  int64_t unread_ = 0;
  std::chrono::milliseconds refresh_;
  Clock::time_point last_read_ = Clock::now();
};

}  // namespace engine
YOLO_END_NAMESPACE
