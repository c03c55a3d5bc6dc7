// Catch2 2.x's main (Catch2 3.x links Catch2WithMain instead). 2.x has no SKIP: YOLO_SKIP (tests/catch.h)
// marks the running test case, the listener below counts the cases that ran and those that skipped, and
// main exits with 4, as Catch2 3 does, when every case that ran was skipped and none failed. ctest runs one
// test case per process and reads 4 as "skipped" (SKIP_RETURN_CODE in tests/CMakeLists.txt).
#define CATCH_CONFIG_RUNNER
#include "catch.h"

#include <cstdio>

namespace {

int cases_run = 0, cases_skipped = 0;

struct SkipCounter : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    TestEventListenerBase::testCaseStarting(info);
    yolo::test::skip_log().in_this_case = false;
    ++cases_run;
  }
  void testCaseEnded(const Catch::TestCaseStats& stats) override {
    if (yolo::test::skip_log().in_this_case && stats.totals.assertions.failed == 0) ++cases_skipped;
    TestEventListenerBase::testCaseEnded(stats);
  }
};

}  // namespace

CATCH_REGISTER_LISTENER(SkipCounter)

int main(int argc, char** argv) {
  const int failed = Catch::Session().run(argc, argv);
  if (cases_skipped > 0) {
    std::printf("%d of %d test cases skipped:\n", cases_skipped, cases_run);
    for (const auto& reason : yolo::test::skip_log().reasons) std::printf("  SKIPPED %s\n", reason.c_str());
  }
  if (failed == 0 && cases_run > 0 && cases_skipped == cases_run) return 4;
  return failed;
}
