#include "loss/bbox_loss.h"

#include "loss/iou.h"
#include "utils/boxes.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace loss {

torch::Tensor distribution_focal_loss(const torch::Tensor& pred_logits, const torch::Tensor& target_ltrb) {
  YOLO_CHECK(pred_logits.dim() == 3 && target_ltrb.dim() == 2 && pred_logits.size(0) == target_ltrb.size(0) &&
                 pred_logits.size(1) == target_ltrb.size(1),
             "distribution_focal_loss: expected logits [N, 4, reg_max] and targets [N, 4], got {} and {}",
             c10::str(pred_logits.sizes()), c10::str(target_ltrb.sizes()));
  const auto reg_max = pred_logits.size(-1);
  // Below reg_max - 1 so that the right-hand bin always exists.
  const auto target = target_ltrb.clamp(0, static_cast<double>(reg_max) - 1.01);
  const auto left_bin = target.to(torch::kLong);  // floor, as the target is non-negative
  const auto right_bin = left_bin + 1;
  const auto left_weight = right_bin - target;
  const auto right_weight = 1 - left_weight;
  const auto log_probs = torch::log_softmax(pred_logits, -1);
  const auto left_ce = -log_probs.gather(-1, left_bin.unsqueeze(-1)).squeeze(-1);
  const auto right_ce = -log_probs.gather(-1, right_bin.unsqueeze(-1)).squeeze(-1);
  return (left_ce * left_weight + right_ce * right_weight).mean(-1, /*keepdim=*/true);
}

BboxLoss::BboxLoss(int64_t reg_max) : reg_max_(reg_max) {
  YOLO_CHECK(reg_max > 1, "BboxLoss: reg_max must be at least 2 (distance bins), got {}", reg_max);
}

BboxLoss::Result BboxLoss::operator()(const torch::Tensor& pred_dist, const torch::Tensor& pred_bboxes,
                                      const torch::Tensor& anchor_points, const torch::Tensor& target_bboxes,
                                      const torch::Tensor& target_scores, const torch::Tensor& target_scores_sum,
                                      const torch::Tensor& fg_mask) const {
  YOLO_CHECK(pred_dist.size(-1) == 4 * reg_max_, "BboxLoss: pred_dist must end in 4*reg_max = {} logits, got {}",
             4 * reg_max_, pred_dist.size(-1));
  // Every anchor is computed and the background masked out, rather than the foreground selected: a
  // boolean-mask selection would make the host wait for the device to count it. Each foreground anchor
  // counts as much as its (soft) classification target.
  const auto background = fg_mask.logical_not().unsqueeze(-1);                        // [B, A, 1]
  const auto weight = target_scores.sum(-1, /*keepdim=*/true).masked_fill(background, 0);  // [B, A, 1]

  const auto iou = bbox_iou(pred_bboxes, target_bboxes, IouType::CIoU);  // [B, A, 1]
  const auto box = ((1.0 - iou) * weight).masked_fill(background, 0).sum() / target_scores_sum;

  const auto batch = pred_dist.size(0), num_anchors = pred_dist.size(1);
  const auto target_ltrb = boxes::bbox2dist(anchor_points, target_bboxes, static_cast<double>(reg_max_ - 1));
  const auto dfl_per_anchor = distribution_focal_loss(pred_dist.reshape({-1, 4, reg_max_}), target_ltrb.reshape({-1, 4}))
                                  .view({batch, num_anchors, 1});
  const auto dfl = (dfl_per_anchor * weight).masked_fill(background, 0).sum() / target_scores_sum;
  return {box, dfl};
}

}  // namespace loss
YOLO_END_NAMESPACE
