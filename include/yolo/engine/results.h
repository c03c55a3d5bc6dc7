#pragma once
// Plain result types returned by train, val and predict: no LibTorch needed to read them.
#include <array>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace yolo {

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

/// Detection metrics of one validation run.
struct ValResults {
  double precision = 0, recall = 0, map50 = 0, map75 = 0, map50_95 = 0, fitness = 0;
  long images = 0, instances = 0;
  std::vector<ClassResult> per_class;  ///< classes that have labels in the split
  std::array<double, 3> loss{0, 0, 0};  ///< box, cls, dfl validation losses (when computed)
  Speed speed;
  std::string save_dir;
  /// Ultralytics' results_dict keys: metrics/precision(B), metrics/recall(B), metrics/mAP50(B),
  /// metrics/mAP50-95(B), fitness.
  std::vector<std::pair<std::string, double>> results_dict() const;
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

/// Detections of one image (or video frame).
struct Prediction {
  std::string path;
  int orig_height = 0, orig_width = 0;
  std::vector<Box> boxes;
  Speed speed;
  std::string error;  ///< non-empty when this source could not be read; the rest of the batch still runs
};

}  // namespace yolo
