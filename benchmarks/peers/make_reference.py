"""Regenerates the parity fixtures of tests/data/reference with the Ultralytics that benchmarks/peers installs.

    bash benchmarks/peers/install.sh
    ~/.cache/yolocpp/venv-peers/bin/python benchmarks/peers/make_reference.py --out /tmp/reference
    ~/.cache/yolocpp/venv-peers/bin/python benchmarks/peers/make_reference.py --out tests/data/reference  # replace

Each fixture follows the recipe in tests/data/reference/README.md, from tests/data/yolov8n_fdet.pt and the
images of tests/data/fdet (copied to a temporary folder, so that Ultralytics' label caches stay out of the
tree). After writing, it prints the largest difference of each figure from the fixtures committed in
tests/data/reference (made with Ultralytics 8.3.166 on Debian's torch 1.13), so that a new torch's drift is
visible before the fixtures are replaced. The tests never run this: they stay offline.
"""
import argparse
import json
import os
import pathlib
import shutil
import sys
import tempfile

os.environ.setdefault("YOLO_OFFLINE", "1")  # no update or font checks over the network

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import ultralytics  # noqa: E402
from ultralytics import YOLO  # noqa: E402
from ultralytics.cfg import get_cfg  # noqa: E402
from ultralytics.nn.tasks import ClassificationModel, DetectionModel  # noqa: E402
from ultralytics.utils import DEFAULT_CFG  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
COMMITTED = DATA / "reference"
IMGSZ = 640


def plain_input(path):
    """cv2.resize to 640x640 (INTER_LINEAR), BGR->RGB, /255, NCHW float32: the forward and loss recipe."""
    image = cv2.resize(cv2.imread(str(path)), (IMGSZ, IMGSZ), interpolation=cv2.INTER_LINEAR)
    return torch.from_numpy(image[:, :, ::-1].copy()).permute(2, 0, 1).float().div(255).unsqueeze(0)


def fp32_model(weights):
    model = torch.load(weights, map_location="cpu", weights_only=False)["model"].float()
    model.args = get_cfg(DEFAULT_CFG)  # the loss reads its gains (box 7.5, cls 0.5, dfl 1.5) from here
    return model


def model_summaries():
    out = {}
    for scale in "nsmlx":
        for nc in (80, 10):
            model = DetectionModel(f"yolov8{scale}.yaml", nc=nc, verbose=False)
            out[f"yolov8{scale}.yaml nc={nc}"] = {
                "parameters": sum(p.numel() for p in model.parameters()),
                "layers": len(list(model.modules())),
            }
    cls = ClassificationModel("yolov8n-cls.yaml", nc=1000, verbose=False)
    out["yolov8n-cls.yaml nc=1000"] = {"parameters": sum(p.numel() for p in cls.parameters())}
    return out


def forward_val0(weights, data_dir, out_dir):
    model = fp32_model(weights).eval()
    with torch.no_grad():
        y = model(plain_input(data_dir / "images/val/000000.jpg"))[0]
    np.save(out_dir / "forward_val0.npy", y.numpy().astype(np.float32))
    return {
        "image": "images/val/000000.jpg",
        "input": "cv2.resize to 640x640 INTER_LINEAR, BGR->RGB, /255, NCHW float32",
        "output_shape": list(y.shape),
        "output": "Detect head eval output: [batch, 4 (xywh, input pixels) + nc (sigmoid scores), anchors]",
        "sum": float(y.sum()),
        "abs_mean": float(y.abs().mean()),
    }


def loss_batch(weights, data_dir):
    model = fp32_model(weights).train()
    names = [f"images/val/{i:06d}.jpg" for i in range(4)]
    images = torch.cat([plain_input(data_dir / n) for n in names])
    batch_idx, cls, boxes = [], [], []
    for i, n in enumerate(names):
        rows = np.loadtxt(data_dir / n.replace("images", "labels").replace(".jpg", ".txt"), ndmin=2)
        batch_idx += [i] * len(rows)
        cls += rows[:, 0].tolist()
        boxes += rows[:, 1:5].tolist()
    batch = {
        "batch_idx": torch.tensor(batch_idx, dtype=torch.float32),
        "cls": torch.tensor(cls, dtype=torch.float32).view(-1, 1),
        "bboxes": torch.tensor(boxes, dtype=torch.float32),
    }
    total, items = model.loss(batch, model(images))
    return {
        "images": names,
        "imgsz": IMGSZ,
        "preprocess": "cv2.resize INTER_LINEAR to imgsz x imgsz, BGR->RGB, /255; model in train() mode "
        "(batch-norm uses batch statistics)",
        "gains": {"box": 7.5, "cls": 0.5, "dfl": 1.5},
        "loss_sum_times_batch": float(total.sum()),
        "box_loss": float(items[0]),
        "cls_loss": float(items[1]),
        "dfl_loss": float(items[2]),
        "note": "box/cls/dfl are the per-image gained components Ultralytics logs; the backward loss is their sum "
        "times batch size",
    }


def predictions(weights, data_dir):
    out = {}
    for r in YOLO(str(weights)).predict(str(data_dir / "images/val"), imgsz=IMGSZ, conf=0.25, iou=0.7,
                                        device="cpu", verbose=False, stream=True):
        rel = "images/val/" + pathlib.Path(r.path).name
        rows = zip(r.boxes.xyxy.tolist(), r.boxes.conf.tolist(), r.boxes.cls.tolist())
        out[rel] = [[round(v, 3) for v in xyxy] + [round(conf, 5), int(c)] for xyxy, conf, c in rows]
    return {"imgsz": IMGSZ, "conf": 0.25, "iou": 0.7, "format": "x1 y1 x2 y2 (original pixels) conf class",
            "predictions": dict(sorted(out.items()))}


def val_metrics_and_predictions(weights, data_dir, work):
    model = YOLO(str(weights))
    metrics = model.val(data=str(data_dir / "data.yaml"), imgsz=IMGSZ, batch=16, conf=0.001, iou=0.7, device="cpu",
                        save_json=True, plots=False, project=str(work), name="val", exist_ok=True, verbose=False)
    box = metrics.box
    figures = {
        "imgsz": IMGSZ, "batch": 16, "conf": 0.001, "iou": 0.7, "rect": True,
        "mAP50": float(box.map50), "mAP50-95": float(box.map), "precision": float(box.mp), "recall": float(box.mr),
        "per_class_mAP50-95": {name: float(box.maps[i]) for i, name in model.names.items()},
    }
    rows = json.loads((pathlib.Path(metrics.save_dir) / "predictions.json").read_text())
    return figures, rows


def largest_differences(name, new, old, path=""):
    """Largest absolute difference per numeric leaf, as (path, difference), comparing like-shaped JSON."""
    if isinstance(new, dict) and isinstance(old, dict):
        for k in new.keys() & old.keys():
            yield from largest_differences(name, new[k], old[k], f"{path}.{k}")
    elif isinstance(new, list) and isinstance(old, list) and len(new) == len(old):
        worst = max((abs(a - b) for a, b in zip(new, old) if isinstance(a, (int, float)) and
                     isinstance(b, (int, float))), default=None)
        if worst is not None:
            yield path + "[*]", worst
        for i, (a, b) in enumerate(zip(new, old)):
            if isinstance(a, (dict, list)):
                yield from largest_differences(name, a, b, f"{path}[{i}]")
    elif isinstance(new, (int, float)) and isinstance(old, (int, float)):
        yield path, abs(new - old)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder to write the fixtures into")
    parser.add_argument("--weights", default=str(DATA / "yolov8n_fdet.pt"))
    parser.add_argument("--data", default=str(DATA / "fdet"), help="the detection dataset (its val split)")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"Ultralytics {ultralytics.__version__}, torch {torch.__version__}, OpenCV {cv2.__version__}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="yolocpp-reference-") as tmp:
        work = pathlib.Path(tmp)
        data_dir = work / "fdet"
        shutil.copytree(args.data, data_dir, ignore=shutil.ignore_patterns("*.cache"))
        weights = pathlib.Path(args.weights)
        files = {
            "model_summaries.json": model_summaries(),
            "forward_val0.json": forward_val0(weights, data_dir, out),
            "loss_batch.json": loss_batch(weights, data_dir),
            "predictions.json": predictions(weights, data_dir),
        }
        files["val_metrics.json"], val_rows = val_metrics_and_predictions(weights, data_dir, work)
    for name, content in files.items():
        (out / name).write_text(json.dumps(content, indent=1) + "\n")
    (out / "val_predictions.json").write_text(json.dumps(val_rows))
    files["val_predictions.json"] = val_rows

    if out.resolve() == COMMITTED.resolve():
        return
    print("largest differences from the committed fixtures:")
    for name, content in files.items():
        if not (COMMITTED / name).exists():
            continue
        diffs = sorted(largest_differences(name, content, json.loads((COMMITTED / name).read_text())),
                       key=lambda d: -d[1])
        print(f"  {name}: " + (", ".join(f"{p} {d:.3g}" for p, d in diffs[:3]) if diffs else "no common figures"))
    new, old = np.load(out / "forward_val0.npy"), np.load(COMMITTED / "forward_val0.npy")
    print(f"  forward_val0.npy: boxes {np.abs(new[:, :4] - old[:, :4]).max():.3g} px, "
          f"scores {np.abs(new[:, 4:] - old[:, 4:]).max():.3g}")


if __name__ == "__main__":
    main()
