#include "yolo/engine/results.h"

namespace yolo {

std::vector<std::pair<std::string, double>> ValResults::results_dict() const {
  return {{"metrics/precision(B)", precision},
          {"metrics/recall(B)", recall},
          {"metrics/mAP50(B)", map50},
          {"metrics/mAP50-95(B)", map50_95},
          {"fitness", fitness}};
}

}  // namespace yolo
