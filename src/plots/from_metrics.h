#pragma once
// The plots' plain inputs from the validator's tensors: the one place where plotting meets LibTorch.
#include <string>
#include <vector>

#include "plots/plots.h"

namespace yolo::metrics {
struct ApPerClass;
class ConfusionMatrix;
}  // namespace yolo::metrics

namespace yolo::plots {

/// Curves of ap_per_class's result; `names` are all class names by id (those with labels are picked).
Curves curves_from(const metrics::ApPerClass& ap, const std::vector<std::string>& names);
/// Counts of a detection confusion matrix ([nc+1, nc+1], background last).
Confusion confusion_from(const metrics::ConfusionMatrix& matrix, const std::vector<std::string>& names);

}  // namespace yolo::plots
