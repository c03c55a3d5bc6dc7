#!/bin/sh
# Adds seeds written by Python's torch.save (Debian's python3-torch) to the corpus folder $1:
# a tensor dict, a pickled nn.Module tree like Ultralytics' (parameters, buffers, a non-persistent
# buffer, submodules), and their bare data.pkl pickles; each also in the legacy format (torch < 1.6).
set -e
out=${1:?usage: python_seeds.sh CORPUS_DIR}
mkdir -p "$out"
/usr/bin/python3 - "$out" <<'PY'
import sys, zipfile, collections, argparse, types
import torch
out = sys.argv[1]
class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 2, 1)
        self.bn = torch.nn.BatchNorm2d(2)
        self.register_buffer("scratch", torch.zeros(1), persistent=False)
seeds = {
    "py_ones": {"a": torch.ones(2)},
    "py_module": {"epoch": -1, "best_fitness": None, "model": torch.nn.Sequential(Block()).half(),
                  "train_args": {"lr0": 0.01, "amp": True}, "ema": None,
                  "ns": argparse.Namespace(x=1), "sns": types.SimpleNamespace(y=[1, 2]),
                  "od": collections.OrderedDict(a=1), "set": {1, 2}, "size": torch.Size([2, 3]),
                  "dtype": torch.float16, "device": torch.device("cpu")},
}
for name, value in seeds.items():
    path = f"{out}/{name}.pt"
    torch.save(value, path)
    torch.save(value, f"{out}/{name}_legacy.pth", _use_new_zipfile_serialization=False)
    with zipfile.ZipFile(path) as z:
        pkl = [n for n in z.namelist() if n.endswith("/data.pkl")][0]
        open(f"{out}/{name}.pkl", "wb").write(z.read(pkl))
PY
