#pragma once
// One include for Catch2 2.x (Debian 12) and 3.x (the GPU machine), and the helpers every test shares.
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
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "yolo/utils/error.h"
#include "yolo/utils/log.h"

namespace yolo::test {

/// The skips of this test process (Catch2 2.x, which has no SKIP; see YOLO_SKIP).
struct SkipLog {
  bool in_this_case = false;            ///< the running test case called YOLO_SKIP
  std::vector<std::string> reasons;     ///< every skip of the process, "test case: reason"
};
inline SkipLog& skip_log() {
  static SkipLog log;
  return log;
}

}  // namespace yolo::test

/// Ends the running test case as skipped, saying why (a device or tool this machine lacks). Use it in the
/// body of a TEST_CASE, not in a helper function: on Catch2 2 it returns from the enclosing function.
///
/// A skip is never a pass: Catch2 3 reports it with its own SKIP and exits with 4 when every test case it ran
/// was skipped. Catch2 2 has no SKIP; there the skip is printed as "SKIPPED: reason", counted by the listener
/// in tests/catch2_main.cpp, and that main exits with 4 in the same case. ctest is told that 4 means
/// skipped (SKIP_RETURN_CODE in tests/CMakeLists.txt), so each skipped test shows as "Skipped" in ctest's
/// output, and scripts/check-skips.sh fails CI for a skip that tests/allowed_skips.txt does not list.
#ifdef SKIP
#define YOLO_SKIP(reason) SKIP(reason)
#else
#define YOLO_SKIP(reason)                                                                  \
  do {                                                                                     \
    ::yolo::test::skip_log().in_this_case = true;                                          \
    ::yolo::test::skip_log().reasons.push_back(                                            \
        Catch::getResultCapture().getCurrentTestName() + ": " + std::string(reason));      \
    WARN("SKIPPED: " << (reason));                                                         \
    return;                                                                                \
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

/// An empty folder `<temp>/yolo_<name>_<pid>` for one test; the process id keeps the processes of
/// `ctest -j` out of each other's folders.
inline std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("yolo_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

/// The lines of a text file (none when it cannot be read).
inline std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

/// Collects the library's log messages of `min` level and above while it lives (from any thread), then
/// gives the sink back to the default (stderr), also when the test fails half-way.
///   LogCapture warnings(yolo::LogLevel::Warning);
///   ...;
///   CHECK(warnings.any_contains("NMS time limit"));
class LogCapture {
 public:
  explicit LogCapture(yolo::LogLevel min = yolo::LogLevel::Debug) {
    yolo::set_log_sink([this, min](yolo::LogLevel level, std::string_view message) {
      if (level < min) return;
      std::lock_guard<std::mutex> lock(mutex_);
      lines_.emplace_back(message);
    });
  }
  ~LogCapture() { yolo::set_log_sink({}); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return lines_;
  }
  /// A message that contains `a` (and `b`, when given).
  bool any_contains(const std::string& a, const std::string& b = "") const {
    for (const auto& line : lines())
      if (line.find(a) != std::string::npos && line.find(b) != std::string::npos) return true;
    return false;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

}  // namespace yolo::test
