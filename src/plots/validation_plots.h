#pragma once
// What a validation asked for plots hands to the training loggers (ValResults::plots): the state the plots are
// drawn from and the first batches already drawn.
#include <opencv2/core.hpp>

#include <string>
#include <utility>
#include <vector>

#include "plots/val_state.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace plots {

struct ValidationPlots {
  ValidationState state;
  /// The first batches as mosaics: ("val_batch0_labels", picture), ("val_batch0_pred", picture), ...
  std::vector<std::pair<std::string, cv::Mat>> batches;
};

}  // namespace plots
YOLO_END_NAMESPACE
