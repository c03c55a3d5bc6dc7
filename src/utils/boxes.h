#pragma once
// Box arithmetic shared by the model head, the loss, the metrics and the data pipeline.
// Boxes are float tensors whose last dimension is 4.
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace boxes {

/// (cx, cy, w, h) -> (x1, y1, x2, y2).
torch::Tensor xywh2xyxy(const torch::Tensor& xywh);
/// (x1, y1, x2, y2) -> (cx, cy, w, h).
torch::Tensor xyxy2xywh(const torch::Tensor& xyxy);

/// Pairwise IoU of [N,4] and [M,4] xyxy boxes -> [N,M].
torch::Tensor box_iou(const torch::Tensor& a, const torch::Tensor& b, double eps = 1e-7);

/// Anchor points (cell centres, offset 0.5) and their strides for feature maps.
/// Returns {points [A,2] in grid units, strides [A,1]} with A = sum(h*w).
std::pair<torch::Tensor, torch::Tensor> make_anchors(const std::vector<torch::Tensor>& feats,
                                                     const std::vector<double>& strides,
                                                     double offset = 0.5);

/// Distances (left, top, right, bottom) from anchor points -> boxes; `dim` is the coordinate axis.
torch::Tensor dist2bbox(const torch::Tensor& distance, const torch::Tensor& anchor_points, bool xywh = true,
                        int64_t dim = -1);
/// Boxes (xyxy) -> distances (l, t, r, b) from anchor points, clamped to [0, reg_max - 0.01].
torch::Tensor bbox2dist(const torch::Tensor& anchor_points, const torch::Tensor& bbox, double reg_max);

}  // namespace boxes
YOLO_END_NAMESPACE
