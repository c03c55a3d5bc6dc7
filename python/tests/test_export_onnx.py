"""model.export(format="onnx") checked by real runtimes against our own LibTorch forward.

ONNX's current checker and ONNX Runtime come from PyPI, installed on first use into a virtual
environment outside the source tree ($YOLO_ONNXRUNTIME_VENV, default ~/.cache/yolocpp/onnxruntime-venv).
Those tests skip, visibly, only when PyPI cannot be reached. OpenCV DNN is checked by the C++ tests
(tests/export/onnx_export_test.cpp).
"""
import ast
import json
import os
import pathlib
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

import numpy as np
import pytest

import yolo
from conftest import export_or_skip

DATA = pathlib.Path(__file__).resolve().parents[2] / "tests" / "data"
VENV = pathlib.Path(os.environ.get("YOLO_ONNXRUNTIME_VENV") or
                    pathlib.Path.home() / ".cache" / "yolocpp" / "onnxruntime-venv")
RUNNER = pathlib.Path(__file__).with_name("onnxruntime_runner.py")



def package_index_problem(python):
    """Why pip's package index cannot be reached, or None when it answers."""
    index = os.environ.get("PIP_INDEX_URL")
    if not index:
        config = subprocess.run([python, "-m", "pip", "config", "get", "global.index-url"], capture_output=True, text=True)
        index = config.stdout.strip() if config.returncode == 0 and config.stdout.strip() else "https://pypi.org/simple"
    try:
        urllib.request.urlopen(index.rstrip("/") + "/onnxruntime/", timeout=20)
    except urllib.error.HTTPError:
        return None  # it answered
    except (urllib.error.URLError, OSError) as e:
        return f"{index}: {e}"
    return None


def onnxruntime_python():
    """The venv's Python with onnx and onnxruntime, made on first use."""
    python = VENV / "bin" / "python"
    probe = [str(python), "-c", "import onnx, onnxruntime"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return str(python)
    # System site packages: the venv reuses the system's numpy, so the runner and the test agree on .npy files.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(VENV)], check=True)
    pip = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "onnx",
                          "onnxruntime"], capture_output=True, text=True, timeout=1200)
    if pip.returncode != 0:
        problem = package_index_problem(str(python))
        if problem:
            pytest.skip(f"the package index is unreachable, so ONNX Runtime cannot be installed into {VENV} ({problem})")
        pytest.fail(f"pip install onnx onnxruntime into {VENV} failed:\n{pip.stdout}\n{pip.stderr}")
    return str(python)


def images(shape, seed):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


# name -> (model file in tests/data or a built-in YAML, export keywords, input shapes to run)
DETECT = "yolov8n_fdet.pt"
CLASSIFY = "yolov8n_cls_fmnist.pt"
YOLO11 = "yolo11n_fdet.pt"
VARIANTS = {
    **{f"detect-opset{opset}": (DETECT, {"imgsz": 320, "opset": opset}, [(1, 3, 320, 320)]) for opset in range(12, 21)},
    "detect-batch2": (DETECT, {"imgsz": 320, "batch": 2}, [(2, 3, 320, 320)]),
    "detect-dynamic": (DETECT, {"imgsz": 320, "dynamic": True}, [(1, 3, 320, 320), (2, 3, 256, 416), (1, 3, 96, 64)]),
    "detect-half": (DETECT, {"imgsz": 320, "half": True}, [(1, 3, 320, 320)]),
    "detect-dynamic-half-opset12": (DETECT, {"imgsz": 320, "dynamic": True, "half": True, "opset": 12},
                                    [(2, 3, 256, 320)]),
    "classify": (CLASSIFY, {"imgsz": 32}, [(1, 3, 32, 32)]),
    "classify-dynamic-opset12": (CLASSIFY, {"imgsz": 32, "dynamic": True, "opset": 12}, [(3, 3, 32, 32), (1, 3, 64, 96)]),
    "classify-half": (CLASSIFY, {"imgsz": 32, "half": True, "batch": 2}, [(2, 3, 32, 32)]),
    "classify-yaml": ("yolov8n-cls.yaml", {"imgsz": 64, "opset": 20}, [(1, 3, 64, 64)]),
    "yolo11-detect": (YOLO11, {"imgsz": 320, "opset": 12}, [(1, 3, 320, 320)]),
    "yolo11-detect-dynamic": (YOLO11, {"imgsz": 320, "dynamic": True}, [(2, 3, 256, 416)]),
    "yolo11-detect-half": (YOLO11, {"imgsz": 320, "half": True, "opset": 20}, [(1, 3, 320, 320)]),
    "yolo11-classify-yaml": ("yolo11n-cls.yaml", {"imgsz": 64}, [(1, 3, 64, 64)]),
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Every variant exported, run by ONNX Runtime (one process for all) and by our forward."""
    python = onnxruntime_python()
    folder = tmp_path_factory.mktemp("onnx")
    jobs, expected, models = [], {}, {}
    cwd = os.getcwd()
    os.chdir(folder)  # a model built from a YAML exports into the working directory, as Ultralytics'
    try:
        for name, (source, kwargs, shapes) in VARIANTS.items():
            if source.endswith(".pt"):
                weights = folder / f"{name}.pt"
                shutil.copy(DATA / source, weights)
                source = str(weights)
            if source not in models:
                models[source] = yolo.Model(source)
            model = models[source]
            path = pathlib.Path(export_or_skip(model, format="onnx", **kwargs))
            assert path.exists(), path
            target = folder / f"{name}.onnx"
            path.rename(target)
            inputs, outputs, pairs = [], [], []
            for i, shape in enumerate(shapes):
                x = images(shape, seed=i)
                inputs.append(str(folder / f"{name}-in{i}.npy"))
                outputs.append(str(folder / f"{name}-out{i}.npy"))
                np.save(inputs[-1], x)
                pairs.append((shape, model.forward(x), outputs[-1]))
            jobs.append({"model": str(target), "inputs": inputs, "outputs": outputs})
            expected[name] = (str(target), pairs)
    finally:
        os.chdir(cwd)
    (folder / "jobs.json").write_text(json.dumps(jobs))
    run = subprocess.run([python, str(RUNNER), str(folder / "jobs.json")], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"onnx {report['onnx']}, onnxruntime {report['onnxruntime']}")
    results = {}
    for name, (path, pairs) in expected.items():
        results[name] = (report["models"][path], [(shape, ours, np.load(out)) for shape, ours, out in pairs])
    return results


def anchor_strides(height, width):
    """The stride of each anchor of a YOLOv8 [B, 4 + nc, A] output (levels 8, 16, 32)."""
    return np.concatenate([np.full((height // s) * (width // s), s, np.float32) for s in (8, 16, 32)])


def errors(shape, ours, theirs):
    """Max abs error of the box coordinates in grid units (pixels / stride: the network predicts distances in
    cells) and in pixels, and of the scores; or of the probabilities."""
    assert ours.shape == theirs.shape
    if ours.ndim == 3:  # [B, 4 + nc, A]
        boxes = np.abs(ours[:, :4] - theirs[:, :4])
        grid = (boxes / anchor_strides(*shape[2:])).max()
        return grid, boxes.max(), np.abs(ours[:, 4:] - theirs[:, 4:]).max()
    return 0.0, 0.0, np.abs(ours - theirs).max()


@pytest.mark.parametrize("name", VARIANTS)
def test_export_matches_our_forward_in_onnxruntime(exported, name):
    """fp32: scores and probabilities within 1e-4, box coordinates within 1e-4 grid units. fp16: within 1e-2,
    boxes relative to the coordinate (fp16 holds 256 to 512 pixels to 0.25 px), or to the stride below it."""
    half = "half" in name
    report, pairs = exported[name]
    assert report["input_type"] == ("tensor(float16)" if half else "tensor(float)")
    tolerance = 1e-2 if half else 1e-4
    for shape, ours, theirs in pairs:
        grid, pixels, score_error = errors(shape, ours, theirs)
        print(f"{name} {list(shape)}: boxes {pixels:.2e} px ({grid:.2e} grid units), scores {score_error:.2e}")
        assert score_error <= tolerance
        if ours.ndim == 3 and half:
            scale = np.maximum(np.abs(ours[:, :4]), anchor_strides(*shape[2:]))
            assert np.all(np.abs(ours[:, :4] - theirs[:, :4]) <= tolerance * scale)
        elif ours.ndim == 3:
            assert grid <= tolerance


def test_forward_returns_the_inference_output(checkpoint):
    x = images((2, 3, 64, 96), seed=0)
    detections = yolo.Model(checkpoint).forward(x)
    assert detections.shape == (2, 14, 126) and detections.dtype == np.float32
    probabilities = yolo.Model(str(DATA / CLASSIFY)).forward(images((3, 3, 32, 32), seed=1))
    assert probabilities.shape == (3, 10) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    with pytest.raises(yolo.Error, match=r"\[B, C, H, W\]"):
        yolo.Model(checkpoint).forward(x[0])


@pytest.mark.parametrize("opset", range(12, 21))
def test_every_opset_passes_the_current_onnx_checker(exported, opset):
    report, _ = exported[f"detect-opset{opset}"]
    assert report["opset"] == opset
    # The lowest IR version ONNX allows for the opset.
    assert report["ir_version"] == (7 if opset <= 14 else 8 if opset <= 18 else 9)


def test_dynamic_export_declares_symbolic_batch_height_width(exported):
    report, pairs = exported["detect-dynamic"]
    assert report["input_shape"] == ["batch", 3, "height", "width"]
    assert [theirs.shape for _, _, theirs in pairs] == [(1, 14, 2100), (2, 14, 2184), (1, 14, 126)]


def test_metadata_reads_back_as_ultralytics_autobackend_reads_it(exported, checkpoint):
    meta = exported["detect-batch2"][0]["metadata"]
    assert meta["task"] == "detect" and int(meta["stride"]) == 32 and int(meta["batch"]) == 2
    assert ast.literal_eval(meta["imgsz"]) == [320, 320]
    assert ast.literal_eval(meta["names"]) == yolo.Model(checkpoint).names
    assert ast.literal_eval(meta["args"]) == {"batch": 2, "half": False, "dynamic": False, "simplify": True,
                                              "opset": 17, "nms": False}
    assert meta["description"].startswith("yolocpp YOLOv8n model trained on ")
    assert meta["author"] == "yolocpp" and meta["version"] == yolo.__version__ and int(meta["channels"]) == 3
    cls = exported["classify"][0]["metadata"]
    assert cls["task"] == "classify" and int(cls["stride"]) == 1 and ast.literal_eval(cls["imgsz"]) == [32, 32]
    assert ast.literal_eval(cls["names"])[9] == "trouser"


def test_export_goes_next_to_the_weights(tmp_path, checkpoint):
    weights = tmp_path / "best.pt"
    shutil.copy(checkpoint, weights)
    path = export_or_skip(yolo.Model(str(weights)), format="onnx", imgsz=64)
    assert path == str(tmp_path / "best.onnx") and (tmp_path / "best.onnx").stat().st_size > 1_000_000


@pytest.mark.parametrize("kwargs, message", [
    ({"format": "tflite"}, r"format=tflite .* yolocpp does not write; supported formats: onnx"),
    ({"format": "onxx"}, r"Invalid export format='onxx'. Did you mean 'onnx'\?"),
    ({"format": "engine"}, r"format=engine needs TensorRT"),
    ({"format": "onnx", "opset": 11}, r"opset=11.*opsets 12 to 20"),
    ({"format": "onnx", "int8": True}, r"'int8=true' is not supported for format=onnx; .*batch, dynamic, half"),
    ({"format": "onnx", "batch": 0.5}, r"batch=0.5.* whole number"),
    ({}, r"format=torchscript .* supported formats: onnx"),
])
def test_bad_export_requests_say_what_is_supported(tmp_path, checkpoint, kwargs, message):
    weights = tmp_path / "best.pt"
    shutil.copy(checkpoint, weights)
    with pytest.raises(yolo.Error, match=message):
        yolo.Model(str(weights)).export(**kwargs)
    assert not (tmp_path / "best.onnx").exists()
