#!/usr/bin/env bash
# Installs what yolocpp builds and tests against. Safe to re-run.
#   bash scripts/install-deps.sh            Debian 12 packages (LibTorch 1.13, CPU): the default build
#   bash scripts/install-deps.sh --torch2   also a virtual environment with PyPI's CUDA LibTorch 2.x
#                                           (outside the source tree; reused when present)
set -euo pipefail
cd "$(dirname "$0")/.."

torch2=0
for arg in "$@"; do
  case "$arg" in
    --torch2) torch2=1 ;;
    *) echo "install-deps.sh: unknown option '$arg' (known: --torch2)" >&2; exit 2 ;;
  esac
done

pkgs=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev libgloo-dev libopencv-dev libyaml-cpp-dev libfmt-dev catch2
  pybind11-dev python3-dev python3-numpy python3-pytest python3-torch python3-venv
  # Datasets and weights by name: downloads, and deflate members of dataset zips.
  libcurl4-openssl-dev zlib1g-dev
  # LibTorch's BLAS: Debian's default is the unoptimised reference BLAS, which single-image CPU
  # convolutions use (predict at 640: 345 -> 175 ms per image with OpenBLAS here).
  libopenblas0-pthread
  # ONNX export: ONNX's protobuf definitions and checker; exported models run through OpenCV's DNN module;
  # the ONNX Runtime tests install onnxruntime from PyPI into a virtual environment.
  libonnx-dev libopencv-dnn-dev python3-venv
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ "$torch2" -eq 1 ] || exit 0

# The LibTorch 2.x leg: torch's wheel carries LibTorch (headers, shared libraries, CMake package) and
# pulls the CUDA 13 runtime, cuDNN and NCCL as nvidia-* wheels; its CUDA major must match the toolkit
# (nvcc) that compiles against it. The pins live in scripts/torch2-requirements.txt.
source scripts/torch2-env.sh
[ -x "$YOLO_TORCH2_VENV/bin/python" ] || /usr/bin/python3 -m venv "$YOLO_TORCH2_VENV"
"$YOLO_TORCH2_VENV/bin/python" -m pip install -q --disable-pip-version-check -r scripts/torch2-requirements.txt
"$YOLO_TORCH2_VENV/bin/python" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, 'in', '$YOLO_TORCH2_VENV')"
