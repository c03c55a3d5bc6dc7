#include "loss/assigner.h"

#include <algorithm>
#include <vector>

#include "loss/iou.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace loss {

namespace {

/// [B, M, A]: true where the anchor centre lies strictly inside the gt box.
torch::Tensor anchors_inside_boxes(const torch::Tensor& anchor_points, const torch::Tensor& gt_bboxes, double eps) {
  const auto points = anchor_points.view({1, 1, -1, 2});
  const auto top_left = gt_bboxes.narrow(-1, 0, 2).unsqueeze(2);
  const auto bottom_right = gt_bboxes.narrow(-1, 2, 2).unsqueeze(2);
  return torch::cat({points - top_left, bottom_right - points}, -1).amin(-1).gt(eps);
}

/// [B, M, A]: 1 where the anchor is among the box's top-k by `metric`. Padded boxes select nothing.
torch::Tensor topk_candidates(const torch::Tensor& metric, const torch::Tensor& gt_mask, int64_t topk) {
  const auto k = std::min<int64_t>(topk, metric.size(-1));
  auto topk_index = std::get<1>(metric.topk(k, -1, /*largest=*/true));
  // Padded boxes point all their k picks at anchor 0, whose count then exceeds 1 and is dropped below.
  topk_index.masked_fill_(gt_mask.logical_not().expand_as(topk_index), 0);
  auto counts = torch::zeros_like(metric).scatter_add_(-1, topk_index, torch::ones_like(topk_index, metric.options()));
  return counts.eq(1);
}

/// [B, M, A]: CIoU of every gt box with every prediction where `candidate`, 0 elsewhere. Computed densely,
/// in fixed shapes: selecting the candidate pairs with a boolean mask would make the host wait for the
/// device to count them. Boxes broadcast against predictions (per-box terms such as the aspect angle are
/// computed once per box), a few boxes at a time so that crowded batches stay within a bounded workspace.
torch::Tensor candidate_overlaps(const torch::Tensor& gt_bboxes, const torch::Tensor& pred_bboxes,
                                 const torch::Tensor& candidate) {
  constexpr int64_t kPairsPerChunk = int64_t{1} << 22;  // ~16 MB per float temporary
  const auto batch = gt_bboxes.size(0), max_boxes = gt_bboxes.size(1), num_anchors = pred_bboxes.size(1);
  const auto boxes_per_chunk = std::max<int64_t>(1, kPairsPerChunk / std::max<int64_t>(1, batch * num_anchors));
  const auto predictions = pred_bboxes.unsqueeze(1);  // [B, 1, A, 4]
  std::vector<torch::Tensor> chunks;
  for (int64_t first = 0; first < max_boxes; first += boxes_per_chunk) {
    const auto n = std::min(boxes_per_chunk, max_boxes - first);
    const auto boxes = gt_bboxes.narrow(1, first, n).unsqueeze(2);  // [B, n, 1, 4]
    chunks.push_back(bbox_iou(boxes, predictions, IouType::CIoU).squeeze(-1).clamp_min_(0));
  }
  auto overlaps = chunks.size() == 1 ? chunks.front() : torch::cat(chunks, 1);
  return overlaps.masked_fill_(candidate.logical_not(), 0);
}

}  // namespace

TaskAlignedAssigner::TaskAlignedAssigner(TaskAlignedAssignerOptions options) : options_(options) {
  YOLO_CHECK(options_.num_classes > 0, "TaskAlignedAssigner: num_classes must be positive, got {}",
             options_.num_classes);
  YOLO_CHECK(options_.topk > 0, "TaskAlignedAssigner: topk must be positive, got {}", options_.topk);
}

Assignment TaskAlignedAssigner::operator()(const torch::Tensor& pred_scores, const torch::Tensor& pred_bboxes,
                                           const torch::Tensor& anchor_points, const torch::Tensor& gt_labels,
                                           const torch::Tensor& gt_bboxes, const torch::Tensor& gt_mask) const {
  torch::NoGradGuard no_grad;
  YOLO_CHECK(pred_scores.dim() == 3 && pred_scores.size(2) == options_.num_classes,
             "TaskAlignedAssigner: pred_scores must be [B, A, {}], got {}", options_.num_classes,
             c10::str(pred_scores.sizes()));
  YOLO_CHECK(pred_bboxes.dim() == 3 && pred_bboxes.size(2) == 4, "TaskAlignedAssigner: pred_bboxes must be [B, A, 4]");
  YOLO_CHECK(gt_bboxes.dim() == 3 && gt_bboxes.size(2) == 4, "TaskAlignedAssigner: gt_bboxes must be [B, M, 4]");
  const auto batch = pred_scores.size(0), num_anchors = pred_scores.size(1), max_boxes = gt_bboxes.size(1);
  const auto long_opts = pred_scores.options().dtype(torch::kLong);

  if (max_boxes == 0) {  // no image of the batch has a box: everything is background
    return {torch::full({batch, num_anchors}, options_.num_classes, long_opts), torch::zeros_like(pred_bboxes),
            torch::zeros_like(pred_scores), torch::zeros({batch, num_anchors}, long_opts.dtype(torch::kBool)),
            torch::zeros({batch, num_anchors}, long_opts)};
  }

  const auto real_box = gt_mask.to(torch::kBool);                                    // [B, M, 1]
  const auto inside = anchors_inside_boxes(anchor_points, gt_bboxes, options_.eps);  // [B, M, A]
  const auto candidate = inside.logical_and(real_box);                               // [B, M, A]
  const auto labels = gt_labels.squeeze(-1).to(torch::kLong);                        // [B, M]

  // Class score of each box's class at every anchor, and CIoU of box and prediction, on candidates only.
  const auto class_scores =
      pred_scores.transpose(1, 2).gather(1, labels.unsqueeze(-1).expand({batch, max_boxes, num_anchors}));
  const auto box_scores = torch::where(candidate, class_scores, torch::zeros_like(class_scores));
  const auto overlaps = candidate_overlaps(gt_bboxes, pred_bboxes, candidate);
  auto align_metric = box_scores.pow(options_.alpha) * overlaps.pow(options_.beta);

  const auto topk = topk_candidates(align_metric, real_box, options_.topk);
  auto positive = topk.logical_and(inside).logical_and(real_box).to(overlaps.scalar_type());  // [B, M, A]

  // An anchor claimed by several boxes keeps only the box it overlaps most.
  const auto claims = positive.sum(1, /*keepdim=*/true);  // [B, 1, A]
  const auto best_box = torch::zeros_like(positive).scatter_(1, overlaps.argmax(1, /*keepdim=*/true), 1);
  positive = torch::where(claims.gt(1), best_box, positive);
  const auto fg_mask = positive.sum(1).gt(0);  // [B, A]
  const auto gt_index = positive.argmax(1);    // [B, A]

  // Targets of the assigned boxes.
  auto target_labels = labels.gather(1, gt_index).clamp_min(0);
  const auto target_bboxes = gt_bboxes.gather(1, gt_index.unsqueeze(-1).expand({batch, num_anchors, 4}));
  auto target_scores = torch::zeros({batch, num_anchors, options_.num_classes}, overlaps.options())
                           .scatter_(2, target_labels.unsqueeze(-1), 1)
                           .mul_(fg_mask.unsqueeze(-1));

  // Rescale the metric per box so that its best anchor's target equals its best IoU, then take each
  // anchor's value for the box it was given.
  align_metric = align_metric * positive;
  const auto best_metric = align_metric.amax(-1, /*keepdim=*/true);            // [B, M, 1]
  const auto best_overlap = (overlaps * positive).amax(-1, /*keepdim=*/true);  // [B, M, 1]
  const auto normalised = (align_metric * best_overlap / (best_metric + options_.eps)).amax(1).unsqueeze(-1);
  target_scores.mul_(normalised);

  return {target_labels, target_bboxes, target_scores, fg_mask, gt_index};
}

}  // namespace loss
YOLO_END_NAMESPACE
