#!/usr/bin/env bash
# Installs the peers (Ultralytics 8.3.166 on PyPI's torch) into a virtual environment outside the source
# tree, reused when present: ${YOLO_PEERS_VENV:-~/.cache/yolocpp/venv-peers}. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")"
venv="${YOLO_PEERS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/yolocpp/venv-peers}"
[ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r requirements.txt
# Ultralytics checks for updates and settings online at import; the runs here stay offline.
"$venv/bin/yolo" settings sync=False >/dev/null 2>&1 || true
"$venv/bin/python" -c "import ultralytics, torch; print('ultralytics', ultralytics.__version__, 'torch', torch.__version__, 'in', '$venv')"
