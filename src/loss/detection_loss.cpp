#include "yolo/loss/detection_loss.h"

#include <utility>

#include <ATen/record_function.h>

#include "yolo/utils/boxes.h"
#include "yolo/utils/error.h"

namespace yolo::loss {

namespace {

/// [N, 6] (batch_idx, cls, cx, cy, w, h normalised) -> [B, M, 5] (cls, x1, y1, x2, y2 in pixels),
/// M the largest box count of an image, shorter images zero-padded. Boxes keep their input order
/// within an image, which decides ties in the assignment as in Ultralytics.
torch::Tensor pad_targets_per_image(const torch::Tensor& targets, int64_t batch, int64_t nc, double image_w,
                                    double image_h, const torch::Device& device) {
  YOLO_CHECK(targets.dim() == 2 && targets.size(1) == 6,
             "DetectionLoss: targets must be [N, 6] (batch_idx, cls, cx, cy, w, h), got {}", c10::str(targets.sizes()));
  const auto float_opts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const auto n = targets.size(0);
  if (n == 0) return torch::zeros({batch, 0, 5}, float_opts);

  const auto t = targets.to(float_opts);
  const auto image_index = t.select(1, 0).to(torch::kLong);
  // One host round trip checks the indices, which would otherwise fail deep inside scatter or bincount.
  const auto ranges = torch::stack({image_index.min().to(torch::kFloat32), image_index.max().to(torch::kFloat32),
                                    t.select(1, 1).min(), t.select(1, 1).max()})
                          .cpu();
  const auto r = ranges.accessor<float, 1>();
  YOLO_CHECK(r[0] >= 0 && r[1] < batch, "DetectionLoss: target batch indices must lie in [0, {}), got [{}, {}]", batch,
             r[0], r[1]);
  YOLO_CHECK(r[2] >= 0 && r[3] < nc, "DetectionLoss: target classes must lie in [0, {}), got [{}, {}]", nc, r[2], r[3]);

  const auto counts = torch::bincount(image_index, /*weights=*/{}, batch);
  const auto max_boxes = counts.max().item<int64_t>();
  // Slot of each box within its image: its rank after a stable sort by image.
  const auto order = std::get<1>(image_index.sort(/*stable=*/true, /*dim=*/0, /*descending=*/false));
  const auto sorted_image = image_index.index_select(0, order);
  const auto first_slot = counts.cumsum(0) - counts;
  const auto slot = torch::arange(n, sorted_image.options()) - first_slot.index_select(0, sorted_image);

  auto padded = torch::zeros({batch, max_boxes, 5}, float_opts);
  padded.index_put_({sorted_image, slot}, t.index_select(0, order).narrow(1, 1, 5));
  const auto scale = torch::tensor({image_w, image_h, image_w, image_h}, float_opts);
  const auto xyxy = boxes::xywh2xyxy(padded.narrow(-1, 1, 4) * scale);
  return torch::cat({padded.narrow(-1, 0, 1), xyxy}, -1);
}

/// Expected distance per side (softmax over the bins, dotted with the bin values) -> xyxy boxes in grid units.
torch::Tensor decode_boxes(const torch::Tensor& anchor_points, const torch::Tensor& pred_dist, int64_t reg_max) {
  const auto batch = pred_dist.size(0), num_anchors = pred_dist.size(1);
  const auto bin_values = torch::arange(reg_max, pred_dist.options());
  const auto distances = pred_dist.view({batch, num_anchors, 4, reg_max}).softmax(3).matmul(bin_values);
  return boxes::dist2bbox(distances, anchor_points, /*xywh=*/false);
}

}  // namespace

DetectionLoss::DetectionLoss(int64_t nc, std::vector<double> strides, DetectionLossOptions options)
    : nc_(nc),
      strides_(std::move(strides)),
      options_(options),
      assigner_(TaskAlignedAssignerOptions{nc, options.topk, options.alpha, options.beta, 1e-9}),
      bbox_loss_(options.reg_max) {
  YOLO_CHECK(nc > 0, "DetectionLoss: nc must be positive, got {}", nc);
  YOLO_CHECK(!strides_.empty(), "DetectionLoss: needs the stride of each detection level, got none");
  for (double s : strides_) YOLO_CHECK(s > 0, "DetectionLoss: strides must be positive, got {}", s);
}

DetectionLoss::Result DetectionLoss::operator()(const std::vector<torch::Tensor>& feats,
                                                const torch::Tensor& targets) const {
  RECORD_USER_SCOPE("yolo::DetectionLoss");  // a named region in profiles
  YOLO_CHECK(feats.size() == strides_.size(), "DetectionLoss: expected {} feature levels (one per stride), got {}",
             strides_.size(), feats.size());
  const int64_t reg_max = options_.reg_max;
  const int64_t outputs = 4 * reg_max + nc_;
  const auto batch = feats[0].size(0);
  std::vector<torch::Tensor> flat;
  for (const auto& f : feats) {
    YOLO_CHECK(f.dim() == 4 && f.size(0) == batch && f.size(1) == outputs,
               "DetectionLoss: each level must be [{}, {} (4*reg_max + nc), H, W], got {}", batch, outputs,
               c10::str(f.sizes()));
    flat.push_back(f.reshape({batch, outputs, -1}));
  }
  // float32 whatever the head's dtype: the sums over thousands of anchors lose too much in half precision.
  const auto pred = torch::cat(flat, 2).to(torch::kFloat32);                                  // [B, outputs, A]
  const auto pred_dist = pred.narrow(1, 0, 4 * reg_max).permute({0, 2, 1}).contiguous();      // [B, A, 4*reg_max]
  const auto pred_logits = pred.narrow(1, 4 * reg_max, nc_).permute({0, 2, 1}).contiguous();  // [B, A, nc]
  const auto device = pred.device();

  // make_anchors reads only the shapes, dtype and device of the levels: hand it float32 stand-ins.
  std::vector<torch::Tensor> level_shapes;
  for (const auto& f : feats)
    level_shapes.push_back(torch::zeros({1, 1, 1, 1}, pred.options()).expand({1, 1, f.size(2), f.size(3)}));
  const auto [anchor_points, anchor_strides] = boxes::make_anchors(level_shapes, strides_, 0.5);
  const double image_h = static_cast<double>(feats[0].size(2)) * strides_[0];
  const double image_w = static_cast<double>(feats[0].size(3)) * strides_[0];

  const auto gt = pad_targets_per_image(targets, batch, nc_, image_w, image_h, device);  // [B, M, 5]
  const auto gt_labels = gt.narrow(-1, 0, 1);
  const auto gt_bboxes = gt.narrow(-1, 1, 4);
  const auto gt_mask = gt_bboxes.sum(-1, /*keepdim=*/true).gt(0);

  const auto pred_bboxes = decode_boxes(anchor_points, pred_dist, reg_max);  // xyxy, grid units
  // The assigner works in pixels, on detached predictions.
  const auto assigned = assigner_(pred_logits.detach().sigmoid(), pred_bboxes.detach() * anchor_strides,
                                  anchor_points * anchor_strides, gt_labels, gt_bboxes, gt_mask);
  const auto target_scores_sum = assigned.scores.sum().clamp_min(1);

  const auto cls = torch::binary_cross_entropy_with_logits(pred_logits, assigned.scores, /*weight=*/{},
                                                           /*pos_weight=*/{}, at::Reduction::Sum) /
                   target_scores_sum;
  auto box = torch::zeros({}, pred.options()), dfl = torch::zeros({}, pred.options());
  if (assigned.fg_mask.any().item<bool>()) {
    const auto terms = bbox_loss_(pred_dist, pred_bboxes, anchor_points, assigned.bboxes / anchor_strides,
                                  assigned.scores, target_scores_sum, assigned.fg_mask);
    box = terms.box, dfl = terms.dfl;
  }

  const auto gained = torch::stack({box * options_.box, cls * options_.cls, dfl * options_.dfl});
  return {(gained * static_cast<double>(batch)).sum(), gained.detach()};
}

}  // namespace yolo::loss
