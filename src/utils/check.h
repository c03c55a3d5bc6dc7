#pragma once
// The check macros that throw yolo::Error with an fmt-formatted message.
#include <fmt/format.h>

#include "yolo/utils/error.h"

/// Throws yolo::Error with an fmt-formatted message when `cond` is false.
/// YOLO_CHECK(n > 0, "batch must be positive, got {}", n);
#define YOLO_CHECK(cond, ...)                                     \
  do {                                                            \
    if (!(cond)) throw ::yolo::Error(::fmt::format(__VA_ARGS__)); \
  } while (false)

/// Throws yolo::Error with an fmt-formatted message.
#define YOLO_FAIL(...) throw ::yolo::Error(::fmt::format(__VA_ARGS__))
