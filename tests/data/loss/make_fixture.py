"""Writes the loss fixture of tests/loss/detection_loss_test.cpp with Ultralytics' own v8DetectionLoss.

Run once (Ultralytics 8.3.166, Debian's python3-torch):
  PYTHONPATH=/work/ref/ultralytics YOLO_OFFLINE=1 /usr/bin/python3 tests/data/loss/make_fixture.py
Files: feats{0,1,2}.f32 and grad{0,1,2}.f32 (raw little-endian float32, shapes in meta.txt),
targets.f32 [N, 6] (batch_idx, cls, cx, cy, w, h normalised), meta.txt (shapes, expected losses).
"""
import pathlib
import types

import numpy as np
import torch
from torch import nn

from ultralytics.utils.loss import v8DetectionLoss

OUT = pathlib.Path(__file__).resolve().parent
NC, REG_MAX, STRIDES, IMGSZ, BATCH = 3, 16, (8.0, 16.0, 32.0), 64, 3


class StubModel(nn.Module):
    """Just what v8DetectionLoss reads from a model: args, the head's stride/nc/reg_max, a device."""

    def __init__(self):
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(1))
        self.args = types.SimpleNamespace(box=7.5, cls=0.5, dfl=1.5)
        head = types.SimpleNamespace(stride=torch.tensor(STRIDES), nc=NC, reg_max=REG_MAX)
        self.model = [head]


torch.manual_seed(0)
feats = [torch.randn(BATCH, 4 * REG_MAX + NC, IMGSZ // int(s), IMGSZ // int(s)) for s in STRIDES]
# Image 2 has no targets; image 0 has two overlapping boxes so that anchors compete for gts.
targets = torch.tensor(
    [
        [0, 0, 0.40, 0.40, 0.50, 0.45],
        [0, 2, 0.55, 0.50, 0.45, 0.55],
        [0, 1, 0.15, 0.80, 0.20, 0.25],
        [1, 1, 0.50, 0.50, 0.90, 0.80],
        [1, 0, 0.30, 0.25, 0.12, 0.10],
    ],
    dtype=torch.float32,
)


def run(targets):
    fs = [f.clone().requires_grad_(True) for f in feats]
    crit = v8DetectionLoss(StubModel())
    batch = {"batch_idx": targets[:, 0], "cls": targets[:, 1:2], "bboxes": targets[:, 2:]}
    loss, items = crit(fs, batch)
    loss.sum().backward()
    return items, [f.grad for f in fs]


items, grads = run(targets)
items_empty, _ = run(torch.zeros(0, 6))

for i, (f, g) in enumerate(zip(feats, grads)):
    f.numpy().astype("<f4").tofile(OUT / f"feats{i}.f32")
    g.numpy().astype("<f4").tofile(OUT / f"grad{i}.f32")
targets.numpy().astype("<f4").tofile(OUT / "targets.f32")

lines = [
    "# Ultralytics 8.3.166 v8DetectionLoss on seeded random head outputs (make_fixture.py)",
    f"nc {NC}",
    f"reg_max {REG_MAX}",
    "strides " + " ".join(f"{s:g}" for s in STRIDES),
    *(f"feats{i} " + " ".join(str(d) for d in f.shape) for i, f in enumerate(feats)),
    "targets " + " ".join(str(d) for d in targets.shape),
    "loss " + " ".join(f"{v:.9g}" for v in items.tolist()),
    "loss_no_targets " + " ".join(f"{v:.9g}" for v in items_empty.tolist()),
]
(OUT / "meta.txt").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
