#pragma once
// The YOLOv8 detection training loss, numerically as Ultralytics' v8DetectionLoss:
// CIoU + DFL on the anchors the task-aligned assigner picks, BCE on the classes of every anchor.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "loss/assigner.h"
#include "loss/bbox_loss.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace loss {

/// Gains of the three terms (Ultralytics' `box`, `cls`, `dfl` train arguments) and assigner settings.
struct DetectionLossOptions {
  double box = 7.5, cls = 0.5, dfl = 1.5;
  int64_t topk = 10;
  double alpha = 0.5, beta = 6.0;
  int64_t reg_max = 16;
};

class DetectionLoss {
 public:
  /// nc classes; one stride per detection level, in the order of the head's outputs.
  DetectionLoss(int64_t nc, std::vector<double> strides, DetectionLossOptions options = {});

  struct Result {
    torch::Tensor total;  ///< (box + cls + dfl) * batch_size: what backward() takes, as Ultralytics
    torch::Tensor items;  ///< [3] detached float32: box, cls, dfl (gained, per image) as Ultralytics logs them
  };

  /// feats: per-level raw head outputs [B, 4*reg_max + nc, H, W] (the Detect head's train-mode output);
  /// targets: [N, 6] float: batch_idx, cls, cx, cy, w, h normalised to the input image size (derived
  /// from feats[0] size × strides[0], as Ultralytics). The loss is computed in float32 on the device of
  /// feats, whatever their dtype (half outputs of an autocast forward included). Targets on the CPU, as the
  /// loader hands them, cost the device no synchronisation: they are checked and grouped per image on the
  /// host, then copied asynchronously; targets on an accelerator are read back once.
  Result operator()(const std::vector<torch::Tensor>& feats, const torch::Tensor& targets) const;

  int64_t nc() const { return nc_; }
  const std::vector<double>& strides() const { return strides_; }
  const DetectionLossOptions& options() const { return options_; }

 private:
  int64_t nc_;
  std::vector<double> strides_;
  DetectionLossOptions options_;
  TaskAlignedAssigner assigner_;
  BboxLoss bbox_loss_;
};

}  // namespace loss
YOLO_END_NAMESPACE
