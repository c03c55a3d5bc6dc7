#pragma once
// Typed training callbacks with Ultralytics' event names.
#include <array>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "yolo/engine/results.h"

namespace yolo {

/// What a callback sees of the training run at the moment of its event.
struct TrainEvent {
  std::string name;        ///< the event, e.g. "on_fit_epoch_end"
  int epoch = 0;           ///< 0-based epoch
  int epochs = 0;
  long batch = 0;          ///< batch index within the epoch (batch events)
  /// Mean box, cls, dfl loss of the epoch so far, as last read from the device: the trainer reads it at most
  /// twice a second (a read waits for the device) and after the epoch's last batch.
  std::array<double, 3> train_loss{0, 0, 0};
  std::array<double, 3> lr{0, 0, 0};          ///< learning rate of parameter groups 0..2
  ValResults metrics;      ///< valid from on_fit_epoch_end
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

}  // namespace yolo
