#!/usr/bin/env bash
# Installs the Debian 12 packages yolocpp builds and tests against. Safe to re-run.
set -euo pipefail
pkgs=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev libgloo-dev libopencv-dev libyaml-cpp-dev libfmt-dev catch2
  pybind11-dev python3-dev python3-numpy python3-pytest python3-torch
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
