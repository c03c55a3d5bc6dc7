"""The Ultralytics side of benchmarks/gpu_train.sh, and the table it prints.

    python3 gpu_train.py ultralytics PHASE --data DATA.yaml --json OUT [--imgsz 640 --batch 32 --workers 8
                         --device 0 --epochs 10 --iterations 50 --warmup 20 --deterministic True --project DIR]
        PHASE: loader (the training loader alone: a warm epoch, then two timed), step (forward, loss, backward
        and optimizer step on synthetic batches already on the device, as Ultralytics' trainer takes them),
        train (model.train(...) of yolov8n.yaml with validation every epoch). Appends one JSON line to OUT.
    python3 gpu_train.py table RESULTS.jsonl [--samples nvidia-smi.csv] [--title TEXT]
        One table from the JSON lines of both programs (benchmarks/gpu_train_benchmark.cpp writes yolocpp's),
        with GPU utilisation and peak memory from the nvidia-smi samples inside each timed window.

Runs on the Python that has Ultralytics 8.3.166 and torch (the table needs only the standard library).
"""
import argparse
import datetime
import json
import math
import sys
import time

N_CLASSES = 10  # the Fashion-MNIST benchmark dataset's


def record(path, **fields):
    with open(path, "a") as out:
        out.write(json.dumps(fields) + "\n")
    print(json.dumps(fields), file=sys.stderr)


def torch_device(spec):
    import torch

    return torch.device("cpu" if spec == "cpu" else f"cuda:{spec}" if spec.isdigit() else spec)


def synchronize(device):
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


# ---- Ultralytics ---------------------------------------------------------------------------------------------------

def ultralytics_loader(a):
    from ultralytics.cfg import get_cfg
    from ultralytics.data import build_dataloader, build_yolo_dataset
    from ultralytics.data.utils import check_det_dataset
    from ultralytics.utils import DEFAULT_CFG

    cfg = get_cfg(DEFAULT_CFG, {"imgsz": a.imgsz})
    spec = check_det_dataset(a.data)
    loader = build_dataloader(build_yolo_dataset(cfg, spec["train"], a.batch, spec, mode="train"), a.batch, a.workers,
                              shuffle=True)
    for _ in loader:  # a warm epoch: workers started, files in the page cache
        pass
    t0, images = time.time(), 0
    for _ in range(2):
        for batch in loader:
            images += batch["img"].shape[0]
    t1 = time.time()
    record(a.json, impl="ultralytics", phase="loader", t0=t0, t1=t1, images=images, images_per_s=images / (t1 - t0),
           workers=a.workers)


def synthetic_targets(batch, boxes_per_image, generator):
    """Ultralytics' batch keys for `boxes_per_image` random boxes per image, normalised xywh, on the CPU."""
    import torch

    n = batch * boxes_per_image
    centre = 0.2 + 0.6 * torch.rand(n, 2, generator=generator)
    size = 0.05 + 0.25 * torch.rand(n, 2, generator=generator)
    return {"batch_idx": torch.arange(batch).repeat_interleave(boxes_per_image).float(),
            "cls": torch.randint(0, N_CLASSES, (n, 1), generator=generator).float(),
            "bboxes": torch.cat([centre, size], 1)}


def ultralytics_step(a):
    from types import SimpleNamespace

    import torch
    from ultralytics.cfg import get_cfg
    from ultralytics.engine.trainer import BaseTrainer
    from ultralytics.nn.tasks import DetectionModel
    from ultralytics.utils import DEFAULT_CFG
    from ultralytics.utils.torch_utils import ModelEMA, autocast

    device = torch_device(a.device)
    torch.manual_seed(0)
    cfg = get_cfg(DEFAULT_CFG, {"imgsz": a.imgsz, "batch": a.batch})
    model = DetectionModel("yolov8n.yaml", nc=N_CLASSES, verbose=False).to(device)
    model.args = cfg  # the loss gains, as DetectionTrainer.set_model_attributes
    model.train()
    amp = device.type == "cuda"
    # The trainer's optimizer, weight-decay scaling and accumulation for a run of a.train_images x a.epochs.
    accumulate = max(round(cfg.nbs / a.batch), 1)
    decay = cfg.weight_decay * a.batch * accumulate / cfg.nbs
    iterations = math.ceil(a.train_images / max(a.batch, cfg.nbs)) * a.epochs
    trainer = SimpleNamespace(args=cfg, data={"nc": N_CLASSES})
    optimizer = BaseTrainer.build_optimizer(trainer, model, name=cfg.optimizer, lr=cfg.lr0, momentum=cfg.momentum,
                                            decay=decay, iterations=iterations)
    trainer.optimizer, trainer.model, trainer.ema = optimizer, model, ModelEMA(model)
    trainer.scaler = torch.amp.GradScaler("cuda", enabled=amp)
    images = torch.randint(0, 256, (a.batch, 3, a.imgsz, a.imgsz), dtype=torch.uint8, device=device)
    targets = synthetic_targets(a.batch, 4, torch.Generator().manual_seed(0))
    tloss, last_opt_step, t0 = None, -1, None
    for i in range(a.warmup + a.iterations):
        if i == a.warmup:
            synchronize(device)
            t0 = time.time()
        with autocast(amp):  # as BaseTrainer._do_train, without the progress bar
            batch = {"img": images.float() / 255, **targets}
            loss, items = model(batch)
            loss = loss.sum()
            tloss = items if tloss is None else (tloss * i + items) / (i + 1)
        trainer.scaler.scale(loss).backward()
        if i - last_opt_step >= accumulate:
            BaseTrainer.optimizer_step(trainer)
            last_opt_step = i
    synchronize(device)
    t1 = time.time()
    images_done = a.iterations * a.batch
    record(a.json, impl="ultralytics", phase="step", t0=t0, t1=t1, images=images_done,
           images_per_s=images_done / (t1 - t0), precision="fp16" if amp else "fp32", accumulate=accumulate,
           optimizer=type(optimizer).__name__, loss=[float(v) for v in tloss])


def ultralytics_train(a):
    import ultralytics.engine.trainer
    from ultralytics import YOLO

    # Ultralytics' AMP check downloads yolo11n.pt; the GPU machine is offline. Training itself is unchanged.
    ultralytics.engine.trainer.check_amp = lambda model: True
    model = YOLO("yolov8n.yaml")
    epochs, train_seconds, marks = [], [0.0], {}

    def on_epoch_start(trainer):
        marks["epoch"] = marks["train"] = time.time()

    def on_train_epoch_end(trainer):
        train_seconds[0] += time.time() - marks["train"]

    def on_fit_epoch_end(trainer):  # after validation and the checkpoint; final_eval calls it once more
        if len(epochs) < a.epochs:
            epochs.append(time.time() - marks["epoch"])

    model.add_callback("on_train_epoch_start", on_epoch_start)
    model.add_callback("on_train_epoch_end", on_train_epoch_end)
    model.add_callback("on_fit_epoch_end", on_fit_epoch_end)
    device = torch_device(a.device)
    t0 = time.time()
    metrics = model.train(data=a.data, epochs=a.epochs, imgsz=a.imgsz, batch=a.batch, workers=a.workers,
                          device=a.device, amp=device.type == "cuda", val=True, plots=False, project=a.project,
                          name="ultralytics", exist_ok=True, deterministic=a.deterministic == "True", verbose=False)
    t1 = time.time()
    images = a.epochs * a.train_images
    record(a.json, impl="ultralytics", phase="train", t0=t0, t1=t1, images=images, wall_seconds=t1 - t0,
           images_per_s=images / (t1 - t0), train_images_per_s=images / train_seconds[0], epoch_seconds=epochs,
           map50_95=float(metrics.box.map), precision="fp16" if device.type == "cuda" else "fp32")


# ---- the table -------------------------------------------------------------------------------------------------

def read_samples(path):
    """nvidia-smi's `timestamp, utilization.gpu, memory.used` rows -> [(unix time, percent, MiB)]."""
    samples = []
    if not path:
        return samples
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return samples
    for line in lines:
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 3:
            continue
        try:
            when = datetime.datetime.strptime(parts[0], "%Y/%m/%d %H:%M:%S.%f").timestamp()
            samples.append((when, float(parts[1]), float(parts[2])))
        except ValueError:
            continue
    return samples


def window(samples, t0, t1):
    inside = [s for s in samples if t0 <= s[0] <= t1]
    if not inside:
        return None, None
    return sum(s[1] for s in inside) / len(inside), max(s[2] for s in inside) / 1024


def table(a):
    results = {}
    for line in open(a.results):
        if line.strip():
            r = json.loads(line)
            results[(r["impl"], r["phase"])] = r
    samples = read_samples(a.samples)
    impls = ("ultralytics", "yolocpp")

    def get(impl, phase, key):
        return results.get((impl, phase), {}).get(key)

    def util(impl, phase):
        r = results.get((impl, phase))
        return window(samples, r["t0"], r["t1"]) if r else (None, None)

    def epoch_mean(impl):
        e = get(impl, "train", "epoch_seconds") or []
        later = e[1:] if len(e) > 1 else e
        return sum(later) / len(later) if later else None

    columns = [
        ("epoch s", lambda i: epoch_mean(i), "{:.2f}", "time"),
        ("loader img/s", lambda i: get(i, "loader", "images_per_s"), "{:.0f}", "rate"),
        ("step img/s", lambda i: get(i, "step", "images_per_s"), "{:.0f}", "rate"),
        ("train img/s", lambda i: get(i, "train", "train_images_per_s"), "{:.0f}", "rate"),
        ("end-to-end img/s", lambda i: get(i, "train", "images_per_s"), "{:.0f}", "rate"),
        ("GPU util step %", lambda i: util(i, "step")[0], "{:.0f}", None),
        ("GPU util train %", lambda i: util(i, "train")[0], "{:.0f}", None),
        ("peak GPU GiB", lambda i: max([v for v in (util(i, "step")[1], util(i, "train")[1]) if v is not None],
                                       default=None), "{:.1f}", None),
        ("mAP50-95", lambda i: get(i, "train", "map50_95"), "{:.4f}", "map"),
        ("AMP", lambda i: get(i, "train", "precision") or get(i, "step", "precision"), "{}", None),
    ]

    def cell(value, form):
        return "n/a" if value is None else form.format(value)

    print(a.title)
    print("| | " + " | ".join(c[0] for c in columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for impl in impls:
        print(f"| {impl} | " + " | ".join(cell(c[1](impl), c[2]) for c in columns) + " |")
    ratio = []
    for name, value, form, kind in columns:
        u, y = value("ultralytics"), value("yolocpp")
        if u is None or y is None or kind is None:
            ratio.append("")
        elif kind == "rate":
            ratio.append(f"{y / u:.2f}x" if u else "")
        elif kind == "time":
            ratio.append(f"{u / y:.2f}x" if y else "")
        else:
            ratio.append(f"{y - u:+.4f}")
    print("| yolocpp vs Ultralytics | " + " | ".join(ratio) + " |")
    epochs = get("yolocpp", "train", "epoch_seconds") or get("ultralytics", "train", "epoch_seconds") or []
    print(f"\nepoch s: mean wall-clock of epochs 2..N (training, validation, checkpoint){'' if len(epochs) > 1 else ' (one epoch)'}; "
          "train img/s: the training batches alone; end-to-end: epochs x images / the whole train() call "
          "(setup and final validation included); step: forward, loss, backward, optimizer and EMA on synthetic "
          "batches already on the device; ratios: >1 means yolocpp is faster, mAP as a difference.")
    if not samples:
        print("GPU columns: no nvidia-smi samples (no GPU, or nvidia-smi missing).")
    missing = [f"{i} {p}" for i in impls for p in ("loader", "step", "train") if (i, p) not in results]
    if missing:
        print("not measured: " + ", ".join(missing) + " (see the log)")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    u = sub.add_parser("ultralytics")
    u.add_argument("phase", choices=("loader", "step", "train"))
    u.add_argument("--data", required=True)
    u.add_argument("--json", required=True)
    u.add_argument("--imgsz", type=int, default=640)
    u.add_argument("--batch", type=int, default=32)
    u.add_argument("--workers", type=int, default=8)
    u.add_argument("--device", default="0")
    u.add_argument("--epochs", type=int, default=10)
    u.add_argument("--train-images", type=int, default=2048)
    u.add_argument("--iterations", type=int, default=50)
    u.add_argument("--warmup", type=int, default=20)
    u.add_argument("--deterministic", default="True", choices=("True", "False"))
    u.add_argument("--project", default="runs-gpu-train")
    t = sub.add_parser("table")
    t.add_argument("results")
    t.add_argument("--samples", default="")
    t.add_argument("--title", default="")
    a = p.parse_args()
    if a.command == "table":
        table(a)
    else:
        {"loader": ultralytics_loader, "step": ultralytics_step, "train": ultralytics_train}[a.phase](a)


if __name__ == "__main__":
    main()
