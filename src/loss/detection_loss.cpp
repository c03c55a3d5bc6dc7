#include "loss/detection_loss.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <ATen/record_function.h>

#include "utils/boxes.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace loss {

namespace {

/// [N, 6] (batch_idx, cls, cx, cy, w, h normalised) -> [B, M, 5] (cls, x1, y1, x2, y2 in pixels),
/// M the largest box count of an image, shorter images zero-padded. Boxes keep their input order
/// within an image, which decides ties in the assignment as in Ultralytics.
///
/// M decides a shape, so it has to be known on the host: the regrouping runs on the host, where the
/// loader hands the targets, and one non-blocking copy takes the result to the device, which scales
/// the boxes. Targets already on an accelerator are read back once (a synchronisation).
torch::Tensor pad_targets_per_image(const torch::Tensor& targets, int64_t batch, int64_t nc, double image_w,
                                    double image_h, const torch::Device& device) {
  YOLO_CHECK(targets.dim() == 2 && targets.size(1) == 6,
             "DetectionLoss: targets must be [N, 6] (batch_idx, cls, cx, cy, w, h), got {}", c10::str(targets.sizes()));
  const auto host = (targets.is_cpu() ? targets : targets.cpu()).to(torch::kFloat32).contiguous();
  const auto rows = host.accessor<float, 2>();
  const auto n = host.size(0);

  std::vector<int64_t> boxes_of_image(static_cast<size_t>(batch), 0);
  for (int64_t i = 0; i < n; ++i) {
    const float image = rows[i][0], cls = rows[i][1];  // NaN fails both checks
    YOLO_CHECK(image >= 0 && image < batch, "DetectionLoss: target batch indices must lie in [0, {}), got {} (row {})",
               batch, image, i);
    YOLO_CHECK(cls >= 0 && cls < nc, "DetectionLoss: target classes must lie in [0, {}), got {} (row {})", nc, cls, i);
    ++boxes_of_image[static_cast<size_t>(image)];
  }
  const int64_t max_boxes = n == 0 ? 0 : *std::max_element(boxes_of_image.begin(), boxes_of_image.end());

  // (cls, cx, cy, w, h) in pixels, in page-locked memory when the copy goes to a GPU so that it is asynchronous.
  auto padded = torch::zeros({batch, max_boxes, 5}, torch::TensorOptions(torch::kFloat32).pinned_memory(device.is_cuda()));
  auto slots = padded.accessor<float, 3>();
  const auto width = static_cast<float>(image_w), height = static_cast<float>(image_h);
  std::fill(boxes_of_image.begin(), boxes_of_image.end(), 0);
  for (int64_t i = 0; i < n; ++i) {
    const auto image = static_cast<int64_t>(rows[i][0]);
    auto slot = slots[image][boxes_of_image[static_cast<size_t>(image)]++];
    slot[0] = rows[i][1];
    slot[1] = rows[i][2] * width, slot[2] = rows[i][3] * height;
    slot[3] = rows[i][4] * width, slot[4] = rows[i][5] * height;
  }
  const auto on_device = padded.to(device, /*non_blocking=*/true);
  return torch::cat({on_device.narrow(-1, 0, 1), boxes::xywh2xyxy(on_device.narrow(-1, 1, 4))}, -1);
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
  // Without boxes in the batch the box terms are zero, as Ultralytics'; the shape says so on the host.
  auto box = torch::zeros({}, pred.options()), dfl = torch::zeros({}, pred.options());
  if (gt.size(1) > 0) {
    const auto terms = bbox_loss_(pred_dist, pred_bboxes, anchor_points, assigned.bboxes / anchor_strides,
                                  assigned.scores, target_scores_sum, assigned.fg_mask);
    box = terms.box, dfl = terms.dfl;
  }

  const auto gained = torch::stack({box * options_.box, cls * options_.cls, dfl * options_.dfl});
  return {(gained * static_cast<double>(batch)).sum(), gained.detach()};
}

}  // namespace loss
YOLO_END_NAMESPACE
