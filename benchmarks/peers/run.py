"""Runs the same work through the peers (Ultralytics, torchvision) and through yolocpp, in one run, and prints one
table of ratios.

    bash benchmarks/peers/run.sh [--build build] [--build build-torch2] [--work DIR] [--fashion-mnist DIR]
                                 [--sections det,cls]

Detection (CPU, against Ultralytics): the training loader's images/s (mosaic, imgsz 640, batch 16, 2 workers:
one warm epoch, then two timed), end-to-end training images/s (yolov8n.yaml from scratch, imgsz 320, batch 16,
one epoch of 256 images, the epoch alone timed), validation ms per image (tests/data/yolov8n_fdet.pt, 64 images
at 640, batch 16) and predict ms per image (the same images one by one), and each program's peak RSS.
Classification (CPU, training images/s from scratch, imgsz 224, batch 16, 2 workers, one epoch of 320 images,
the epoch alone timed): yolov8n-cls.yaml against Ultralytics' classify trainer, and resnet18 against a plain
torchvision training loop with the same data, transform (Ultralytics' classify augmentations, as yolocpp
applies them) and batch, and the optimizer settings yolocpp's trainer uses (optimizer=auto: AdamW, gradients
accumulated to a nominal batch of 64, clipped at norm 10).
Every measurement is a child process of its own; its peak RSS is the kernel's (wait4: the largest process of
its tree, so DataLoader worker processes are not added to the Python figures, while yolocpp's loader threads
are in its one process), and so are its CPU seconds. Loader and training rows also give images per CPU-second
of the timed part (Python: the process and its live workers), the figure that still compares when other work
shares the machine; --repeat N runs everything N times, the programs taking turns, and shows the best. The datasets are made once in --work by make_fashion_det.py and make_fashion_cls.py
(Fashion-MNIST items from Debian's dataset-fashion-mnist, or --fashion-mnist DIR). yolocpp runs its own
benchmark programs (benchmarks/*.cpp) of each --build.
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
WEIGHTS = ROOT / "tests" / "data" / "yolov8n_fdet.pt"
WORKERS = 2
CLS_IMGSZ, CLS_BATCH, CLS_PER_CLASS = 224, 16, 32  # Fashion-MNIST has 10 classes


# ---- the Ultralytics side, each task run as `run.py --task NAME ...` in a child process ----------------------

def tree_cpu_seconds():
    """User + system CPU seconds of this process and its live children (DataLoader workers)."""
    import psutil

    me = psutil.Process()
    return sum(sum(p.cpu_times()[:2]) for p in [me, *me.children(recursive=True)])


def training_figures(images, seconds, cpu_seconds):
    return {"images/s": images / seconds, "images per CPU-s": images / cpu_seconds}


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
    start, cpu_start, images = time.perf_counter(), tree_cpu_seconds(), 0
    for _ in range(2):
        for batch in loader:
            images += batch["img"].shape[0]
    return training_figures(images, time.perf_counter() - start, tree_cpu_seconds() - cpu_start)


def epoch_timer(model):
    """Callbacks on an Ultralytics model that time its training epoch (wall and CPU) and count its batches."""
    marks, batches = {}, [0]

    def mark(name):
        marks.setdefault(name, (time.perf_counter(), tree_cpu_seconds()))

    model.add_callback("on_train_epoch_start", lambda t: mark("start"))
    model.add_callback("on_train_batch_end", lambda t: batches.__setitem__(0, batches[0] + 1))
    model.add_callback("on_train_epoch_end", lambda t: mark("end"))
    return lambda batch: training_figures(batches[0] * batch, marks["end"][0] - marks["start"][0],
                                          marks["end"][1] - marks["start"][1])


def ultralytics_train(data, work):
    from ultralytics import YOLO

    model = YOLO("yolov8n.yaml")
    images_per_s = epoch_timer(model)
    model.train(data=data, imgsz=320, batch=16, epochs=1, workers=WORKERS, device="cpu", val=False, plots=False,
                project=str(work), name="ultralytics_train", exist_ok=True, verbose=False)
    return images_per_s(16)


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


def ultralytics_classify_train(data, work):
    from ultralytics import YOLO

    model = YOLO("yolov8n-cls.yaml")
    images_per_s = epoch_timer(model)
    model.train(data=data, imgsz=CLS_IMGSZ, batch=CLS_BATCH, epochs=1, workers=WORKERS, device="cpu", val=False,
                plots=False, pretrained=False, project=str(work), name="ultralytics_classify", exist_ok=True,
                verbose=False)
    return images_per_s(CLS_BATCH)


def torchvision_train(data):
    """resnet18 from scratch in a plain training loop: ImageFolder, DataLoader, forward, backward, step."""
    import torch
    import torchvision
    import torchvision.transforms as T

    # Ultralytics' classify_augmentations with its defaults (scale 0.5, fliplr 0.5, randaugment, erasing 0.4;
    # mean 0 and std 1, so no Normalize), which yolocpp's classification loader applies too.
    transform = T.Compose([T.RandomResizedCrop(CLS_IMGSZ, scale=(0.5, 1.0)), T.RandomHorizontalFlip(0.5),
                           T.RandAugment(), T.ToTensor(), T.RandomErasing(p=0.4, inplace=True)])
    dataset = torchvision.datasets.ImageFolder(str(pathlib.Path(data) / "train"), transform)
    # persistent workers: alive at the end of the epoch, so that their CPU time can be read
    loader = torch.utils.data.DataLoader(dataset, batch_size=CLS_BATCH, shuffle=True, num_workers=WORKERS,
                                         persistent_workers=True)
    model = torchvision.models.resnet18(num_classes=len(dataset.classes))
    # optimizer=auto as the trainers choose it for a short run: AdamW at lr 0.002 * 5 / (4 + nc), decay on the
    # weights of convolutions and linear layers only, a step every 64 / batch batches, gradients clipped at 10.
    decay = [p for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) for p in [m.weight]]
    ids = {id(p) for p in decay}
    rest = [p for p in model.parameters() if id(p) not in ids]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 5e-4}, {"params": rest, "weight_decay": 0.0}],
                                  lr=round(0.002 * 5 / (4 + len(dataset.classes)), 6), betas=(0.9, 0.999))
    accumulate = max(round(64 / CLS_BATCH), 1)
    criterion = torch.nn.CrossEntropyLoss()
    model.train()
    start, cpu_start, images = time.perf_counter(), tree_cpu_seconds(), 0
    for i, (x, y) in enumerate(loader):
        criterion(model(x), y).backward()
        if (i + 1) % accumulate == 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=10.0)
            optimizer.step()
            optimizer.zero_grad()
        images += x.shape[0]
    return training_figures(images, time.perf_counter() - start, tree_cpu_seconds() - cpu_start)


# ---- the yolocpp side: its benchmark programs' tables ----------------------------------------------------------

def table_cells(output, first_cell):
    """The cells of the markdown table row whose first cell is `first_cell`."""
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == first_cell:
            return cells
    raise RuntimeError(f"no row '{first_cell}' in:\n{output}")


def yolocpp_loader(out):
    cells = table_cells(out, str(WORKERS))
    return {"images/s": float(cells[1]), "images per CPU-s": float(cells[3])}


def yolocpp_train(model):
    return lambda out: {"images/s": float(table_cells(out, model)[7]),
                        "images per CPU-s": float(table_cells(out, model)[10])}


def yolocpp_val_predict(out):
    val, predict = table_cells(out, "val"), table_cells(out, "predict")
    m = re.search(r"val mAP50-95 ([0-9.]+)", out)
    return {"val ms/image": float(val[6]), "predict ms/image": float(predict[6]),
            "val mAP50-95": float(m.group(1)) if m else float("nan")}


# ---- running and measuring -----------------------------------------------------------------------------------

def measured(cmd, env=None):
    """Runs cmd; returns (stdout, {peak RSS MiB, CPU s}) or raises with its output. The CPU time (user + system,
    of the program and the children it waited for) is the whole program's, set-up included."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{out[-3000:]}")
    return out, {"peak RSS MiB": usage.ru_maxrss / 1024, "CPU s": usage.ru_utime + usage.ru_stime}


def make_datasets(work, fashion_mnist):
    sets = {"det640": ("make_fashion_det.py", "--train", "256", "--val", "64", "--imgsz", "640", "--seed", "1"),
            "det320": ("make_fashion_det.py", "--train", "256", "--val", "32", "--imgsz", "320", "--seed", "2"),
            # 256 x 256 images (larger than imgsz, as photos are); 2 validation images per class
            f"cls{CLS_PER_CLASS}": ("make_fashion_cls.py", "--train", str(CLS_PER_CLASS), "--val", "2",
                                    "--size", "256", "--seed", "3")}
    for name, (tool, *args) in sets.items():
        if not (work / f"{name}.done").exists():  # made whole, or made anew
            shutil.rmtree(work / name, ignore_errors=True)
            subprocess.run([sys.executable, str(HERE / tool), str(work / name), *args, "--src", fashion_mnist],
                           check=True)
            (work / f"{name}.done").touch()
    return {"det640": work / "det640" / "data.yaml", "det320": work / "det320" / "data.yaml",
            "cls": work / f"cls{CLS_PER_CLASS}"}


def yolocpp_label(build):
    out = subprocess.run([str(build / "yolo"), "checks"], capture_output=True, text=True, check=True).stdout
    version = re.search(r"^LibTorch: (\S+)", out, re.M).group(1)
    threads = re.search(r"^Threads: (\d+) intra-op", out, re.M).group(1)
    return f"yolocpp ({build.name}, LibTorch {version}, {threads} intra-op threads)"


def yolocpp_runs(build, data):
    """(task, command, parse) of each yolocpp measurement."""
    bench = build / "benchmarks"
    train = [bench / "train_benchmark"]
    cls_args = [str(CLS_IMGSZ), str(CLS_BATCH), "1", str(WORKERS), "cpu"]
    return {"loader": ([bench / "loader_benchmark", data["det640"].parent, str(WORKERS)], yolocpp_loader),
            "train": (train + [data["det320"], "320", "16", "1", str(WORKERS), "cpu"], yolocpp_train("yolov8n.yaml")),
            "val_predict": ([bench / "val_predict_benchmark", WEIGHTS, data["det640"], "640", "16", "cpu"],
                            yolocpp_val_predict),
            "cls_yolov8n": (train + [data["cls"], *cls_args, "yolov8n-cls.yaml"], yolocpp_train("yolov8n-cls.yaml")),
            "cls_resnet18": (train + [data["cls"], *cls_args, "resnet18"], yolocpp_train("resnet18"))}


CLS_WORK = f"{CLS_IMGSZ}, batch {CLS_BATCH}, {10 * CLS_PER_CLASS} images"
# The work of each section: (task, the peer's function of (data, work), the dataset), and the table's rows:
# (title, task, figure, higher is better; None: shown, no ratio).
PEER_TASKS = {"loader": (lambda data, work: ultralytics_loader(data), "det640"),
              "train": (ultralytics_train, "det320"),
              "val_predict": (lambda data, work: ultralytics_val_predict(data), "det640"),
              "cls_yolov8n": (ultralytics_classify_train, "cls"),
              "cls_resnet18": (lambda data, work: torchvision_train(data), "cls")}
SECTIONS = {
    "det": ("detection", [("loader images/s (mosaic, 640, batch 16)", "loader", "images/s", True),
                          ("loader images per CPU-second", "loader", "images per CPU-s", True),
                          ("training images/s (yolov8n, 320, batch 16, 256 images)", "train", "images/s", True),
                          ("training images per CPU-second (the same epoch)", "train", "images per CPU-s", True),
                          ("val ms/image (640, batch 16, 64 images)", "val_predict", "val ms/image", False),
                          ("predict ms/image (640, one by one)", "val_predict", "predict ms/image", False),
                          ("peak RSS MiB: loader", "loader", "peak RSS MiB", False),
                          ("peak RSS MiB: training", "train", "peak RSS MiB", False),
                          ("peak RSS MiB: val + predict", "val_predict", "peak RSS MiB", False),
                          ("CPU s, whole program: loader", "loader", "CPU s", False),
                          ("CPU s, whole program: training", "train", "CPU s", False),
                          ("CPU s, whole program: val + predict", "val_predict", "CPU s", False),
                          ("val mAP50-95 (same checkpoint and images)", "val_predict", "val mAP50-95", None)]),
    "cls": ("classification training", [
        (f"training images/s: yolov8n-cls ({CLS_WORK})", "cls_yolov8n", "images/s", True),
        (f"training images/s: resnet18 ({CLS_WORK})", "cls_resnet18", "images/s", True),
        ("training images per CPU-second: yolov8n-cls (the same epoch)", "cls_yolov8n", "images per CPU-s", True),
        ("training images per CPU-second: resnet18 (the same epoch)", "cls_resnet18", "images per CPU-s", True),
        ("peak RSS MiB: yolov8n-cls training", "cls_yolov8n", "peak RSS MiB", False),
        ("peak RSS MiB: resnet18 training", "cls_resnet18", "peak RSS MiB", False),
        ("CPU s, whole program: yolov8n-cls training", "cls_yolov8n", "CPU s", False),
        ("CPU s, whole program: resnet18 training", "cls_resnet18", "CPU s", False)]),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", action="append",
                        help="a yolocpp build folder (repeatable); default: those of build-torch2 and build that exist")
    parser.add_argument("--work", default=str(pathlib.Path.home() / ".cache" / "yolocpp" / "peers-work"))
    parser.add_argument("--fashion-mnist", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--sections", default=",".join(SECTIONS), help="the table's sections, of: det,cls")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each measurement; the table shows the best")
    parser.add_argument("--task", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = pathlib.Path(args.work)

    if args.task:  # a child: one peer measurement, printed as JSON
        os.environ.setdefault("YOLO_OFFLINE", "1")
        print("RESULT " + json.dumps(PEER_TASKS[args.task][0](args.data, work)))
        return

    sections = args.sections.split(",")
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {','.join(SECTIONS)}")
    tasks = list(dict.fromkeys(task for s in sections for _, task, _, _ in SECTIONS[s][1]))
    builds = [pathlib.Path(b).resolve() for b in args.build or []] or \
        [ROOT / b for b in ("build-torch2", "build") if (ROOT / b / "yolo").exists()]
    if not builds:
        parser.error("no yolocpp build: give --build DIR (bash scripts/build.sh makes build/)")
    work.mkdir(parents=True, exist_ok=True)
    data = make_datasets(work, args.fashion_mnist)
    omp_threads = os.environ.get("OMP_NUM_THREADS")
    import torch
    import torchvision
    import ultralytics
    # Importing ultralytics sets OMP_NUM_THREADS=1 in this process's environment, which every child would
    # inherit: the torchvision loop and yolocpp would run on one thread instead of their own defaults.
    if omp_threads is None:
        os.environ.pop("OMP_NUM_THREADS", None)
    else:
        os.environ["OMP_NUM_THREADS"] = omp_threads

    peer_names = {task: f"Ultralytics {ultralytics.__version__}" for task in PEER_TASKS}
    peer_names["cls_resnet18"] = f"torchvision {torchvision.__version__} loop"
    load_before = f"{os.getloadavg()[0]:.1f}"

    # figures[column][(task, figure)]: a list of each repeat's figure, for the peers' column and one per build.
    # The programs take turns (peer, yolocpp, peer, ...) so that a busy spell of the machine hits both.
    figures = {"peer": {}}
    child = [sys.executable, str(__file__), "--work", str(work)]
    runs = [(yolocpp_label(b), yolocpp_runs(b, data)) for b in builds]
    for repeat in range(args.repeat):
        for task in tasks:
            out, usage = measured(child + ["--task", task, "--data", str(data[PEER_TASKS[task][1]])])
            result = dict(json.loads(out.split("RESULT ", 1)[1].splitlines()[0]), **usage)
            for k, v in result.items():
                figures["peer"].setdefault((task, k), []).append(v)
            print(f"{peer_names[task]} {task}: {result}", file=sys.stderr)
            for label, commands in runs:
                cmd, parse = commands[task]
                out, usage = measured([str(c) for c in cmd])
                result = dict(parse(out), **usage)
                for k, v in result.items():
                    figures.setdefault(label, {}).setdefault((task, k), []).append(v)
                print(f"{label} {task}: {result}", file=sys.stderr)

    # Ratios say how many times better yolocpp is: its throughput over the peer's, or the peer's time and
    # memory over its own (> 1: yolocpp is faster or smaller).
    labels = [n for n in figures if n != "peer"]
    header = ["work", "peer", "peer's figure"] + [x for n in labels for x in (n, "ratio")]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for section in sections:
        title, rows = SECTIONS[section]
        lines.append("| " + " | ".join([f"**{title}**"] + [""] * (len(header) - 1)) + " |")
        for row_title, task, figure, higher_better in rows:
            best = (lambda v: v[0]) if higher_better is None else max if higher_better else min
            peer = best(figures["peer"][(task, figure)])
            cells = [row_title, peer_names[task], f"{peer:.4g}"]
            for n in labels:
                value = best(figures[n][(task, figure)])
                ratio = "" if higher_better is None else value / peer if higher_better else peer / value
                cells += [f"{value:.4g}", ratio if ratio == "" else f"{ratio:.2f}x"]
            lines.append("| " + " | ".join(cells) + " |")
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"\n{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node() or 'host'}: {cpu}, "
          f"{os.cpu_count()} cores; load average {load_before} before, {os.getloadavg()[0]:.1f} at the end; best of "
          f"{args.repeat} run(s) each. Peers on torch {torch.__version__}: Ultralytics sets "
          f"min(8, cores - 1) = {min(8, max(1, os.cpu_count() - 1))} intra-op threads on CPU, the torchvision loop "
          f"keeps torch's default ({torch.get_num_threads()}). Ratio > 1: yolocpp is faster or smaller.")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
