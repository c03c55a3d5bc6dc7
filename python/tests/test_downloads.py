import pytest

import yolo


def test_weights_by_name_offline_name_the_url_and_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    monkeypatch.setenv("YOLO_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.delenv("YOLO_ASSETS_URL", raising=False)
    with pytest.raises(yolo.Error) as error:
        yolo.Model("yolov8n.pt")
    message = str(error.value)
    assert "https://github.com/ultralytics/assets/releases/download/v8.3.0/yolov8n.pt" in message
    assert str(tmp_path) in message
    assert list(tmp_path.iterdir()) == []
