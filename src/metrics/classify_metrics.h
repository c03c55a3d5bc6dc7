#pragma once
// Classification accuracy as Ultralytics 8.3.166's ClassifyMetrics, and its validation table.
#include <string>

#include <torch/torch.h>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace metrics {

struct ClassifyAccuracy {
  double top1 = 0;  ///< the label is the first prediction
  double top5 = 0;  ///< the label is among the first five (all of them when nc < 5)
  /// Ultralytics 8.3.166's ClassifyMetrics.fitness: (top1 + top5) / 2.
  double fitness() const { return (top1 + top5) / 2; }
};

/// `ranked` [N, k] class indices, most probable first (k = min(5, nc)); `targets` [N] labels.
ClassifyAccuracy classify_accuracy(const torch::Tensor& ranked, const torch::Tensor& targets);

/// Ultralytics' classification table: "classes top1_acc top5_acc" and the `all` row ("%22s%11.3g%11.3g").
std::string format_classify_table(const ClassifyAccuracy& accuracy);

}  // namespace metrics
YOLO_END_NAMESPACE
