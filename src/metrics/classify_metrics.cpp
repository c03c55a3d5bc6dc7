#include "metrics/classify_metrics.h"

#include <cstdio>

#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace metrics {

ClassifyAccuracy classify_accuracy(const torch::Tensor& ranked, const torch::Tensor& targets) {
  YOLO_CHECK(ranked.dim() == 2 && targets.dim() == 1 && ranked.size(0) == targets.size(0) && ranked.size(0) > 0,
             "classify_accuracy: ranked [N, k] and targets [N] with N > 0 expected");
  const auto correct = (targets.unsqueeze(1).to(torch::kLong) == ranked.to(torch::kLong)).to(torch::kFloat64);
  ClassifyAccuracy a;
  a.top1 = correct.select(1, 0).mean().item<double>();
  a.top5 = std::get<0>(correct.max(1)).mean().item<double>();
  return a;
}

std::string format_classify_table(const ClassifyAccuracy& accuracy) {
  // Ultralytics formats with Python's %-operator; snprintf gives the same digits.
  char header[64], row[64];
  std::snprintf(header, sizeof(header), "%22s%11s%11s", "classes", "top1_acc", "top5_acc");
  std::snprintf(row, sizeof(row), "%22s%11.3g%11.3g", "all", accuracy.top1, accuracy.top5);
  return std::string(header) + "\n" + row;
}

}  // namespace metrics
YOLO_END_NAMESPACE
