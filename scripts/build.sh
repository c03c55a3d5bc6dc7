#!/usr/bin/env bash
# Configures and builds yolocpp (Ninja, Release). Re-running rebuilds only what changed.
#   bash scripts/build.sh [cmake args]           build/ against Debian's LibTorch 1.13 (CPU)
#   bash scripts/build.sh --torch2 [cmake args]  build-torch2/ against the CUDA LibTorch 2.x that
#       `scripts/install-deps.sh --torch2` installs: CUDA, cuDNN and NCCL on, warnings are errors.
#       YOLO_TORCH2_PYTHON names another Python holding torch and pybind11 (e.g. the GPU machine's),
#       YOLO_TORCH2_BUILD_DIR another build folder, YOLO_PREFIX_PATH more CMake prefixes (e.g. an OpenCV).
# YOLO_BUILD_TARGET=yolo_cli builds one target (and what it needs) instead of everything.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--torch2" ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DPython3_EXECUTABLE=/usr/bin/python3 -DPYTHON_EXECUTABLE=/usr/bin/python3 "$@"
  cmake --build build -j "$(nproc)" ${YOLO_BUILD_TARGET:+--target "$YOLO_BUILD_TARGET"}
  exit 0
fi
shift

source scripts/torch2-env.sh
python="$YOLO_TORCH2_PYTHON"
if [ ! -x "$python" ]; then
  echo "build.sh --torch2: no Python at $python; run: bash scripts/install-deps.sh --torch2" >&2
  exit 1
fi
# The torch folder itself is a prefix too, so that find_library takes its lib/ before Debian's LibTorch.
torch_dir=$("$python" -c "import os, torch; print(os.path.dirname(torch.__file__))")
torch_prefix=$("$python" -c "import torch; print(torch.utils.cmake_prefix_path)")
pybind11_dir=$("$python" -c "import pybind11; print(pybind11.get_cmake_dir())")
# LibTorch's CMake leaves cuDNN off unless told where it is: the cuDNN wheel that torch loads.
cudnn=("-DCAFFE2_USE_CUDNN=ON")
for lib in "$torch_dir"/../nvidia/cudnn/lib/libcudnn.so.*; do
  [ -f "$lib" ] && cudnn+=(-DCUDNN_INCLUDE_PATH="$(dirname "$lib")/../include" -DCUDNN_LIBRARY_PATH="$lib") && break
done
cmake -S . -B "${YOLO_TORCH2_BUILD_DIR:-build-torch2}" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$torch_prefix;$torch_dir${YOLO_PREFIX_PATH:+;$YOLO_PREFIX_PATH}" \
      -Dpybind11_DIR="$pybind11_dir" \
      "${cudnn[@]}" \
      -DPython_EXECUTABLE="$python" -DPython3_EXECUTABLE="$python" -DPYTHON_EXECUTABLE="$python" \
      -DYOLO_WITH_NCCL=ON -DYOLO_WERROR=ON "$@"
cmake --build "${YOLO_TORCH2_BUILD_DIR:-build-torch2}" -j "$(nproc)" ${YOLO_BUILD_TARGET:+--target "$YOLO_BUILD_TARGET"}
