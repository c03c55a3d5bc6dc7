#!/usr/bin/env bash
# Training speed of yolocpp against Ultralytics 8.3.166 on one GPU, both in the same run (issue #17), as one
# table: wall-clock per epoch, images/s of the loader alone, of forward+backward+step alone on synthetic
# batches, of training and end to end, GPU utilisation (nvidia-smi samples), peak GPU memory, final mAP50-95.
# Work: yolov8n.yaml from scratch, imgsz 640, batch 32, AMP, validation every epoch, on the Fashion-MNIST
# detection set of ../shared/tools/make_fashion_det.py (--train 2048 --val 256 --imgsz 640 --seed 3 --items t10k).
#
#   bash benchmarks/gpu_train.sh --prepare [--no-binary-wheels]
#       here, once per checkout: fills the ignored .gpu-bench/ with what the GPU machine lacks: the dataset
#       generator, Fashion-MNIST's t10k items (the dataset itself, ~400 MB of JPEGs, is made there), and the
#       Ultralytics 8.3.166 wheel with its pure-Python dependencies, plus (unless --no-binary-wheels) CPython
#       3.12 wheels of those the image may lack (torchvision 0.26 for torch 2.11, pandas, matplotlib, ...),
#       installed there only where an import fails. Carry .gpu-bench (and .gpu-kit for the build).
#   bash benchmarks/gpu_train.sh --make-data
#       on the GPU machine: only the dataset (a minute or two of CPU; can run beside .gpu-kit/device-build.sh)
#   bash benchmarks/gpu_train.sh [--epochs 10] [--build build-gpu] [--out DIR] [--deterministic True|False]
#       on the GPU machine, after the build: every phase of both programs, then the table (also DIR/table.md;
#       DIR defaults to $OUT, else ./gpu-train-report). Ultralytics comes from the machine's Python or from
#       the wheels in .gpu-bench; when it cannot be imported its rows say "n/a" and the log says why.
#   bash benchmarks/gpu_train.sh --dry-run [--build build]
#       on a CPU machine: the same phases at a tiny size (32 images of 128 px, 2 epochs, device=cpu)
#
# Environment: YOLO_ULTRALYTICS_PYTHON=/path/to/python with Ultralytics 8.3.166 installed (default: the
# machine's python3 when it imports ultralytics, else a virtual environment made from .gpu-bench/wheels).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
kit=$root/.gpu-bench

mode=run binary_wheels=1
epochs=10 imgsz=640 batch=32 train=2048 val=256 workers=8 device=0 iterations=50 warmup=20
build=build-gpu deterministic=True out="${OUT:-$root/gpu-train-report}"
while [ $# -gt 0 ]; do
  case "$1" in
    --prepare) mode=prepare ;;
    --make-data) mode=make-data ;;
    --dry-run) mode=dry-run ;;
    --no-binary-wheels) binary_wheels=0 ;;
    --epochs) epochs=$2; shift ;;
    --build) build=$2; shift ;;
    --out) out=$2; shift ;;
    --deterministic) deterministic=$2; shift ;;
    *) echo "gpu_train.sh: unknown option '$1' (see the head of this script)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$mode" = dry-run ]; then
  epochs=2 imgsz=128 batch=8 train=32 val=16 workers=2 device=cpu iterations=3 warmup=1
  [ "$build" = build-gpu ] && build=build
  out="${out%/}"; [ "$out" = "$root/gpu-train-report" ] && out=$root/gpu-train-report-dry
fi
data_dir=$root/gpu-train-data/fdet${imgsz}-${train}  # made where it runs, never carried

if [ "$mode" = prepare ]; then
  set -e
  mkdir -p "$kit/fashion-mnist" "$kit/wheels"
  cp "$root/../shared/tools/make_fashion_det.py" "$kit/"
  cp /usr/share/datasets/fashion-mnist/t10k-* "$kit/fashion-mnist/"  # Debian: dataset-fashion-mnist
  pip=(/usr/bin/python3 -m pip)
  "${pip[@]}" --version >/dev/null 2>&1 || pip=("${YOLO_ULTRALYTICS_PYTHON:-$HOME/.cache/yolocpp/venv-peers/bin/python}" -m pip)
  "${pip[@]}" download -q --no-deps -d "$kit/wheels" ultralytics==8.3.166 ultralytics-thop py-cpuinfo tqdm
  if [ "$binary_wheels" = 1 ]; then
    # The GPU image (Ubuntu 24.04, Python 3.12, torch 2.11+cu130) may lack these; they go in only if missing.
    "${pip[@]}" download -q -d "$kit/wheels" --only-binary=:all: --python-version 3.12 \
      --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
      --no-deps torchvision==0.26.0 pandas matplotlib pillow pyyaml requests psutil python-dateutil pytz tzdata \
      contourpy cycler fonttools kiwisolver pyparsing six idna urllib3 certifi charset-normalizer packaging
  fi
  du -sh "$kit"
  echo "ready: carry .gpu-bench (with .gpu-kit) and run 'bash benchmarks/gpu_train.sh' after the build"
  exit 0
fi

make_data() {
  [ -f "$data_dir/data.yaml" ] && return 0
  local src=$kit/fashion-mnist tool=$kit/make_fashion_det.py
  [ -f "$src/t10k-images-idx3-ubyte.gz" ] || src=/usr/share/datasets/fashion-mnist
  [ -f "$tool" ] || tool=$root/../shared/tools/make_fashion_det.py
  echo "gpu_train: making $data_dir ($train train, $val val images at $imgsz)" >&2
  mkdir -p "$(dirname "$data_dir")"
  rm -rf "$data_dir.partial"
  "${data_python:-python3}" "$tool" "$data_dir.partial" --train "$train" --val "$val" --imgsz "$imgsz" --seed 3 \
    --items t10k --src "$src" && mv "$data_dir.partial" "$data_dir"
}

# The Python that runs Ultralytics: given, the machine's own, or the machine's python3 with the carried wheels
# unpacked into .gpu-bench/site (on PYTHONPATH), each dependency only once an import says it is missing.
ul_path=""
ultralytics_python() {
  local py=${YOLO_ULTRALYTICS_PYTHON:-}
  local check="import ultralytics, torch, torchvision, pandas, matplotlib; import ultralytics.engine.trainer
assert ultralytics.__version__ == '8.3.166', 'ultralytics ' + ultralytics.__version__"
  if [ -z "$py" ]; then
    if python3 -c "$check" >/dev/null 2>&1; then
      py=python3
    elif [ "$mode" = dry-run ] && [ -x "$HOME/.cache/yolocpp/venv-peers/bin/python" ]; then
      py=$HOME/.cache/yolocpp/venv-peers/bin/python  # benchmarks/peers/install.sh's, on a CPU machine
    elif ls "$kit"/wheels/ultralytics-8.3.166-*.whl >/dev/null 2>&1; then
      py=python3 ul_path=$kit/site
      local err missing dist
      for _ in $(seq 20); do
        err=$(PYTHONPATH="$ul_path" python3 -c "$check" 2>&1) && break
        missing=$(echo "$err" | sed -n "s/.*No module named '\([^'.]*\).*/\1/p" | tail -n 1)
        [ -n "$missing" ] || break
        case $missing in
          PIL) dist=pillow ;; yaml) dist=pyyaml ;; dateutil) dist=python-dateutil ;; cpuinfo) dist=py-cpuinfo ;;
          thop) dist=ultralytics-thop ;; ultralytics) dist=ultralytics==8.3.166 ;; *) dist=$missing ;;
        esac
        echo "gpu_train: installing $dist from .gpu-bench/wheels into .gpu-bench/site" >&2
        python3 -m pip install -q --no-index --no-deps --target "$ul_path" --find-links "$kit/wheels" "$dist" >&2 || break
      done
    fi
  fi
  [ -n "$py" ] || { echo "no Ultralytics: the machine's python3 has none and there is no .gpu-bench/wheels (run --prepare here)"; return 1; }
  local why
  why=$(PYTHONPATH="$ul_path" "$py" -c "$check" 2>&1) || { echo "Ultralytics cannot run on $py: $(echo "$why" | tail -n 1)"; return 1; }
  echo "$py"
}

data_python=python3
python3 -c "import numpy, cv2" >/dev/null 2>&1 || data_python=$HOME/.cache/yolocpp/venv-peers/bin/python
if [ "$mode" = make-data ]; then make_data; exit $?; fi

# ---- the run ------------------------------------------------------------------------------------------------
mkdir -p "$out"
log=$out/gpu-train-log.txt results=$out/results.jsonl samples=$out/nvidia-smi.csv
: > "$log"; : > "$results"; rm -f "$samples"
bench=$root/$build/benchmarks/gpu_train_benchmark
[ -x "$bench" ] || { echo "no $bench: build first (bash .gpu-kit/device-build.sh, or scripts/build.sh)" >&2; exit 1; }
make_data >> "$log" 2>&1 || { echo "gpu_train: could not make the dataset (see $log)" >&2; exit 1; }
data=$data_dir/data.yaml project=$out/runs
rm -rf "$project"

sampler=""
if command -v nvidia-smi >/dev/null 2>&1 && [ "$device" != cpu ]; then
  nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv,noheader,nounits -lms 100 -f "$samples" &
  sampler=$!
fi
trap '[ -n "$sampler" ] && kill -INT $sampler 2>/dev/null; wait 2>/dev/null' EXIT

ultralytics_python > "$out/.python" 2>>"$log"; ustatus=$?
upy=$(cat "$out/.python"); rm -f "$out/.python"
[ $ustatus -eq 0 ] || { echo "gpu_train: Ultralytics not run: $upy" | tee -a "$log" >&2; upy=""; }
run() {  # run NAME COMMAND...: logs it, keeps going when it fails
  echo "gpu_train: $1" >&2
  echo "===== $1: ${*:2}" >> "$log"
  "${@:2}" >> "$log" 2>&1 || echo "gpu_train: $1 failed (exit $?), see $log" | tee -a "$log" >&2
}
common=(--data "$data" --json "$results" --imgsz "$imgsz" --batch "$batch" --workers "$workers" --device "$device"
        --epochs "$epochs" --train-images "$train" --iterations "$iterations" --warmup "$warmup" --project "$project"
        --deterministic "$deterministic")
ours=(data="$data" json="$results" imgsz="$imgsz" batch="$batch" workers="$workers" device="$device" epochs="$epochs"
      train_images="$train" iterations="$iterations" warmup="$warmup" project="$project"
      deterministic=$([ "$deterministic" = True ] && echo 1 || echo 0))
py_bench=$root/benchmarks/gpu_train.py
# Cheap phases first, so that a run cut short by the time limit still has them; the two trainings last.
for phase in loader step train; do
  [ -n "$upy" ] && run "ultralytics $phase" env YOLO_OFFLINE=True PYTHONPATH="$ul_path" "$upy" "$py_bench" ultralytics \
    "$phase" "${common[@]}"
  run "yolocpp $phase" "$bench" "$phase" "${ours[@]}"
done

[ -n "$sampler" ] && { kill -INT "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null; sampler=""; }
title="## gpu_train.sh ($mode), $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null)
$(nvidia-smi -L 2>/dev/null | head -n 1 || echo "no GPU: device=$device"); $(nproc) cores; $train train / $val val images \
at $imgsz, batch $batch, $epochs epochs, workers $workers, deterministic=$deterministic"
python3 "$py_bench" table "$results" --samples "$samples" --title "$title" | tee "$out/table.md"
