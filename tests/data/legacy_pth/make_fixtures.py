#!/usr/bin/env python3
"""Makes the fixtures of tests/io/legacy_checkpoint_test.cpp: each object saved twice by torch itself,
in the format torch.save wrote before PyTorch 1.6 (`*_legacy.pth`, _use_new_zipfile_serialization=False)
and in the zip format (`*_zip.pth`), so that the test can check both load to the same values.

Run with Debian 12's python3-torch 1.13 and python3-torchvision 0.14:
    /usr/bin/python3 tests/data/legacy_pth/make_fixtures.py

- tensors: a list of small tensors of several dtypes, values the test knows.
- state_dict: a fp16 Conv2d + BatchNorm2d state dict (int64 num_batches_tracked = 7) with four entries
  sharing one fp32 storage: base = arange(12).reshape(3, 4), its row 1, its column 2 and its transpose.
- ultralytics: a dict laid out as Ultralytics' checkpoints are, holding a pickled nn.Module tree of class
  ultralytics.nn.tasks.DetectionModel (yaml, names, fp16 weights); the legacy format stores module
  classes as ('module', class, source file, source) persistent ids.
- densenet_tiny: a tiny torchvision DenseNet's state dict as torchvision's 2017 ImageNet files are:
  fp32, legacy layer names (`denselayer1.norm.1.weight`), no num_batches_tracked.
  densenet_tiny_io.pth (zip) holds the input and torchvision's eval logits on it.
"""
import collections
import os
import re
import sys
import types

import torch
from torchvision.models.densenet import DenseNet

HERE = os.path.dirname(os.path.abspath(__file__))


def save_both(name, obj):
    torch.save(obj, os.path.join(HERE, name + "_legacy.pth"), _use_new_zipfile_serialization=False)
    torch.save(obj, os.path.join(HERE, name + "_zip.pth"))


def tensors():
    return [
        torch.arange(6, dtype=torch.float32).reshape(2, 3),
        torch.tensor([0.5, -2.0, 65504.0], dtype=torch.float16),
        torch.tensor([1, -1, 2**40], dtype=torch.int64),
        torch.tensor(2.25, dtype=torch.float64),
        torch.tensor([0, 255], dtype=torch.uint8),
        torch.tensor([True, False]),
        torch.zeros(0, 3),
    ]


def state_dict():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3)).half()
    model[1].num_batches_tracked.fill_(7)
    state = model.state_dict()
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    state["shared.base"] = base
    state["shared.row"] = base[1]
    state["shared.col"] = base[:, 2]
    state["shared.t"] = base.t()
    return state


class DetectionModel(torch.nn.Module):
    """Stands in for ultralytics.nn.tasks.DetectionModel: the attributes Ultralytics pickles."""

    def __init__(self):
        super().__init__()
        self.yaml = {"nc": 2, "backbone": [[-1, 1, "Conv", [4, 3, 2]]], "head": []}
        self.names = {0: "cat", 1: "dog"}
        self.model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, 2, 1, bias=False), torch.nn.BatchNorm2d(4))
        self.register_buffer("stride", torch.tensor([8.0, 16.0, 32.0]))


def ultralytics():
    # Pickle finds a class by its module's import path: register the stand-in under Ultralytics' name.
    for name in ["ultralytics", "ultralytics.nn", "ultralytics.nn.tasks"]:
        sys.modules.setdefault(name, types.ModuleType(name))
    DetectionModel.__module__ = "ultralytics.nn.tasks"
    sys.modules["ultralytics.nn.tasks"].DetectionModel = DetectionModel
    torch.manual_seed(1)
    model = DetectionModel().half()
    return {
        "date": "2025-07-01T00:00:00",
        "version": "8.3.166",
        "epoch": -1,
        "best_fitness": 0.75,
        "model": model,
        "ema": None,
        "updates": 12,
        "optimizer": None,
        "train_args": collections.OrderedDict(model="yolov8n.yaml", lr0=0.01, imgsz=64, amp=True),
    }


def densenet_tiny():
    torch.manual_seed(0)
    model = DenseNet(growth_rate=4, block_config=(2, 3), num_init_features=8, bn_size=2, num_classes=3)
    for m in model.modules():  # as make_fixtures.py of the torchvision tests: eval mode must not be an identity
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean = torch.randn(m.num_features) * 0.1
            m.running_var = 1 + torch.rand(m.num_features) * 0.5
            m.weight.data = 1 + 0.1 * torch.randn(m.num_features)
            m.bias.data = 0.1 * torch.randn(m.num_features)
    model.eval()
    torch.manual_seed(1)
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        logits = model(x)
    legacy_name = re.compile(r"(denselayer\d+)\.(norm|relu|conv)(\d)\.")
    state = collections.OrderedDict(
        (legacy_name.sub(r"\1.\2.\3.", key), value)
        for key, value in model.state_dict().items()
        if not key.endswith("num_batches_tracked"))
    torch.save({"input": x, "logits": logits}, os.path.join(HERE, "densenet_tiny_io.pth"))
    return state


def main():
    save_both("tensors", tensors())
    save_both("state_dict", state_dict())
    save_both("ultralytics", ultralytics())
    save_both("densenet_tiny", densenet_tiny())
    for name in sorted(os.listdir(HERE)):
        if name.endswith(".pth"):
            print(f"{name}: {os.path.getsize(os.path.join(HERE, name))} bytes")


if __name__ == "__main__":
    main()
