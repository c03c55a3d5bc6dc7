#include "metrics/nms.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <ATen/record_function.h>

#include "utils/boxes.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace metrics {
namespace {

using torch::indexing::Slice;

// Boxes are ranked by score in blocks of this size: each block is checked against the boxes kept so far
// with one IoU matrix, then resolved within itself, so memory stays O(block * (block + kept)).
constexpr int64_t kNmsBlock = 1024;

// Pairwise IoU [K, L] written as torchvision's NMS kernels compute it (no eps), so that thresholds
// compare on the same floats.
torch::Tensor nms_iou(const torch::Tensor& a, const torch::Tensor& area_a, const torch::Tensor& b,
                      const torch::Tensor& area_b) {
  auto top_left = torch::max(a.unsqueeze(1).narrow(-1, 0, 2), b.unsqueeze(0).narrow(-1, 0, 2));
  auto bottom_right = torch::min(a.unsqueeze(1).narrow(-1, 2, 2), b.unsqueeze(0).narrow(-1, 2, 2));
  auto wh = (bottom_right - top_left).clamp_min(0);
  auto inter = wh.select(-1, 0) * wh.select(-1, 1);
  return inter / (area_a.unsqueeze(1) + area_b.unsqueeze(0) - inter);
}

torch::Tensor box_areas(const torch::Tensor& b) {
  return (b.select(1, 2) - b.select(1, 0)) * (b.select(1, 3) - b.select(1, 1));
}

// Greedy resolution inside one block: `suppresses` [s, s] on the CPU, true where the row box (higher
// score) overlaps the column box too much. Returns the kept rows. O(kept * s) byte operations.
std::vector<int64_t> resolve_block(const torch::Tensor& suppresses) {
  const auto s = suppresses.size(0);
  const auto* mask = suppresses.data_ptr<bool>();
  std::vector<uint8_t> removed(static_cast<size_t>(s), 0);
  std::vector<int64_t> kept;
  for (int64_t i = 0; i < s; ++i) {
    if (removed[i]) continue;
    kept.push_back(i);
    const bool* row = mask + i * s;
    for (int64_t j = i + 1; j < s; ++j) removed[j] |= static_cast<uint8_t>(row[j]);
  }
  return kept;
}

void clip_in_place(torch::Tensor& boxes, ImageShape shape) {
  const auto h = static_cast<double>(shape[0]), w = static_cast<double>(shape[1]);
  boxes.select(-1, 0).clamp_(0, w);
  boxes.select(-1, 1).clamp_(0, h);
  boxes.select(-1, 2).clamp_(0, w);
  boxes.select(-1, 3).clamp_(0, h);
}

}  // namespace

torch::Tensor nms(const torch::Tensor& boxes, const torch::Tensor& scores, double iou_threshold, int64_t max_keep) {
  YOLO_CHECK(boxes.dim() == 2 && boxes.size(1) == 4, "nms: boxes must be [n, 4], got {}", c10::str(boxes.sizes()));
  YOLO_CHECK(scores.dim() == 1 && scores.size(0) == boxes.size(0), "nms: scores must be [{}], got {}", boxes.size(0),
             c10::str(scores.sizes()));
  const auto n = boxes.size(0);
  const auto index_options = torch::TensorOptions().dtype(torch::kLong).device(boxes.device());
  if (n == 0) return torch::empty({0}, index_options);
  const auto limit = max_keep > 0 ? max_keep : n;

  // Stable ranking: equal scores keep their input order, as torchvision's CPU kernel.
  auto order = std::get<1>(scores.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
  auto ranked = boxes.index_select(0, order);
  auto areas = box_areas(ranked);

  std::vector<torch::Tensor> kept_chunks;  // positions in `ranked`
  torch::Tensor kept_boxes = ranked.new_empty({0, 4}), kept_areas = areas.new_empty({0});
  int64_t kept_count = 0;
  for (int64_t start = 0; start < n && kept_count < limit; start += kNmsBlock) {
    const auto len = std::min(kNmsBlock, n - start);
    auto block = ranked.narrow(0, start, len), block_areas = areas.narrow(0, start, len);
    // Boxes already suppressed by a kept box of an earlier block.
    auto alive = torch::ones({len}, index_options.dtype(torch::kBool));
    if (kept_count > 0)
      alive = (nms_iou(kept_boxes, kept_areas, block, block_areas) > iou_threshold).any(0).logical_not();
    auto survivors = alive.nonzero().squeeze(1);
    if (survivors.numel() == 0) continue;
    auto boxes_s = block.index_select(0, survivors), areas_s = block_areas.index_select(0, survivors);
    auto suppresses = (nms_iou(boxes_s, areas_s, boxes_s, areas_s) > iou_threshold).to(torch::kCPU).contiguous();
    auto kept_local = resolve_block(suppresses);
    if (kept_count + static_cast<int64_t>(kept_local.size()) > limit) kept_local.resize(limit - kept_count);
    auto kept_in_block = survivors.index_select(0, torch::tensor(kept_local, torch::kLong).to(boxes.device()));
    kept_boxes = torch::cat({kept_boxes, block.index_select(0, kept_in_block)});
    kept_areas = torch::cat({kept_areas, block_areas.index_select(0, kept_in_block)});
    kept_chunks.push_back(kept_in_block + start);
    kept_count += static_cast<int64_t>(kept_local.size());
  }
  if (kept_chunks.empty()) return torch::empty({0}, index_options);
  return order.index_select(0, torch::cat(kept_chunks));
}

std::vector<torch::Tensor> non_max_suppression(const torch::Tensor& prediction, const NmsOptions& options) {
  RECORD_USER_SCOPE("yolo::non_max_suppression");  // a named region in profiles
  YOLO_CHECK(options.conf >= 0 && options.conf <= 1, "NMS conf must be in [0, 1], got {}", options.conf);
  YOLO_CHECK(options.iou >= 0 && options.iou <= 1, "NMS iou must be in [0, 1], got {}", options.iou);
  YOLO_CHECK(prediction.dim() == 3 && prediction.size(1) > 4,
             "NMS expects predictions [batch, 4 + classes, anchors], got {}", c10::str(prediction.sizes()));
  const auto batch = prediction.size(0), nc = prediction.size(1) - 4;
  const bool multi_label = options.multi_label && nc > 1;
  const auto device = prediction.device();
  const auto dtype = prediction.scalar_type();
  const double time_limit = options.time_limit_s > 0 ? options.time_limit_s : 2.0 + options.max_time_img * batch;

  auto per_anchor = prediction.transpose(-1, -2);                        // [B, A, 4 + nc]
  auto candidates = prediction.narrow(1, 4, nc).amax(1) > options.conf;  // [B, A]
  auto all_boxes = boxes::xywh2xyxy(per_anchor.narrow(-1, 0, 4));
  torch::Tensor wanted_classes;
  if (!options.classes.empty())
    wanted_classes = torch::tensor(options.classes, torch::kLong).to(device).to(dtype).unsqueeze(0);

  const auto start = std::chrono::steady_clock::now();
  std::vector<torch::Tensor> output(static_cast<size_t>(batch));
  for (auto& o : output) o = torch::zeros({0, 6}, prediction.options());
  for (int64_t b = 0; b < batch; ++b) {
    auto keep = candidates[b];
    auto box = all_boxes[b].index({keep});
    auto cls_scores = per_anchor[b].narrow(-1, 4, nc).index({keep});
    if (box.size(0) == 0) continue;

    torch::Tensor det;  // [n, 6] xyxy conf cls
    if (multi_label) {
      // One row per (box, class) above the threshold, in (anchor, class) order.
      auto pairs = (cls_scores > options.conf).nonzero();
      auto i = pairs.select(1, 0), j = pairs.select(1, 1);
      det = torch::cat({box.index_select(0, i), cls_scores.index({i, j}).unsqueeze(1), j.unsqueeze(1).to(dtype)}, 1);
    } else {
      auto [conf, j] = cls_scores.max(1, /*keepdim=*/true);
      det = torch::cat({box, conf, j.to(dtype)}, 1).index({conf.view(-1) > options.conf});
    }
    if (wanted_classes.defined()) det = det.index({(det.narrow(1, 5, 1) == wanted_classes).any(1)});
    if (det.size(0) == 0) continue;
    if (det.size(0) > options.max_nms) {
      auto top = std::get<1>(det.select(1, 4).sort(/*stable=*/true, 0, /*descending=*/true));
      det = det.index_select(0, top.narrow(0, 0, options.max_nms));
    }

    // Shifting each class by its own offset keeps boxes of different classes from overlapping.
    auto offset = det.narrow(1, 5, 1) * (options.agnostic ? 0.0 : options.max_wh);
    auto kept = nms(det.narrow(1, 0, 4) + offset, det.select(1, 4), options.iou, options.max_det);
    output[b] = det.index_select(0, kept);

    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (elapsed > time_limit) {
      log_warning("NMS time limit {:.3f}s exceeded", time_limit);
      break;
    }
  }
  return output;
}

torch::Tensor clip_boxes(const torch::Tensor& boxes, ImageShape shape) {
  auto out = boxes.clone();
  clip_in_place(out, shape);
  return out;
}

torch::Tensor scale_boxes(ImageShape input_shape, const torch::Tensor& boxes, ImageShape original_shape, bool padding) {
  const double gain = std::min(static_cast<double>(input_shape[0]) / original_shape[0],
                               static_cast<double>(input_shape[1]) / original_shape[1]);
  // Ultralytics rounds the centred padding half-to-even after subtracting 0.1 (Python's round).
  const double pad_w = std::nearbyint((input_shape[1] - original_shape[1] * gain) / 2 - 0.1);
  const double pad_h = std::nearbyint((input_shape[0] - original_shape[0] * gain) / 2 - 0.1);
  return scale_boxes(input_shape, boxes, original_shape, RatioPad{gain, gain, pad_w, pad_h}, padding);
}

torch::Tensor scale_boxes(ImageShape /*input_shape*/, const torch::Tensor& boxes, ImageShape original_shape,
                          const RatioPad& ratio_pad, bool padding) {
  YOLO_CHECK(boxes.size(-1) == 4, "scale_boxes expects xyxy boxes [..., 4], got {}", c10::str(boxes.sizes()));
  YOLO_CHECK(ratio_pad.ratio_h > 0, "scale_boxes: letterbox ratio must be positive, got {}", ratio_pad.ratio_h);
  auto out = boxes.clone();
  if (padding) {
    out.select(-1, 0).sub_(ratio_pad.pad_w);
    out.select(-1, 1).sub_(ratio_pad.pad_h);
    out.select(-1, 2).sub_(ratio_pad.pad_w);
    out.select(-1, 3).sub_(ratio_pad.pad_h);
  }
  out.div_(ratio_pad.ratio_h);
  clip_in_place(out, original_shape);
  return out;
}

}  // namespace metrics
YOLO_END_NAMESPACE
