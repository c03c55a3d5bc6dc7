"""YOLO11 through the Python module, as YOLOv8: built-in YAMLs, the Ultralytics checkpoint, training."""
import json

import pytest

import yolo


@pytest.fixture
def yolo11_checkpoint(data_dir):
    path = data_dir / "yolo11n_fdet.pt"
    assert path.exists(), f"fixture {path} is missing"
    return str(path)


def test_yolo11_yamls_build_with_ultralytics_counts():
    # Ultralytics 8.3.166's summaries (../shared/reference/model_summaries.json).
    assert "YOLO11n summary: 181 layers, 2,624,080 parameters, 2,624,064 gradients" in yolo.Model("yolo11n.yaml").info()
    assert "YOLO11n-cls summary: 86 layers, 2,812,104 parameters" in yolo.Model("yolo11n-cls.yaml").info()


def test_unknown_model_name_suggests_the_builtins():
    with pytest.raises(yolo.Error, match=r"Did you mean 'yolo11n.yaml'.*yolo11x-cls.yaml"):
        yolo.Model("yolo11q.yaml")


def test_yolo11_checkpoint_val_matches_reference(yolo11_checkpoint, data_dir):
    reference = json.loads((data_dir / "reference" / "yolo11n_val_metrics.json").read_text())
    model = yolo.Model(yolo11_checkpoint)
    assert model.names[0] == "tshirt" and len(model.names) == 10
    metrics = model.val(data=str(data_dir / "fdet" / "data.yaml"), imgsz=640, batch=16, conf=0.001, iou=0.7,
                        workers=1)
    assert metrics.results_dict["metrics/mAP50-95(B)"] == pytest.approx(reference["mAP50-95"], abs=0.005)
    assert metrics.results_dict["metrics/mAP50(B)"] == pytest.approx(reference["mAP50"], abs=0.005)


def test_yolo11_checkpoint_predicts(yolo11_checkpoint, data_dir):
    results = yolo.Model(yolo11_checkpoint).predict(str(data_dir / "fdet" / "images" / "val"), imgsz=640)
    assert len(results) == 16
    # The reference image's eval output has 13 anchors above conf 0.25 (forward_yolo11n_val0.json);
    # NMS keeps at least one box there.
    first = next(r for r in results if r.path.endswith("000000.jpg"))
    assert len(first.boxes) >= 1


def test_yolo11_trains_one_epoch(data_dir, tmp_path):
    model = yolo.Model("yolo11n.yaml")
    metrics = model.train(data=str(data_dir / "fdet" / "data.yaml"), epochs=1, imgsz=64, batch=8, workers=1,
                          project=str(tmp_path), name="run", plots=False)
    assert metrics.save_dir.endswith("run")
    assert "YOLO11n summary: 181 layers" in yolo.Model(str(tmp_path / "run" / "weights" / "best.pt")).info()
