#include "metrics/table.h"

#include <cstdio>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace metrics {
namespace {

// Ultralytics formats with Python's %-operator; snprintf gives the same digits for "%11.3g".
std::string row(const std::string& name, int64_t images, int64_t instances, double p, double r, double map50,
                double map50_95) {
  char buf[256];
  std::snprintf(buf, sizeof(buf), "%22s%11lld%11lld%11.3g%11.3g%11.3g%11.3g\n", name.c_str(),
                static_cast<long long>(images), static_cast<long long>(instances), p, r, map50, map50_95);
  return buf;
}

}  // namespace

std::string metrics_table_header() {
  char buf[160];
  std::snprintf(buf, sizeof(buf), "%22s%11s%11s%11s%11s%11s%11s", "Class", "Images", "Instances", "Box(P", "R", "mAP50",
                "mAP50-95)");
  return buf;
}

std::string format_metrics_table(const DetectionMetrics& metrics, const std::vector<std::string>& names, int64_t images,
                                 int64_t instances, bool per_class) {
  std::string out = metrics_table_header() + "\n";
  out += row("all", images, instances, metrics.precision, metrics.recall, metrics.map50, metrics.map50_95);
  if (!per_class) return out;
  for (const auto& c : metrics.per_class) {
    const auto name = c.class_id >= 0 && c.class_id < static_cast<int64_t>(names.size()) ? names[c.class_id]
                                                                                         : std::to_string(c.class_id);
    out += row(name, c.images, c.instances, c.precision, c.recall, c.map50, c.map50_95);
  }
  return out;
}

}  // namespace metrics
YOLO_END_NAMESPACE
