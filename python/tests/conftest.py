import os
import pathlib

import pytest

# One LibTorch thread per test process, as under ctest (tests/CMakeLists.txt): choosing the CPU would otherwise
# give LibTorch every core, and tiny tensors on two threads crawl when another job shares the machine.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import yolo

DATA = pathlib.Path(__file__).resolve().parents[2] / "tests" / "data"


@pytest.fixture
def data_dir():
    return DATA


@pytest.fixture
def checkpoint():
    path = DATA / "yolov8n_fdet.pt"
    assert path.exists(), f"fixture {path} is missing"
    return str(path)


def export_or_skip(model, **kwargs):
    """model.export(**kwargs), or a visible skip where this build has no ONNX export (the LibTorch 2.x leg:
    PyPI's torch bundles its own protobuf; docs/export.md)."""
    try:
        return model.export(**kwargs)
    except yolo.Error as e:
        if "cannot write ONNX" not in str(e):
            raise
        pytest.skip(f"this build has no ONNX export: {e}")
