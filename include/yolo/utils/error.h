#pragma once
// The one exception type of the library.
#include <stdexcept>
#include <string>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE

/// Every failure the library reports: the message says what was expected and, where it
/// applies, which file, line or key was at fault and what to do about it.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

YOLO_END_NAMESPACE

// The library's own code (built with YOLOCPP_INTERNAL) also gets the check macros here, which need fmt;
// an installed program sees only yolo::Error. (Transitional: once internal headers move out of include/,
// sources include "utils/check.h" themselves.)
#ifdef YOLOCPP_INTERNAL
#include "utils/check.h"
#endif
