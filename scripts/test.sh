#!/usr/bin/env bash
# The whole test suite: install, build, run the Catch2 tests through ctest and the Python tests through pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
(cd build && ctest --output-on-failure -j "$(nproc)")
bash scripts/check-skips.sh build  # a skip not on tests/allowed_skips.txt fails the run
# Debian's interpreter holds numpy and pytest; the first python3 on PATH may not.
PYTHONPATH="$PWD/build/python" /usr/bin/python3 -m pytest -q python/tests
