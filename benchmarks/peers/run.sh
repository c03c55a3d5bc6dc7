#!/usr/bin/env bash
# One command for the side-by-side run: installs the peers' venv (once, install.sh), Debian's Fashion-MNIST
# when no --fashion-mnist DIR is given, then runs run.py (see its head) and prints one table of ratios.
#   bash benchmarks/peers/run.sh [--build DIR ...] [--sections det,cls] [--work DIR] [--fashion-mnist DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
bash benchmarks/peers/install.sh >&2
if [[ " $* " != *" --fashion-mnist "* ]] && [ ! -d /usr/share/datasets/fashion-mnist ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq dataset-fashion-mnist >&2
fi
venv="${YOLO_PEERS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/yolocpp/venv-peers}"
"$venv/bin/python" benchmarks/peers/run.py "$@"
