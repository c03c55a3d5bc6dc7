#pragma once
// The one exception type of the library, and the check macro that throws it.
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace yolo {

/// Every failure the library reports: the message says what was expected and, where it
/// applies, which file, line or key was at fault and what to do about it.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace yolo

/// Throws yolo::Error with an fmt-formatted message when `cond` is false.
/// YOLO_CHECK(n > 0, "batch must be positive, got {}", n);
#define YOLO_CHECK(cond, ...)                                     \
  do {                                                            \
    if (!(cond)) throw ::yolo::Error(::fmt::format(__VA_ARGS__)); \
  } while (false)

/// Throws yolo::Error with an fmt-formatted message.
#define YOLO_FAIL(...) throw ::yolo::Error(::fmt::format(__VA_ARGS__))
