#!/usr/bin/env bash
# Makes a virtual environment holding the real `tensorboard` package from PyPI, outside the source tree,
# for the test that reads our event files with TensorBoard's own reader. Prints the venv's python.
#   YOLO_TENSORBOARD_VENV  where the venv goes (default: ~/.cache/yolocpp/venvs/tensorboard)
# Exit status 3 means PyPI could not be reached (the test then shows as skipped); other failures are errors.
set -euo pipefail
venv="${YOLO_TENSORBOARD_VENV:-${HOME}/.cache/yolocpp/venvs/tensorboard}"
python="$venv/bin/python"
if [ -x "$python" ] && "$python" -c "import tensorboard" 2>/dev/null; then
  echo "$python"
  exit 0
fi
/usr/bin/python3 -m venv "$venv" >&2
if ! "$python" -m pip install --quiet --disable-pip-version-check "tensorboard>=2.14,<3" >&2; then
  # Tell an unreachable index apart from a broken install: ask the index for the package's versions.
  if ! "$python" -m pip index versions tensorboard --disable-pip-version-check >/dev/null 2>&1; then
    echo "PyPI is unreachable: cannot install tensorboard into $venv" >&2
    exit 3
  fi
  exit 1
fi
echo "$python"
