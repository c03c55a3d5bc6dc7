#pragma once
// How many CPUs this process may use, for sizing thread pools.
#include <cstdint>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE

/// The CPUs in this process's affinity mask (a container's cpuset or taskset's limit; the machine's count where
/// the mask cannot be read), at least 1.
int64_t usable_cpus();

/// The physical cores behind those CPUs (hyper-threads of one core count once), at least 1: compute kernels
/// gain nothing from a core's second hardware thread.
int64_t usable_cores();

YOLO_END_NAMESPACE
