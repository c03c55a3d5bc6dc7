"""python/examples/experiment_loggers.py against stand-ins for wandb, clearml and comet_ml (the services are not
reachable here): the right calls with results.csv's metric names, one point per epoch, nothing on other ranks."""
import importlib.util
import pathlib
import sys
import types

import pytest

import yolo

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "experiment_loggers.py"


def load_example():
    spec = importlib.util.spec_from_file_location("experiment_loggers", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Recorder:
    """Records every call made on it or on the objects it returns."""

    def __init__(self, calls, prefix):
        self.calls, self.prefix = calls, prefix

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.calls.append((f"{self.prefix}{name}", args, kwargs))
            return Recorder(self.calls, f"{self.prefix}{name}().")
        return call


def fake_services(monkeypatch):
    calls = []
    wandb = types.ModuleType("wandb")
    wandb.init = lambda **kw: calls.append(("wandb.init", (), kw))
    wandb.log = lambda data, step: calls.append(("wandb.log", (data,), {"step": step}))
    wandb.finish = lambda: calls.append(("wandb.finish", (), {}))
    clearml = types.ModuleType("clearml")
    clearml.Task = Recorder(calls, "clearml.Task.")
    comet_ml = types.ModuleType("comet_ml")
    comet_ml.Experiment = lambda **kw: (calls.append(("comet_ml.Experiment", (), kw)), Recorder(calls, "comet."))[1]
    for name, module in {"wandb": wandb, "clearml": clearml, "comet_ml": comet_ml}.items():
        monkeypatch.setitem(sys.modules, name, module)
    return calls


class FakeModel:
    def __init__(self):
        self.callbacks = {}

    def add_callback(self, event, fn):
        self.callbacks.setdefault(event, []).append(fn)

    def fire(self, event, **fields):
        data = {"event": event, "epoch": 0, "rank": 0, "train_loss": (1.5, 2.5, 1.25), "lr": (0.01, 0.01, 0.02),
                "metrics": {"metrics/mAP50(B)": 0.4, "metrics/mAP50-95(B)": 0.25}, "fitness": 0.265}
        data.update(fields)
        for fn in self.callbacks.get(event, []):
            fn(data)


def test_each_installed_service_gets_the_epoch_metrics(monkeypatch):
    calls = fake_services(monkeypatch)
    example = load_example()
    model = FakeModel()
    assert example.attach_experiment_loggers(model, project="fashion", name="n640") == ["wandb", "clearml", "comet_ml"]
    assert calls == []  # nothing starts before training does
    model.fire("on_fit_epoch_end", epoch=0)
    model.fire("on_fit_epoch_end", epoch=1, rank=1)  # other ranks send nothing
    model.fire("on_fit_epoch_end", epoch=1)
    model.fire("on_train_end", epoch=1)

    names = [c[0] for c in calls]
    assert names.count("wandb.init") == 1 and names.count("comet_ml.Experiment") == 1
    assert calls[names.index("wandb.init")][2]["project"] == "fashion"
    logs = [c for c in calls if c[0] == "wandb.log"]
    assert [c[2]["step"] for c in logs] == [1, 2]
    assert logs[0][1][0] == {"train/box_loss": 1.5, "train/cls_loss": 2.5, "train/dfl_loss": 1.25,
                             "metrics/mAP50(B)": 0.4, "metrics/mAP50-95(B)": 0.25, "lr/pg0": 0.01, "lr/pg1": 0.01,
                             "lr/pg2": 0.02, "fitness": 0.265}
    assert names[-3:] == ["wandb.finish", "clearml.Task.init().close", "comet.end"]
    scalars = [c[2] for c in calls if c[0] == "clearml.Task.init().get_logger().report_scalar"]
    assert {"title": "metrics", "series": "mAP50(B)", "value": 0.4, "iteration": 1} in scalars
    assert len(scalars) == 2 * 9
    comet = [c for c in calls if c[0] == "comet.log_metrics"]
    assert comet[1][2] == {"step": 2, "epoch": 2} and comet[1][1][0]["fitness"] == 0.265


def test_missing_services_are_skipped(monkeypatch):
    for name in ("wandb", "clearml", "comet_ml"):
        monkeypatch.setitem(sys.modules, name, None)  # import fails as if not installed
    assert load_example().attach_experiment_loggers(FakeModel()) == []


def test_named_loss_columns_keep_their_names():
    example = load_example()
    got = example.epoch_metrics({"train_loss": {"loss": 0.7}, "metrics": {"metrics/accuracy_top1": 0.9}, "lr": ()})
    assert got == {"train/loss": 0.7, "metrics/accuracy_top1": 0.9}


def test_with_a_real_training_run(monkeypatch, data_dir, tmp_path):
    calls = fake_services(monkeypatch)
    model = yolo.Model("yolov8n.yaml")
    assert load_example().attach_experiment_loggers(model, services=("wandb",)) == ["wandb"]
    model.train(data=str(data_dir / "fdet" / "data.yaml"), epochs=1, imgsz=64, batch=8, workers=1,
                project=str(tmp_path), name="run", plots=False, verbose=False)
    logs = [c for c in calls if c[0] == "wandb.log"]
    assert len(logs) == 1 and logs[0][2]["step"] == 1
    assert {"train/box_loss", "metrics/mAP50-95(B)", "lr/pg0", "fitness"} <= set(logs[0][1][0])
    assert [c[0] for c in calls][-1] == "wandb.finish"
