#pragma once
// Ultralytics' confusion matrix: rows are predicted classes, columns true classes. Detection's has one more
// row and column for background (missed labels, unmatched predictions); classification's has none.
#include <torch/torch.h>

#include <cstdint>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace metrics {

class ConfusionMatrix {
 public:
  /// Ultralytics' validator counts predictions above conf 0.25 (it substitutes 0.25 for val's default
  /// 0.001) matched at IoU above 0.45.
  explicit ConfusionMatrix(int64_t nc, double conf = 0.25, double iou = 0.45);
  /// Classification's [nc, nc] matrix, filled by process_classes().
  static ConfusionMatrix for_classification(int64_t nc);

  /// One image: preds [n, 6] x1 y1 x2 y2 conf cls, labels [m, 5] cls x1 y1 x2 y2. Matching ignores
  /// classes: each prediction keeps its best-IoU label and each label its best-IoU prediction.
  void process_batch(const torch::Tensor& preds, const torch::Tensor& labels);

  /// Classification: each image's top-1 class `predicted` [n] against its label `truth` [n] (integers).
  void process_classes(const torch::Tensor& predicted, const torch::Tensor& truth);

  /// Adds another matrix's counts (sharded validation).
  void merge(const ConfusionMatrix& other);
  /// Adds counts of the same shape, e.g. other ranks' summed by an all-reduce.
  void add_counts(const torch::Tensor& counts);

  bool has_background() const { return matrix_.size(0) > nc_; }
  /// [nc+1, nc+1] (detection) or [nc, nc] (classification) int64 counts, [predicted, true].
  const torch::Tensor& matrix() const { return matrix_; }
  /// True and false positives per class [nc] (the diagonal, and the rest of each row).
  torch::Tensor true_positives() const;
  torch::Tensor false_positives() const;

 private:
  int64_t nc_;
  double conf_, iou_;
  torch::Tensor matrix_;
};

}  // namespace metrics
YOLO_END_NAMESPACE
