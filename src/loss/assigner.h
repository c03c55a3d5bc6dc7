#pragma once
// Task-aligned assignment (TOOD, as Ultralytics' YOLOv8 uses it): which anchors learn which
// ground-truth box, and with what soft classification target.
#include <torch/torch.h>

#include <cstdint>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace loss {

struct TaskAlignedAssignerOptions {
  int64_t num_classes = 80;
  int64_t topk = 10;   ///< candidates kept per ground-truth box
  double alpha = 0.5;  ///< weight of the class score in the alignment metric
  double beta = 6.0;   ///< weight of the IoU in the alignment metric
  double eps = 1e-9;
};

/// Per-anchor targets. B images, A anchors, C classes.
struct Assignment {
  torch::Tensor labels;    ///< [B, A] int64 class of the assigned box (meaningful where fg_mask)
  torch::Tensor bboxes;    ///< [B, A, 4] xyxy of the assigned box, in the units of the gt boxes
  torch::Tensor scores;    ///< [B, A, C] one-hot class times the normalised alignment; zero on background
  torch::Tensor fg_mask;   ///< [B, A] bool, anchors assigned to a box
  torch::Tensor gt_index;  ///< [B, A] int64 index of the assigned box among the image's gts
};

/// An anchor becomes a candidate of a gt box when its centre lies inside the box; each box keeps its
/// top-k candidates by alignment metric score^alpha * CIoU^beta; an anchor claimed by several boxes
/// goes to the one it overlaps most. Target scores are the alignment metric rescaled so that each
/// box's best anchor gets that box's best IoU. Fixed shapes throughout (no boolean-mask selection), so it
/// runs on the device of its inputs without making the host wait for it; takes no gradient.
class TaskAlignedAssigner {
 public:
  explicit TaskAlignedAssigner(TaskAlignedAssignerOptions options = {});

  /// pred_scores [B, A, C] probabilities; pred_bboxes [B, A, 4] xyxy; anchor_points [A, 2];
  /// gt_labels [B, M, 1]; gt_bboxes [B, M, 4] xyxy, in the same units as pred_bboxes and anchor_points;
  /// gt_mask [B, M, 1], true for real boxes (images with fewer than M boxes are zero-padded).
  Assignment operator()(const torch::Tensor& pred_scores, const torch::Tensor& pred_bboxes,
                        const torch::Tensor& anchor_points, const torch::Tensor& gt_labels,
                        const torch::Tensor& gt_bboxes, const torch::Tensor& gt_mask) const;

  const TaskAlignedAssignerOptions& options() const { return options_; }

 private:
  TaskAlignedAssignerOptions options_;
};

}  // namespace loss
YOLO_END_NAMESPACE
