#pragma once
// The classification training loss, as Ultralytics 8.3.166's v8ClassificationLoss: cross-entropy of
// the logits against the labels, the mean over the batch. (8.3 dropped label smoothing: its
// `label_smoothing` key is a deprecated, ignored argument.)
#include <torch/torch.h>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace loss {

/// logits [B, nc] (any floating dtype; computed in float32), labels [B] class indices -> the scalar loss.
torch::Tensor classification_loss(const torch::Tensor& logits, const torch::Tensor& labels);

}  // namespace loss
YOLO_END_NAMESPACE
