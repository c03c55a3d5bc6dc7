#pragma once
// The two box terms of the detection loss: CIoU on the decoded boxes and the distribution focal
// loss on the per-side distance distributions.
#include <torch/torch.h>

#include <cstdint>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace loss {

/// Distribution focal loss (Generalised Focal Loss, Li et al. 2020). pred_logits [N, 4, reg_max] are
/// the logits over the integer distances 0..reg_max-1 of each box side; target_ltrb [N, 4] are the true
/// distances. A distance t between bins i and i+1 is learnt as cross-entropy towards both bins, weighted
/// (i+1-t) and (t-i). Targets are clamped into [0, reg_max - 1.01]. Returns [N, 1], the mean over the sides.
torch::Tensor distribution_focal_loss(const torch::Tensor& pred_logits, const torch::Tensor& target_ltrb);

/// Box regression loss of the anchors assigned to a box.
class BboxLoss {
 public:
  explicit BboxLoss(int64_t reg_max = 16);

  struct Result {
    torch::Tensor box;  ///< sum over fg anchors of (1 - CIoU) * weight / target_scores_sum
    torch::Tensor dfl;  ///< sum over fg anchors of DFL * weight / target_scores_sum
  };

  /// pred_dist [B, A, 4*reg_max] logits; pred_bboxes [B, A, 4] and target_bboxes [B, A, 4] xyxy and
  /// anchor_points [A, 2], all in grid units (pixels / stride); target_scores [B, A, C]: their sum over
  /// classes weights each anchor; fg_mask [B, A] bool.
  Result operator()(const torch::Tensor& pred_dist, const torch::Tensor& pred_bboxes,
                    const torch::Tensor& anchor_points, const torch::Tensor& target_bboxes,
                    const torch::Tensor& target_scores, const torch::Tensor& target_scores_sum,
                    const torch::Tensor& fg_mask) const;

  int64_t reg_max() const { return reg_max_; }

 private:
  int64_t reg_max_;
};

}  // namespace loss
YOLO_END_NAMESPACE
