#pragma once
// The loggers of a training run, attached to its callbacks (on rank 0: the files are the run's, not a rank's):
// results.csv and metrics.jsonl, the console progress and closing summary, TensorBoard (tensorboard=True) and
// the plots (plots=True). The training loop only fires events; everything a person reads is written here.
#include <cstdint>
#include <string>
#include <vector>

#include "loggers/tensorboard.h"
#include "plots/plots.h"
#include "yolo/engine/callbacks.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace loggers {

struct RunLoggerOptions {
  std::string save_dir;
  std::vector<std::string> names;       ///< class names by id
  std::vector<std::string> loss_names;  ///< the task's loss columns without prefix ("box_loss", ...): progress header
  bool plots = true;                    ///< results.png, validation plots, batch pictures, labels.jpg, val_state.json
  bool tensorboard = false;             ///< events.out.tfevents.* in save_dir
  int64_t print_freq = 0;               ///< a kept log line (losses, lr) every print_freq batches; 0: none
  std::vector<GraphNode> graph;         ///< the model's layers for TensorBoard's Graphs tab (may be empty)
  std::vector<plots::LabelBox> labels;  ///< the training split's boxes for labels.jpg (detection; empty: none)
};

/// Adds the loggers to `callbacks`, after any already there. Their state lives as long as the callbacks.
void attach_run_loggers(Callbacks& callbacks, RunLoggerOptions options);

/// The progress bar's status before the bar: epoch, memory, losses, instances and size, in Ultralytics' columns.
std::string progress_header(const std::vector<std::string>& loss_names);
std::string progress_status(const TrainEvent& event);

}  // namespace loggers
YOLO_END_NAMESPACE
