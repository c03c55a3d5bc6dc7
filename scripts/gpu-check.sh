#!/usr/bin/env bash
# The one prepared command for the GPU machine (docs/gpu.md): builds against that machine's CUDA torch,
# runs the CUDA checks no CPU can run (AMP training loss vs CPU fp32, NCCL at world size 1, device=0,0)
# and the test suite with CUDA, each bounded in time, under 8 minutes in all, and writes a report
# (gpu-check.md, and gpu-check-logs.txt with each step's output).
#
#   bash scripts/gpu-check.sh --prepare [--kit DIR]   here, once per checkout: copy the GPU kit (static
#       OpenCV from ../shared/gpu or DIR, and Gloo's headers from this machine) into the ignored .gpu-kit/
#   bash scripts/gpu-check.sh [--out DIR]             on the GPU machine (carry .gpu-kit); report in DIR,
#       default $OUT when set, else ./gpu-check-report
#   bash scripts/gpu-check.sh --dry-run [--build-dir DIR] [--out DIR]   on a CPU machine: runs what a CPU
#       can (the report, the AMP comparison on CPU, the NCCL test's skip), says what it would skip;
#       with --build-dir it uses that build (e.g. build-torch2) instead of building
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

mode=run kit_src="$root/../shared/gpu" build_dir="" out="${OUT:-$root/gpu-check-report}"
while [ $# -gt 0 ]; do
  case "$1" in
    --prepare) mode=prepare ;;
    --dry-run) mode=dry-run ;;
    --kit) kit_src=$2; shift ;;
    --build-dir) build_dir=$2; shift ;;
    --out) out=$2; shift ;;
    *) echo "gpu-check.sh: unknown option '$1' (see the head of this script)" >&2; exit 2 ;;
  esac
  shift
done

if [ "$mode" = prepare ]; then
  set -e
  [ -f "$kit_src/opencv-min-4.6.0-linux-x86_64.tar.xz" ] || { echo "no GPU kit at $kit_src (--kit DIR)" >&2; exit 1; }
  mkdir -p .gpu-kit/gloo-include
  cp "$kit_src"/* .gpu-kit/
  # The GPU machine has no Gloo headers; LibTorch's c10d Gloo backend needs them to compile (device=0,0).
  [ -d /usr/include/gloo ] && cp -r /usr/include/gloo .gpu-kit/gloo-include/
  if ! git check-ignore -q .gpu-kit/README.md; then  # .gitignore has it; an older checkout may not
    exclude=$(git rev-parse --git-path info/exclude) && mkdir -p "$(dirname "$exclude")" && echo '/.gpu-kit/' >> "$exclude"
  fi
  du -sh .gpu-kit
  echo "ready: run 'bash scripts/gpu-check.sh' on the GPU machine, carrying .gpu-kit"
  exit 0
fi

# ---- steps, each bounded by its own limit and by what is left of the whole budget --------------------
# Under 8 minutes on the GPU machine, with room to write the report; a dry run on a slow CPU may take longer.
default_budget=470; [ "$mode" = dry-run ] && default_budget=900
budget_s=${GPU_CHECK_BUDGET_S:-$default_budget}
deadline=$((SECONDS + budget_s))
mkdir -p "$out"
report="$out/gpu-check.md" logs="$out/gpu-check-logs.txt"
work=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
export TMPDIR="$work"  # the tests' run folders too, removed at the end
: > "$logs"
failures=0
{
  echo "# scripts/gpu-check.sh ($mode), $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with changes)')"
  echo "- host: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "- GPUs: $(nvidia-smi -L 2>/dev/null | tr '\n' ' ' || true)"
  echo
  echo "| step | result | seconds |"
  echo "| --- | --- | ---: |"
} > "$report"

row() { echo "| $1 | $2 | $3 |" >> "$report"; }
skip() { row "$1" "SKIP: $2" 0; echo "gpu-check: $1: SKIP ($2)" >&2; }

# step NAME LIMIT_S COMMAND...: runs COMMAND under a time limit, logs its output, records the result.
step() {
  local name=$1 limit=$2
  shift 2
  local left=$((deadline - SECONDS))
  if [ "$left" -lt 15 ]; then skip "$name" "no time left in the ${budget_s}s budget"; failures=$((failures + 1)); return 1; fi
  [ "$limit" -gt "$left" ] && limit=$left
  local start=$SECONDS status
  echo "gpu-check: $name (limit ${limit}s)" >&2
  { echo "===== $name: $*"; } >> "$logs"
  # `timeout` runs programs, not shell functions: a function (compare_losses) runs in a child bash that has it.
  if [ "$(type -t "$1")" = function ]; then
    timeout --kill-after=10 "$limit" bash -c "$(declare -f "$1"); \"\$@\"" _ "$@" > "$work/step.log" 2>&1
  else
    timeout --kill-after=10 "$limit" "$@" > "$work/step.log" 2>&1
  fi
  status=$?
  tail -n 300 "$work/step.log" >> "$logs"
  local took=$((SECONDS - start)) result=PASS
  if [ $status -eq 124 ] || [ $status -eq 137 ]; then result="TIMEOUT after ${limit}s"; failures=$((failures + 1))
  elif [ $status -ne 0 ]; then result="FAIL (exit $status)"; failures=$((failures + 1)); fi
  row "$name" "$result" "$took"
  echo "gpu-check: $name: $result in ${took}s" >&2
  [ "$result" = PASS ]
}

have_gpu=0
nvidia-smi -L > /dev/null 2>&1 && have_gpu=1
if [ "$mode" = run ] && [ $have_gpu -eq 0 ]; then
  echo "gpu-check.sh: nvidia-smi sees no GPU here; use --dry-run on a CPU machine" >&2
  exit 2
fi

# 1. Build against this machine's torch (its Python), with the kit's static OpenCV where none is installed.
if [ -n "$build_dir" ] && [ -x "$build_dir/yolo" ]; then
  B=$build_dir
  skip "build" "using the existing build in $B"
elif [ "$mode" = dry-run ]; then
  B=build-torch2
  step "build (LibTorch 2.x leg)" 1800 bash scripts/build.sh --torch2 || true
else
  B=build-gpu
  extra=()
  if [ ! -f /usr/include/opencv4/opencv2/core.hpp ] && [ -f .gpu-kit/opencv-min-4.6.0-linux-x86_64.tar.xz ]; then
    [ -d /opt/opencv-min ] || tar xJf .gpu-kit/opencv-min-4.6.0-linux-x86_64.tar.xz -C /opt
    export YOLO_PREFIX_PATH=/opt/opencv-min
  fi
  [ -d /usr/include/gloo ] || [ ! -d .gpu-kit/gloo-include/gloo ] || extra+=(-DYOLO_GLOO_INCLUDE_DIR="$root/.gpu-kit/gloo-include")
  python=$(command -v python3)
  # Warnings stay warnings there: another compiler must not cost the GPU time that the checks need.
  step "build against $(python3 -c 'import torch; print("torch", torch.__version__)' 2>/dev/null)" 330 \
    env YOLO_TORCH2_PYTHON="$python" YOLO_TORCH2_BUILD_DIR=$B bash scripts/build.sh --torch2 \
    -DYOLO_WERROR=OFF -DYOLO_BUILD_BENCHMARKS=OFF -DYOLO_BUILD_EXAMPLES=OFF "${extra[@]}" || true
fi
if [ ! -x "$B/yolo" ]; then
  echo "gpu-check.sh: no $B/yolo to check" >&2
  { echo; echo "No build: see gpu-check-logs.txt."; } >> "$report"
  exit 1
fi

# 2. What the build sees: versions, CUDA, GPUs (also in the report below the table).
step "yolo checks" 60 "$B/yolo" checks && cp "$work/step.log" "$work/checks.txt"

# 3. AMP: 20 training iterations (5 epochs of 4 batches of 4 images, an optimizer step per batch) from the
# fdet checkpoint, on CUDA with AMP and on the CPU in fp32; each epoch's mean loss within 2%.
train_args=(detect train model=tests/data/yolov8n_fdet.pt data=tests/data/fdet/data.yaml batch=4 nbs=4
            workers=2 seed=0 deterministic=True plots=False exist_ok=True project="$work/runs")
compare_losses() {  # compare_losses A/results.csv B/results.csv: every epoch's box+cls+dfl within 2%
  python3 - "$1" "$2" << 'EOF'
import csv, sys
def losses(path):
    with open(path) as f:
        return [sum(float(r[k]) for k in r if k.strip().startswith("train/")) for r in csv.DictReader(f)]
a, b = losses(sys.argv[1]), losses(sys.argv[2])
assert a and len(a) == len(b), f"epochs differ: {len(a)} vs {len(b)}"
worst = max(abs(x - y) / y for x, y in zip(a, b))
print("epoch losses (box+cls+dfl):", " / ".join(f"{x:.4f} vs {y:.4f}" for x, y in zip(a, b)))
print(f"largest relative difference {worst:.4%} (limit 2%)")
sys.exit(0 if worst <= 0.02 else 1)
EOF
}
if [ $have_gpu -eq 1 ]; then
  step "train 20 iterations, CPU fp32" 120 "$B/yolo" "${train_args[@]}" device=cpu amp=False epochs=5 imgsz=320 name=cpu &&
  step "train 20 iterations, CUDA AMP" 90 "$B/yolo" "${train_args[@]}" device=0 amp=True epochs=5 imgsz=320 name=amp &&
  step "AMP loss within 2% of CPU fp32" 30 compare_losses "$work/runs/amp/results.csv" "$work/runs/cpu/results.csv"
else
  # On a CPU the comparison runs between two CPU fp32 runs of one epoch: it checks the arguments and the
  # comparison that the GPU run will use.
  step "train 4 iterations, CPU fp32 (dry run of the AMP check)" 300 "$B/yolo" "${train_args[@]}" device=cpu \
    amp=False epochs=1 imgsz=128 name=cpu &&
  step "train 4 iterations, CPU fp32 again" 300 "$B/yolo" "${train_args[@]}" device=cpu amp=False epochs=1 \
    imgsz=128 name=cpu2 &&
  step "loss comparison (CPU vs CPU)" 30 compare_losses "$work/runs/cpu2/results.csv" "$work/runs/cpu/results.csv"
  skip "train 20 iterations, CUDA AMP" "no GPU"
fi

# 4. NCCL at world size 1: the collectives through ProcessGroupNCCL on one GPU. Without a GPU the test skips
# itself (Catch2 3 exits 4 when every test it ran skipped).
nccl_test='"$0" "NCCL at world size 1: collectives on one GPU"; rc=$?; [ $rc -eq 4 ] && exit 0; exit $rc'
if step "NCCL world size 1" 90 bash -c "$nccl_test" "$B/tests/yolo_tests" &&
   grep -qi "skipped\|needs a CUDA GPU\|has no NCCL" "$work/step.log"; then
  sed -i '$ s/| PASS |/| PASS, but the test skipped itself (see the log) |/' "$report"
fi

# 5. device=0,0: two ranks on one GPU, through Gloo (NCCL refuses two ranks on one device).
if [ $have_gpu -eq 1 ]; then
  step "device=0,0: 2 ranks through Gloo" 150 "$B/yolo" "${train_args[@]}" device=0,0 epochs=1 imgsz=320 name=ddp00 &&
  cp "$work/step.log" "$work/ddp00.log" &&
  step "device=0,0 used Gloo and saved weights" 10 bash -c \
    "grep -q 'DDP: 2 ranks (gloo backend)' '$work/ddp00.log' && test -f '$work/runs/ddp00/weights/best.pt'"
else
  skip "device=0,0: 2 ranks through Gloo" "no GPU (ctest runs device=cpu,cpu)"
fi

# 6. The whole suite with CUDA present, in the time left (the CUDA checks above come first, so that a slow
# suite cannot crowd them out): the tests that find a GPU use it (AMP, device selection, NCCL).
if [ $have_gpu -eq 1 ]; then
  if [ -d "$B/python/yolo" ]; then
    step "pytest with CUDA" 90 env PYTHONPATH="$root/$B/python" python3 -m pytest -q python/tests
  else
    skip "pytest with CUDA" "no Python module in $B"
  fi
  step "ctest with CUDA" 300 ctest --test-dir "$B" --output-on-failure -j "$(( $(nproc) / 2 ))" --timeout 150
else
  skip "pytest with CUDA" "no GPU (CI runs the suite on CPU)"
  skip "ctest with CUDA" "no GPU (CI runs the suite on CPU)"
fi

{
  echo
  echo "Total: $SECONDS s of the ${budget_s} s budget; $failures failed."
  echo
  echo '## yolo checks'
  echo '```'
  cat "$work/checks.txt" 2>/dev/null || echo "(not run)"
  echo '```'
} >> "$report"
echo "gpu-check: report in $report ($failures failed)" >&2
[ $failures -eq 0 ]
