"""Runs the same work through Ultralytics and through yolocpp, in one run, and prints one table of ratios.

    bash benchmarks/peers/run.sh [--build build-torch2] [--build build] [--work DIR] [--fashion-mnist DIR]

Work (CPU): the training loader's images/s (mosaic, imgsz 640, batch 16, 2 workers: one warm epoch, then two
timed), end-to-end training images/s (yolov8n.yaml from scratch, imgsz 320, batch 16, one epoch of 256
images, the epoch alone timed), validation ms per image (tests/data/yolov8n_fdet.pt, 64 images at 640, batch
16) and predict ms per image (the same images one by one), and each program's peak RSS. Every measurement is
a child process of its own; its peak RSS is the kernel's (wait4). The datasets are made once in --work by
make_fashion_det.py (Fashion-MNIST items from Debian's dataset-fashion-mnist, or --fashion-mnist DIR).
yolocpp runs its own benchmark programs (benchmarks/*.cpp) of each --build.
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
WEIGHTS = ROOT / "tests" / "data" / "yolov8n_fdet.pt"
WORKERS = 2


# ---- the Ultralytics side, each task run as `run.py --task NAME ...` in a child process ----------------------

def ultralytics_loader(data):
    from ultralytics.cfg import get_cfg
    from ultralytics.data import build_dataloader, build_yolo_dataset
    from ultralytics.data.utils import check_det_dataset
    from ultralytics.utils import DEFAULT_CFG

    cfg = get_cfg(DEFAULT_CFG, {"imgsz": 640, "mosaic": 1.0})
    spec = check_det_dataset(data)
    dataset = build_yolo_dataset(cfg, spec["train"], 16, spec, mode="train")
    loader = build_dataloader(dataset, 16, WORKERS, shuffle=True)
    for _ in loader:  # a warm epoch, as benchmarks/loader_benchmark.cpp
        pass
    start, images = time.perf_counter(), 0
    for _ in range(2):
        for batch in loader:
            images += batch["img"].shape[0]
    return {"loader images/s": images / (time.perf_counter() - start)}


def ultralytics_train(data, work):
    from ultralytics import YOLO

    model, marks, batches = YOLO("yolov8n.yaml"), {}, [0]
    model.add_callback("on_train_epoch_start", lambda t: marks.setdefault("start", time.perf_counter()))
    model.add_callback("on_train_batch_end", lambda t: batches.__setitem__(0, batches[0] + 1))
    model.add_callback("on_train_epoch_end", lambda t: marks.setdefault("end", time.perf_counter()))
    model.train(data=data, imgsz=320, batch=16, epochs=1, workers=WORKERS, device="cpu", val=False, plots=False,
                project=str(work), name="ultralytics_train", exist_ok=True, verbose=False)
    return {"train images/s": batches[0] * 16 / (marks["end"] - marks["start"])}


def ultralytics_val_predict(data):
    from ultralytics import YOLO

    model = YOLO(str(WEIGHTS))
    args = dict(data=data, imgsz=640, batch=16, device="cpu", workers=WORKERS, plots=False, verbose=False)
    model.val(**args)  # warm-up, as benchmarks/val_predict_benchmark.cpp
    start = time.perf_counter()
    metrics = model.val(**args)
    val_s = time.perf_counter() - start
    images = len(list((pathlib.Path(data).parent / "images" / "val").glob("*.jpg")))
    source = str(pathlib.Path(data).parent / "images" / "val")
    for _ in model.predict(source, imgsz=640, device="cpu", stream=True, verbose=False):
        pass
    start, n = time.perf_counter(), 0
    for _ in model.predict(source, imgsz=640, device="cpu", stream=True, verbose=False):
        n += 1
    predict_s = time.perf_counter() - start
    return {"val ms/image": 1000 * val_s / images, "predict ms/image": 1000 * predict_s / n,
            "val mAP50-95": float(metrics.box.map)}


# ---- the yolocpp side: its benchmark programs' tables ----------------------------------------------------------

def table_cells(output, first_cell):
    """The cells of the markdown table row whose first cell is `first_cell`."""
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == first_cell:
            return cells
    raise RuntimeError(f"no row '{first_cell}' in:\n{output}")


def yolocpp_loader(out):
    return {"loader images/s": float(table_cells(out, str(WORKERS))[1])}


def yolocpp_train(out):
    return {"train images/s": float(table_cells(out, "yolov8n")[7])}


def yolocpp_val_predict(out):
    val, predict = table_cells(out, "val"), table_cells(out, "predict")
    m = re.search(r"val mAP50-95 ([0-9.]+)", out)
    return {"val ms/image": 1000 / float(val[5]), "predict ms/image": 1000 / float(predict[5]),
            "val mAP50-95": float(m.group(1)) if m else float("nan")}


# ---- running and measuring -----------------------------------------------------------------------------------

def measured(cmd, env=None):
    """Runs cmd; returns (stdout, peak RSS in MiB) or raises with its output."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{out[-3000:]}")
    return out, usage.ru_maxrss / 1024


def make_datasets(work, fashion_mnist):
    sets = {"det640": ["--train", "256", "--val", "64", "--imgsz", "640", "--seed", "1"],
            "det320": ["--train", "256", "--val", "32", "--imgsz", "320", "--seed", "2"]}
    for name, args in sets.items():
        if not (work / name / "data.yaml").exists():
            subprocess.run([sys.executable, str(HERE / "make_fashion_det.py"), str(work / name), *args,
                            "--src", fashion_mnist], check=True)
    return work / "det640" / "data.yaml", work / "det320" / "data.yaml"


def yolocpp_label(build):
    out = subprocess.run([str(build / "yolo"), "checks"], capture_output=True, text=True, check=True).stdout
    version = re.search(r"^LibTorch: (\S+)", out, re.M).group(1)
    return f"yolocpp ({build.name}, LibTorch {version})"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", action="append", help="a yolocpp build folder (repeatable); default build-torch2")
    parser.add_argument("--work", default=str(pathlib.Path.home() / ".cache" / "yolocpp" / "peers-work"))
    parser.add_argument("--fashion-mnist", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--task", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = pathlib.Path(args.work)

    if args.task:  # a child: one Ultralytics measurement, printed as JSON
        os.environ.setdefault("YOLO_OFFLINE", "1")
        task = {"loader": lambda: ultralytics_loader(args.data), "train": lambda: ultralytics_train(args.data, work),
                "val_predict": lambda: ultralytics_val_predict(args.data)}[args.task]
        print("RESULT " + json.dumps(task()))
        return

    work.mkdir(parents=True, exist_ok=True)
    det640, det320 = make_datasets(work, args.fashion_mnist)
    builds = [pathlib.Path(b).resolve() for b in (args.build or [str(ROOT / "build-torch2")])]
    import torch
    import ultralytics

    columns = {f"Ultralytics {ultralytics.__version__} (torch {torch.__version__})": {}}
    child = [sys.executable, str(__file__), "--work", str(work)]
    for task, data in (("loader", det640), ("train", det320), ("val_predict", det640)):
        out, rss = measured(child + ["--task", task, "--data", str(data)])
        result = json.loads(out.split("RESULT ", 1)[1].splitlines()[0])
        columns[next(iter(columns))].update(result, **{f"{task} peak RSS MiB": rss})
        print(f"ultralytics {task}: {result}, peak RSS {rss:.0f} MiB", file=sys.stderr)
    for build in builds:
        label, values = yolocpp_label(build), {}
        bench = build / "benchmarks"
        runs = (("loader", [bench / "loader_benchmark", det640.parent, str(WORKERS)], yolocpp_loader),
                ("train", [bench / "train_benchmark", det320, "320", "16", "1", str(WORKERS), "cpu"], yolocpp_train),
                ("val_predict", [bench / "val_predict_benchmark", WEIGHTS, det640, "640", "16", "cpu"],
                 yolocpp_val_predict))
        for task, cmd, parse in runs:
            out, rss = measured([str(c) for c in cmd])
            values.update(parse(out), **{f"{task} peak RSS MiB": rss})
            print(f"{label} {task}: {parse(out)}, peak RSS {rss:.0f} MiB", file=sys.stderr)
        columns[label] = values

    # Ratios say how many times better yolocpp is: its throughput over Ultralytics', or Ultralytics' time
    # and memory over its own (> 1: yolocpp is faster or smaller).
    rows = [("loader images/s (mosaic, 640, batch 16)", "loader images/s", True),
            ("training images/s (yolov8n, 320, batch 16, 256 images)", "train images/s", True),
            ("val ms/image (640, batch 16, 64 images)", "val ms/image", False),
            ("predict ms/image (640, one by one)", "predict ms/image", False),
            ("peak RSS MiB: loader", "loader peak RSS MiB", False),
            ("peak RSS MiB: training", "train peak RSS MiB", False),
            ("peak RSS MiB: val + predict", "val_predict peak RSS MiB", False),
            ("val mAP50-95 (same checkpoint and images)", "val mAP50-95", None)]
    names = list(columns)
    peer = columns[names[0]]
    header = ["work", names[0]] + [x for n in names[1:] for x in (n, "ratio")]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for title, key, higher_better in rows:
        cells = [title, f"{peer[key]:.4g}"]
        for n in names[1:]:
            value = columns[n][key]
            ratio = "" if higher_better is None else value / peer[key] if higher_better else peer[key] / value
            cells += [f"{value:.4g}", ratio if ratio == "" else f"{ratio:.2f}x"]
        lines.append("| " + " | ".join(cells) + " |")
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"\n{datetime.date.today()}, {platform.node() or 'host'}: {cpu}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at the end; ratio > 1: yolocpp is faster or smaller")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
