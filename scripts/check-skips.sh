#!/usr/bin/env bash
# CI: fails when the last ctest run in BUILD_DIR (default: build) skipped a test that tests/allowed_skips.txt
# does not allow on this machine. Run it right after ctest:
#   (cd build && ctest ...) && bash scripts/check-skips.sh build
# ctest lists the tests that did not run (a skip is exit code 4, tests/CMakeLists.txt) in
# Testing/Temporary/LastTestsDisabled.log, written after LastTest.log; a run without skips leaves an older
# list behind, which is then ignored.
set -euo pipefail
build=$(realpath "${1:-build}")
cd "$(dirname "$0")/.."
log=$build/Testing/Temporary/LastTest.log
skips=$build/Testing/Temporary/LastTestsDisabled.log
[ -f "$log" ] || { echo "check-skips: no ctest run in $build" >&2; exit 1; }

skipped=()
if [ -f "$skips" ] && [ "$(stat -c %.9Y "$skips" | tr -d .)" -ge "$(stat -c %.9Y "$log" | tr -d .)" ]; then
  while IFS= read -r line; do skipped+=("${line#*:}"); done < "$skips"
fi

condition_holds() {
  case "$1" in
    no-cuda) ! nvidia-smi -L 2>/dev/null | grep -q '^GPU' ;;
    no-python-torch) ! /usr/bin/python3 -c 'import torch' >/dev/null 2>&1 ;;
    no-shared) [ ! -d ../shared/reference ] ;;
    libtorch-2) ! grep -q '^Torch_DIR:PATH=/usr/' "$build/CMakeCache.txt" ;;
    no-onnx) grep -q '^#define YOLO_HAVE_ONNX 0' "$build/generated/yolo_build_config.h" ;;
    no-netns) ! { command -v ip >/dev/null && ip netns add yolocpp-skip-probe-$$ 2>/dev/null &&
                  ip netns delete yolocpp-skip-probe-$$; } ;;
    *) echo "check-skips: unknown condition '$1' in tests/allowed_skips.txt" >&2; return 1 ;;
  esac
}

# The output ctest kept for one test (its section of LastTest.log), where YOLO_SKIP wrote "SKIPPED: reason".
test_output() {
  awk -v start="Testing: $1" -v stop="\"$1\" end time" \
    'index($0, start) { on = 1 } on { print } on && index($0, stop) { exit }' "$log"
}

unexpected=0
for name in "${skipped[@]}"; do
  allowed=""
  output=$(test_output "$name")
  while read -r condition test_name; do
    [ -z "$condition" ] || [ "${condition:0:1}" = "#" ] && continue
    if [ "$test_name" = "$name" ]; then allowed=$condition; break; fi
    # "reason=TEXT": any test that skipped saying "SKIPPED: TEXT..."
    if [ "${test_name#reason=}" != "$test_name" ] && grep -qF "SKIPPED: ${test_name#reason=}" <<< "$output"; then
      allowed=$condition; break
    fi
  done < tests/allowed_skips.txt
  if [ -n "$allowed" ] && condition_holds "$allowed"; then
    echo "check-skips: skipped as allowed ($allowed): $name"
  else
    echo "check-skips: UNEXPECTED SKIP: $name${allowed:+ (allowed only when $allowed)}" >&2
    unexpected=$((unexpected + 1))
  fi
done
echo "check-skips: ${#skipped[@]} skipped, $unexpected unexpected"
[ "$unexpected" -eq 0 ]
