#pragma once
// The engine's typed options. TrainArgs is the user's vocabulary; make_run_options() is the one
// place that turns it into the options of each component (trainer, data, loss, validator,
// predictor), which then read only their own struct.
#include <cstdint>
#include <string>
#include <vector>

#include "data/options.h"
#include "engine/validator.h"
#include "loss/detection_loss.h"
#include "yolo/config/args.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace engine {

/// Where a task's data comes from and how images are prepared.
struct DataOptions {
  std::string data;          ///< dataset YAML, or (classify) a folder with train/ and val/
  std::string datasets_dir;  ///< a second folder where relative dataset paths are looked up
  std::string split = "val";  ///< the split validation reads
  data::DatasetOptions dataset;  ///< imgsz, cache, single_cls, fraction, classes, rect, augmentation
  int64_t workers = 8;
  uint64_t seed = 0;
};

/// The training loop's own settings: the order of things, not the maths of any task.
struct TrainerOptions {
  int64_t epochs = 100;
  double time = 0;  ///< hours; 0: no limit
  int64_t patience = 100;
  std::string patience_metric = "fitness";  ///< "fitness" (Ultralytics) or "val_loss" (stop when it stops falling)
  double batch = 16;
  int64_t imgsz = 640;
  bool save = true;
  int64_t save_period = -1;
  std::string device;
  std::string project, name;
  bool exist_ok = false;
  std::string resume = "false";
  bool val = true, plots = true, verbose = true, save_json = false;
  bool amp = true, deterministic = true;
  int64_t seed = 0;
  // optimisation
  std::string optimizer = "auto";
  double lr0 = 0.01, lrf = 0.01, momentum = 0.937, weight_decay = 0.0005;
  std::string lr_schedule = "linear";  ///< linear, cosine (cos_lr=True) or poly
  double lr_power = 0.9;               ///< the exponent of lr_schedule=poly
  double warmup_epochs = 3.0, warmup_momentum = 0.8, warmup_bias_lr = 0.1;
  int64_t nbs = 64;
  bool scale_lr = false;
  std::vector<int64_t> freeze;
  double dropout = 0;
  // data order
  int64_t close_mosaic = 10;
  bool multi_scale = false;
  // distributed and logging
  double ddp_timeout = 10800;
  int64_t print_freq = 0;  ///< a log line every print_freq iterations; 0: the progress bar only
  bool tensorboard = false;  ///< TensorBoard events in the run folder
};

/// What `predict` does with each image and where it goes.
struct PredictorOptions {
  int64_t imgsz = 640;
  std::string device;
  int64_t batch = 1;
  double conf = 0.25, iou = 0.7;
  int64_t max_det = 300;
  bool agnostic_nms = false, half = false;
  std::vector<int64_t> classes;
  int64_t vid_stride = 1;
  bool save = false, save_txt = false, save_conf = false, save_crop = false;
  bool show_labels = true, show_conf = true;
  int64_t line_width = 0;  ///< 0: scaled to the image
  std::string project, name;
  bool exist_ok = false;
};

/// Every component's options for one run of `task`.
struct RunOptions {
  std::string task = "detect";
  TrainerOptions trainer;
  DataOptions data;
  loss::DetectionLossOptions detection_loss;
  ValidatorOptions validator;  ///< training's per-epoch validation, or `val` mode
  PredictorOptions predictor;
};

/// The one conversion from the user's arguments. `task` is the model's (TrainArgs' own `task` key
/// names what the CLI asked for; Model checks they agree).
RunOptions make_run_options(const TrainArgs& args, const std::string& task);

/// The options of detection datasets for training or validation, as make_run_options() sets them.
data::DatasetOptions detection_dataset_options(const TrainArgs& args, bool train);

}  // namespace engine
YOLO_END_NAMESPACE
