#pragma once
// Arguments whose usable value depends on the run, resolved where the engine knows it, as Ultralytics does.
#include <cstdint>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace config {

/// imgsz rounded up to a multiple of the model's largest stride (at least `floor`), with Ultralytics'
/// warning "imgsz=[333] must be multiple of max stride 32, updating to [352]" when it changes.
int64_t check_imgsz(int64_t imgsz, int64_t stride, int64_t floor = 0);

/// Loader threads: `workers`, at most the CPUs per device of the run (Ultralytics' build_dataloader).
int64_t cap_workers(int64_t workers, int64_t devices);

}  // namespace config
YOLO_END_NAMESPACE
