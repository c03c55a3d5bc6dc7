#include <cstdlib>
#include <mutex>
#include <string_view>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "yolo/process.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE

void keep_freed_memory_in_heap() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* opt_out = std::getenv("YOLO_KEEP_MALLOC_DEFAULTS");
    if (opt_out && *opt_out && std::string_view(opt_out) != "0") return;
#if defined(__GLIBC__)
    // The largest threshold glibc accepts (32 MiB on 64-bit): blocks up to it come from the heap.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    // Do not give the heap's top back after every free, and grow it in large steps.
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_TOP_PAD, 256 << 20);
#endif
  });
}

YOLO_END_NAMESPACE
