#include "config/resolve.h"

#include <algorithm>

#include "utils/cpus.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace config {

int64_t check_imgsz(int64_t imgsz, int64_t stride, int64_t floor) {
  YOLO_CHECK(imgsz > 0 && stride > 0, "imgsz={} and stride {} must be positive", imgsz, stride);
  const int64_t size = std::max((imgsz + stride - 1) / stride * stride, floor);
  if (size != imgsz) log_warning("imgsz=[{}] must be multiple of max stride {}, updating to [{}]", imgsz, stride, size);
  return size;
}

int64_t cap_workers(int64_t workers, int64_t devices) {
  return std::min(usable_cpus() / std::max<int64_t>(devices, 1), workers);
}

}  // namespace config
YOLO_END_NAMESPACE
