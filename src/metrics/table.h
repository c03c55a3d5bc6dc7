#pragma once
// Ultralytics' validation table, as text: the caller decides where it goes.
#include <cstdint>
#include <string>
#include <vector>

#include "metrics/ap.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace metrics {

/// The header line "Class Images Instances Box(P R mAP50 mAP50-95)" in Ultralytics' column widths.
std::string metrics_table_header();

/// The header, the `all` row (images, instances, mean P, R, mAP50, mAP50-95) and, when `per_class`,
/// one row per class with labels, numbers as "%11.3g". Lines end with '\n'. Names missing from
/// `names` print as the class id.
std::string format_metrics_table(const DetectionMetrics& metrics, const std::vector<std::string>& names, int64_t images,
                                 int64_t instances, bool per_class);

}  // namespace metrics
YOLO_END_NAMESPACE
