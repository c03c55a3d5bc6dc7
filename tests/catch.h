#pragma once
// One include for Catch2 2.x (Debian 12) and 3.x (the GPU machine).
#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
using Catch::Approx;
#else
#include <catch2/catch.hpp>
// Catch2 3 spells the substring matcher ContainsSubstring; give 2.x the same name.
namespace Catch::Matchers {
inline auto ContainsSubstring(const std::string& s) { return Contains(s); }
}  // namespace Catch::Matchers
#endif
#include <functional>
#include <string>

#include "yolo/utils/error.h"

// Skips the rest of a test case for a missing optional tool: Catch2 3 reports it as skipped, 2.x (which has
// no SKIP) as a warning.
#ifdef SKIP
#define YOLO_SKIP(reason) SKIP(reason)
#else
#define YOLO_SKIP(reason) \
  do {                    \
    WARN(reason);         \
    return;               \
  } while (false)
#endif

namespace yolo::test {
/// Folder of the small fixtures copied into tests/data.
inline std::string data_dir() { return YOLO_TEST_DATA_DIR; }
inline std::string data_path(const std::string& rel) { return data_dir() + "/" + rel; }

/// The message of the yolo::Error that `action` throws, or "(no error)".
inline std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const yolo::Error& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace yolo::test
