# Sourced by the scripts of the LibTorch 2.x leg: where its virtual environment lives.
# YOLO_TORCH2_VENV=/path moves it (kept outside the source tree so that the build never globs it);
# YOLO_TORCH2_PYTHON=/path/python builds against another Python's torch (e.g. the GPU machine's).
: "${YOLO_TORCH2_VENV:=${XDG_CACHE_HOME:-$HOME/.cache}/yolocpp/venv-torch2}"
: "${YOLO_TORCH2_PYTHON:=$YOLO_TORCH2_VENV/bin/python}"
export YOLO_TORCH2_VENV YOLO_TORCH2_PYTHON
