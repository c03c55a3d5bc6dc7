#pragma once
// Plain result types returned by train, val and predict: no LibTorch needed to read them.
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE

namespace plots {
struct ValidationPlots;
}  // namespace plots

/// One row of the validation table.
struct ClassResult {
  int class_id = 0;
  std::string name;
  long images = 0, instances = 0;
  double precision = 0, recall = 0, map50 = 0, map50_95 = 0;
};

/// Milliseconds per image for each stage, as Ultralytics prints "Speed: ...".
struct Speed {
  double preprocess = 0, inference = 0, loss = 0, postprocess = 0;
};

/// Metrics of one validation run: detection's or classification's, as `task` says.
struct ValResults {
  std::string task = "detect";
  // detect
  double precision = 0, recall = 0, map50 = 0, map75 = 0, map50_95 = 0;
  long instances = 0;
  std::vector<ClassResult> per_class;  ///< classes that have labels in the split
  // classify
  double top1 = 0, top5 = 0;  ///< accuracy: the label is the first / among the first five of the ranking
  // both
  double fitness = 0;  ///< detect: 0.1 mAP50 + 0.9 mAP50-95; classify: (top1 + top5) / 2, as Ultralytics 8.3.166
  long images = 0;
  /// Validation losses by the task's names (detect: box_loss, cls_loss, dfl_loss; classify: loss), when computed.
  std::vector<std::pair<std::string, double>> loss;
  Speed speed;
  std::string save_dir;
  /// What the run's plots draw (curves, confusion matrix, batch pictures): filled by a validation asked for
  /// plots (training with plots=True or tensorboard=True), read by the training loggers; null otherwise.
  std::shared_ptr<const plots::ValidationPlots> plots;
  /// Ultralytics' results_dict: detect metrics/precision(B), metrics/recall(B), metrics/mAP50(B),
  /// metrics/mAP50-95(B), fitness; classify metrics/accuracy_top1, metrics/accuracy_top5, fitness.
  std::vector<std::pair<std::string, double>> results_dict() const;
  /// The sum of the validation losses (0 when none were computed).
  double total_loss() const;
};

/// What a training run returns: the final validation metrics and where everything was written.
struct TrainResults {
  ValResults metrics;
  std::string save_dir;  ///< the run folder, e.g. runs/detect/train3
  std::string last, best;  ///< weights/last.pt and weights/best.pt
  int epochs_completed = 0;
};

/// One detected box in original image pixels.
struct Box {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  float conf = 0;
  int cls = 0;
  std::string name;
};

/// Class probabilities of one image, as Ultralytics' Results.probs.
struct Probs {
  std::vector<float> data;  ///< softmax over the classes, by class index
  int top1 = 0;
  float top1conf = 0;
  std::vector<int> top5;  ///< up to five classes, most probable first
  std::vector<float> top5conf;
  std::vector<std::string> top5_names;
};

/// What the model saw in one image (or video frame): boxes (detect) or class probabilities (classify).
struct Prediction {
  std::string path;
  int orig_height = 0, orig_width = 0;
  std::vector<Box> boxes;
  Probs probs;  ///< empty `data` for detection
  Speed speed;
  std::string error;  ///< non-empty when this source could not be read; the rest of the batch still runs
};

YOLO_END_NAMESPACE
