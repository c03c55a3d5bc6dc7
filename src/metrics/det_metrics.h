#pragma once
// Detection statistics as Ultralytics' DetectionValidator gathers them: each prediction is matched to
// the labels of its image at the ten COCO IoU thresholds, and the per-image results are accumulated
// until compute() turns them into mAP.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "metrics/ap.h"
#include "metrics/table.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace metrics {

/// Which predictions are true positives at each IoU threshold, Ultralytics' greedy match_predictions.
/// pred_classes [n], true_classes [m], iou [m, n] (labels x predictions), iou_thresholds [T].
/// Returns [n, T] bool on the device of pred_classes. At each threshold, each prediction takes the label
/// of the same class it overlaps most (IoU >= threshold); a label taken by several predictions counts
/// only for the lowest-index one (predictions come score-sorted from NMS) — Ultralytics' behaviour,
/// not a global best-IoU assignment.
torch::Tensor match_predictions(const torch::Tensor& pred_classes, const torch::Tensor& true_classes,
                                const torch::Tensor& iou, const torch::Tensor& iou_thresholds);

/// The statistics of a validation run (Ultralytics' DetMetrics.stats), kept on the CPU.
class DetectionStats {
 public:
  explicit DetectionStats(int64_t nc);

  /// One image: preds [n, 6] x1 y1 x2 y2 conf cls and labels [m, 5] cls x1 y1 x2 y2, both in the same
  /// pixel space (any device).
  void add_image(const torch::Tensor& preds, const torch::Tensor& labels);

  /// Appends another shard's images, as if this object had seen them after its own.
  void merge(const DetectionStats& other);

  /// Flat tensors for a collective gather: tp [N, 10] bool, conf [N] float, pred_cls [N] int64,
  /// target_cls [M] int64, target_img [K] int64 (the distinct classes of each image), and images [1]
  /// int64. Concatenating the same fields of several shards and calling from_tensors equals merge.
  std::vector<torch::Tensor> to_tensors() const;
  static DetectionStats from_tensors(int64_t nc, const std::vector<torch::Tensor>& tensors);

  /// mAP and friends over everything added so far.
  DetectionMetrics compute() const;

  int64_t nc() const { return nc_; }
  int64_t images() const { return images_; }
  int64_t instances() const;

 private:
  void flatten() const;  // concatenates pending per-image chunks

  int64_t nc_;
  int64_t images_ = 0;
  torch::Tensor iou_thresholds_;
  // Per-image chunks, concatenated lazily: validation adds thousands of small images.
  mutable std::vector<torch::Tensor> tp_, conf_, pred_cls_, target_cls_, target_img_;
};

}  // namespace metrics
YOLO_END_NAMESPACE
