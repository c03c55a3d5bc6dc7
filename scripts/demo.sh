#!/usr/bin/env bash
# The main job on the bundled tiny dataset: install, build, fine-tune yolov8n for a few epochs, print mAP.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
./build/yolo detect train data=tests/data/fdet/data.yaml model=tests/data/yolov8n_fdet.pt \
  epochs=3 imgsz=320 batch=8 workers=2 project=runs/demo name=train exist_ok=True plots=False
