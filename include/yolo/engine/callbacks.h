#pragma once
// Typed training callbacks with Ultralytics' event names.
#include <array>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "yolo/engine/results.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE

namespace data {
struct Batch;
}  // namespace data

using NamedValues = std::vector<std::pair<std::string, double>>;

/// One completed epoch as results.csv and other loggers record it, with Ultralytics' column names.
struct EpochRecord {
  int epoch = 0;        ///< 1-based, as results.csv counts
  double time = 0;      ///< seconds trained so far, time before a resume included
  NamedValues train_loss;  ///< "train/box_loss", ... (detect) or "train/loss" (classify): the epoch's means
  NamedValues metrics;     ///< results_dict without fitness; zeros when the epoch was not validated
  NamedValues val_loss;    ///< "val/box_loss", ...; zeros when the epoch was not validated
  NamedValues lr;          ///< "lr/pg0", "lr/pg1", "lr/pg2"
  /// Every column after `epoch` and `time`, in results.csv's order.
  NamedValues columns() const;
};

/// What a callback sees of the training run at the moment of its event.
struct TrainEvent {
  std::string name;        ///< the event, e.g. "on_fit_epoch_end"
  int epoch = 0;           ///< 0-based epoch
  int epochs = 0;
  long batch = 0;          ///< batch index within the epoch (batch events)
  long batches = 0;        ///< batches per epoch on this rank
  /// The epoch's mean losses so far ("train/box_loss", ...), as last read from the device: the trainer reads
  /// them at most twice a second (a read waits for the device) and after the epoch's last batch.
  NamedValues train_loss;
  bool losses_read = false;  ///< on_train_batch_end: train_loss was read at this batch (else it is the last read)
  std::array<double, 3> lr{0, 0, 0};  ///< learning rate of parameter groups 0..2 (batch and epoch events)
  /// on_train_batch_start / _end: this rank's batch as loaded (host tensors; images before the task's resize).
  const data::Batch* batch_data = nullptr;
  long instances = 0;      ///< on_train_batch_end: boxes (detect) or images (classify) in the batch
  long image_size = 0;     ///< on_train_batch_end: the side the batch was trained at (multi_scale varies it)
  double memory_gb = 0;    ///< on_train_batch_end: device memory the allocator holds, GB (0 on CPU)
  /// on_val_end: the validation's metrics (and, with plots, what the plots draw); on_fit_epoch_end: the
  /// epoch's; on_train_end: the final validation's.
  ValResults metrics;
  /// The epoch's results.csv row, set at on_fit_epoch_end of a completed epoch (not one cut short).
  std::optional<EpochRecord> record;
  double fitness = 0, best_fitness = 0;
  std::string save_dir;
  int rank = 0, world_size = 1;          ///< this process in a distributed run (callbacks run on every rank)
  std::vector<std::string> batch_files;  ///< the images of this rank's batch (on_train_batch_end)
  bool stop = false;       ///< a callback may set this to end training after the current epoch
};

using TrainCallback = std::function<void(TrainEvent&)>;

/// Event names a callback may be attached to.
const std::vector<std::string>& callback_events();

/// Callbacks by event name; adding to an unknown event is an error that names the known ones.
class Callbacks {
 public:
  void add(const std::string& event, TrainCallback callback);
  void run(const std::string& event, TrainEvent& state) const;

 private:
  std::map<std::string, std::vector<TrainCallback>> callbacks_;
};

YOLO_END_NAMESPACE
