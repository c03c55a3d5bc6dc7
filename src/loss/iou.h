#pragma once
// Overlap measures of the IoU family between boxes that are paired element-wise (not all-pairs:
// for an [N,M] matrix of plain IoUs see yolo::boxes::box_iou).
#include <torch/torch.h>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace loss {

enum class IouType {
  IoU,   ///< intersection over union
  GIoU,  ///< IoU minus the share of the enclosing box that neither box covers
  DIoU,  ///< IoU minus the squared centre distance over the squared enclosing diagonal
  CIoU,  ///< DIoU minus an aspect-ratio consistency term: what the box loss and the assigner use
};

/// Overlap of xyxy boxes `a` and `b` ([..., 4] each, broadcast against each other) -> [..., 1].
/// As in Ultralytics, `eps` is added to the heights and to the union, and the CIoU trade-off weight
/// is treated as a constant for the gradient.
torch::Tensor bbox_iou(const torch::Tensor& a, const torch::Tensor& b, IouType type = IouType::CIoU, double eps = 1e-7);

}  // namespace loss
YOLO_END_NAMESPACE
