#include "yolo/engine/results.h"

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE

std::vector<std::pair<std::string, double>> ValResults::results_dict() const {
  if (task == "classify")
    return {{"metrics/accuracy_top1", top1}, {"metrics/accuracy_top5", top5}, {"fitness", fitness}};
  return {{"metrics/precision(B)", precision},
          {"metrics/recall(B)", recall},
          {"metrics/mAP50(B)", map50},
          {"metrics/mAP50-95(B)", map50_95},
          {"fitness", fitness}};
}

double ValResults::total_loss() const {
  double sum = 0;
  for (const auto& [name, value] : loss) sum += value;
  return sum;
}

YOLO_END_NAMESPACE
