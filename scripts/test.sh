#!/usr/bin/env bash
# The whole test suite: install, build, run the Catch2 tests through ctest and the Python tests through pytest.
#   bash scripts/test.sh            Debian's LibTorch 1.13 (CPU), in build/
#   bash scripts/test.sh --torch2   PyPI's CUDA LibTorch 2.x, in build-torch2/ (tests run on the CPU)
# Prints how long each step took.
set -euo pipefail
cd "$(dirname "$0")/.."

leg=default build=build python=/usr/bin/python3  # Debian's interpreter holds numpy and pytest
if [ "${1:-}" = "--torch2" ]; then
  leg=torch2 build=build-torch2
  source scripts/torch2-env.sh
  python="$YOLO_TORCH2_PYTHON"
fi
flag=(); [ "$leg" = torch2 ] && flag=(--torch2)

# Tests write their runs under TMPDIR: a folder of this run's own, so that concurrent runs on one machine
# (both legs, or several checkouts) never share one.
export TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/yolocpp-test-$leg.XXXXXX")
trap 'rm -rf "$TMPDIR"' EXIT

timings=()
step() {
  local name=$1 start=$SECONDS
  shift
  "$@"
  timings+=("$name $((SECONDS - start)) s")
  echo "test.sh [$leg]: $name took $((SECONDS - start)) s" >&2
}

step install bash scripts/install-deps.sh "${flag[@]}"
step build bash scripts/build.sh "${flag[@]}"
step ctest bash -c "cd $build && ctest --output-on-failure -j $(nproc)"
step skips bash scripts/check-skips.sh "$build"  # a skip not on tests/allowed_skips.txt fails the run
step pytest env PYTHONPATH="$PWD/$build/python" "$python" -m pytest -q python/tests
echo "test.sh [$leg]: $(IFS=,; echo "${timings[*]}" | sed 's/,/, /g')" >&2
