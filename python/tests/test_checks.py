"""yolo.checks(): the report of `yolo checks`, naming the module this interpreter imported. The module also
imports into a process that imported PyTorch first, and then reports the very LibTorch PyTorch runs on."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

import yolo


def test_checks_names_this_module_and_prints_one_line_per_fact():
    c = yolo.checks()
    assert c.yolocpp_version == yolo.__version__
    assert c.python_module == os.path.dirname(yolo.__file__)
    text = str(c)
    assert text.startswith(f"yolocpp: {yolo.__version__}\n")
    assert f"\nPython module: {c.python_module}\n" in text
    assert ("\nCUDA: compiled" in text) == c.cuda_compiled
    assert c.hardware_threads == os.cpu_count()
    assert len(c.gpus) == 0 or all(g.memory_gib > 0 and g.compute_capability[0] >= 3 for g in c.gpus)


AFTER_TORCH = """
import json, torch, yolo
c = yolo.checks()
nccl = torch.cuda.nccl.version() if torch.version.cuda else None
print(json.dumps({
    "torch": torch.__version__, "torch_cuda": torch.version.cuda, "torch_cudnn": torch.backends.cudnn.version(),
    "torch_nccl": ".".join(map(str, nccl)) if nccl else None, "torch_gpus": torch.cuda.device_count(),
    "libtorch": c.libtorch_version, "cuda_compiled": c.cuda_compiled, "cuda_runtime": c.cuda_runtime,
    "cudnn": c.cudnn, "nccl": c.nccl, "gpus": len(c.gpus)}))
"""


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch is not installed for this Python")
def test_imports_after_pytorch_and_reports_the_same_libtorch():
    out = subprocess.run([sys.executable, "-c", AFTER_TORCH], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["torch"].startswith(r["libtorch"]), r  # "2.11.0+cu130" / "1.13.0a0" against "2.11.0" / "1.13.0"
    assert r["cuda_compiled"] == (r["torch_cuda"] is not None), r
    assert r["gpus"] == r["torch_gpus"], r
    if r["torch_cuda"]:
        assert r["cuda_runtime"].split(".")[0] == r["torch_cuda"].split(".")[0], r
        v = r["torch_cudnn"]  # 91900 for 9.19.0 (major * 10000 from cuDNN 9 on)
        assert r["cudnn"] == f"{v // 10000}.{v % 10000 // 100}.{v % 100}", r
        if r["nccl"]:
            assert r["nccl"] == r["torch_nccl"], r
