#!/usr/bin/env bash
# The main job on the bundled tiny dataset: install, build the library and the `yolo` tool (nothing else: the
# tests, examples, benchmarks and Python module are scripts/test.sh's), fine-tune yolov8n for a few epochs,
# print mAP.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
YOLO_BUILD_TARGET=yolo_cli bash scripts/build.sh
./build/yolo detect train data=tests/data/fdet/data.yaml model=tests/data/yolov8n_fdet.pt \
  epochs=3 imgsz=320 batch=8 workers=2 project=runs/demo name=train exist_ok=True plots=False
