#pragma once
// Non-maximum suppression and the mapping of boxes from the letterboxed network input back to the
// original image, as Ultralytics 8.3 does both (utils/ops.py).
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <vector>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace metrics {

struct NmsOptions {
  double conf = 0.25;            ///< keep boxes whose class score is strictly above this
  double iou = 0.7;              ///< suppress boxes whose IoU with a kept box is strictly above this
  bool agnostic = false;         ///< one NMS over all classes instead of one per class
  bool multi_label = false;      ///< a box may appear once per class scoring above `conf` (val: true)
  int64_t max_det = 300;         ///< detections kept per image
  std::vector<int64_t> classes;  ///< keep only these classes; empty keeps all
  int64_t max_nms = 30000;       ///< candidates per image entering NMS, the highest scores first
  double max_wh = 7680;          ///< per-class box offset, larger than any image side
  double max_time_img = 0.05;    ///< time guard: 2.0 s + this per image of the batch ...
  double time_limit_s = 0;       ///< ... unless this is positive, then the whole call's limit
};

/// prediction [B, 4+nc, A]: xywh then class scores per anchor (the Detect head's inference output).
/// Returns one [n, 6] tensor per image: x1, y1, x2, y2, conf, cls, highest confidence first, on the
/// device and in the dtype of `prediction`. Greedy NMS as torchvision's, without torchvision: ties in
/// score keep anchor order. When the time limit is exceeded a warning is logged and the remaining
/// images get no boxes, as Ultralytics does.
std::vector<torch::Tensor> non_max_suppression(const torch::Tensor& prediction, const NmsOptions& options = {});

/// Indices of the boxes greedy NMS keeps, highest score first. boxes [n, 4] xyxy, scores [n]; a box is
/// dropped when its IoU with a higher-scoring kept box is above `iou_threshold`. Stops after
/// `max_keep` boxes when positive (the first kept boxes do not depend on the later ones).
torch::Tensor nms(const torch::Tensor& boxes, const torch::Tensor& scores, double iou_threshold, int64_t max_keep = 0);

/// Image height and width in pixels.
using ImageShape = std::array<int64_t, 2>;

/// How an image was letterboxed: resized by the ratio (height, width), then padded left by `pad_w`
/// and on top by `pad_h` pixels.
struct RatioPad {
  double ratio_h = 1.0;
  double ratio_w = 1.0;
  double pad_w = 0.0;
  double pad_h = 0.0;
};

/// Clamps xyxy boxes (last dim 4) into an image; returns a new tensor.
torch::Tensor clip_boxes(const torch::Tensor& boxes, ImageShape shape);

/// Maps xyxy boxes from the letterboxed input (`input_shape`) to the original image (`original_shape`),
/// then clips them. The letterbox is recomputed as Ultralytics does: gain = min of the side ratios,
/// padding centred and rounded. Returns a new tensor; `padding` false skips the padding shift.
torch::Tensor scale_boxes(ImageShape input_shape, const torch::Tensor& boxes, ImageShape original_shape,
                          bool padding = true);
/// The same with the letterbox the data pipeline recorded (Ultralytics' ratio_pad: gain = ratio_h).
torch::Tensor scale_boxes(ImageShape input_shape, const torch::Tensor& boxes, ImageShape original_shape,
                          const RatioPad& ratio_pad, bool padding = true);

}  // namespace metrics
YOLO_END_NAMESPACE
