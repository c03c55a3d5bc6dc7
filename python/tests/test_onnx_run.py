"""yolo.Model("best.onnx"): predict and val run the export through OpenCV's DNN module with the task's own
pre- and post-processing, and find what the .pt model finds (tests/export/onnx_run_test.cpp checks more)."""
import shutil

import numpy as np
import pytest

import yolo
from conftest import export_or_skip


@pytest.fixture
def exported(tmp_path, monkeypatch, data_dir):
    """yolov8n_fdet.pt and its export at imgsz 320 (fixed shape, batch 1), in a working folder of their own."""
    monkeypatch.chdir(tmp_path)
    weights = tmp_path / "best.pt"
    shutil.copy(data_dir / "yolov8n_fdet.pt", weights)
    pt = yolo.Model(str(weights))
    return pt, export_or_skip(pt, format="onnx", imgsz=320)


def test_predict_from_onnx_finds_the_pt_models_boxes(exported, data_dir):
    pt, path = exported
    onnx = yolo.Model(path)
    assert onnx.task == "detect" and onnx.names == pt.names
    source = str(data_dir / "fdet" / "images" / "val")
    ours = pt.predict(source, imgsz=320)
    theirs = onnx.predict(source)  # the export's imgsz, 320
    assert len(theirs) == len(ours) == 16
    assert sum(len(r.boxes) for r in theirs) > 30
    for a, b in zip(ours, theirs):
        assert a.path == b.path and len(a.boxes) == len(b.boxes)
        assert np.array_equal(a.boxes.cls, b.boxes.cls)
        assert np.abs(a.boxes.xyxy - b.boxes.xyxy).max(initial=0) <= 1e-2
        assert np.abs(a.boxes.conf - b.boxes.conf).max(initial=0) <= 1e-4
    # forward() is the export's raw output, as for a .pt model.
    x = np.random.default_rng(0).random((2, 3, 320, 320), dtype=np.float32)
    assert np.abs(onnx.forward(x)[:, 4:] - pt.forward(x)[:, 4:]).max() <= 1e-4


def test_val_from_onnx_gives_the_pt_models_map(exported, data_dir):
    pt, path = exported
    args = dict(data=str(data_dir / "fdet" / "data.yaml"), imgsz=320, batch=16, conf=0.001, iou=0.7, workers=1,
                plots=False)
    ours = pt.val(**args).results_dict
    theirs = yolo.Model(path).val(**args).results_dict
    # The export is validated as Ultralytics validates fixed-shape exports, each image letterboxed to a 320x320
    # square; the .pt model on rect batches, which pad these 640x640 images to 352x352 at imgsz 320: other inputs.
    # Measured: mAP50-95 .pt 0.51844, .onnx 0.52818. tests/export/onnx_run_test.cpp compares both on the same
    # squares, within 0.002.
    print(f"mAP50-95 .pt {ours['metrics/mAP50-95(B)']:.5f}, .onnx {theirs['metrics/mAP50-95(B)']:.5f}")
    assert theirs["metrics/mAP50-95(B)"] == pytest.approx(ours["metrics/mAP50-95(B)"], abs=0.02)
    assert theirs["metrics/mAP50(B)"] == pytest.approx(ours["metrics/mAP50(B)"], abs=0.03)


def test_onnx_models_refuse_other_sizes_training_and_export(exported, data_dir):
    _, path = exported
    onnx = yolo.Model(path)
    with pytest.raises(yolo.Error, match=r"imgsz=416: best.onnx was exported with a fixed input of 320x320; run it "
                                         r"with imgsz=320"):
        onnx.predict(str(data_dir / "fdet" / "images" / "val" / "000000.jpg"), imgsz=416)
    with pytest.raises(yolo.Error, match=r"runs predict and val only; train from its \.pt checkpoint"):
        onnx.train(data=str(data_dir / "fdet" / "data.yaml"), epochs=1)
    with pytest.raises(yolo.Error, match=r"already an exported ONNX model"):
        onnx.export(format="onnx")
