#!/usr/bin/env bash
# Configures and builds yolocpp into build/ (Ninja, Release). Re-running rebuilds only what changed.
# YOLO_BUILD_TARGET=yolo_cli builds one target (and what it needs) instead of everything.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DPython3_EXECUTABLE=/usr/bin/python3 -DPYTHON_EXECUTABLE=/usr/bin/python3 "$@"
cmake --build build -j "$(nproc)" ${YOLO_BUILD_TARGET:+--target "$YOLO_BUILD_TARGET"}
