import pathlib

import pytest

DATA = pathlib.Path(__file__).resolve().parents[2] / "tests" / "data"


@pytest.fixture
def data_dir():
    return DATA


@pytest.fixture
def checkpoint():
    path = DATA / "yolov8n_fdet.pt"
    assert path.exists(), f"fixture {path} is missing"
    return str(path)
