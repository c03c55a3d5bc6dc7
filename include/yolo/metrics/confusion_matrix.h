#pragma once
// Ultralytics' detection confusion matrix: rows are predicted classes, columns true classes, and the
// last row and column stand for background (missed labels, unmatched predictions).
#include <torch/torch.h>

#include <cstdint>

namespace yolo::metrics {

class ConfusionMatrix {
 public:
  /// Ultralytics' validator counts predictions above conf 0.25 (it substitutes 0.25 for val's default
  /// 0.001) matched at IoU above 0.45.
  explicit ConfusionMatrix(int64_t nc, double conf = 0.25, double iou = 0.45);

  /// One image: preds [n, 6] x1 y1 x2 y2 conf cls, labels [m, 5] cls x1 y1 x2 y2. Matching ignores
  /// classes: each prediction keeps its best-IoU label and each label its best-IoU prediction.
  void process_batch(const torch::Tensor& preds, const torch::Tensor& labels);

  /// Adds another matrix's counts (sharded validation).
  void merge(const ConfusionMatrix& other);

  /// [nc+1, nc+1] int64 counts, [predicted, true].
  const torch::Tensor& matrix() const { return matrix_; }
  /// True and false positives per class [nc] (the diagonal, and the rest of each row).
  torch::Tensor true_positives() const;
  torch::Tensor false_positives() const;

 private:
  int64_t nc_;
  double conf_, iou_;
  torch::Tensor matrix_;
};

}  // namespace yolo::metrics
