"""Send yolocpp training metrics to Weights & Biases, ClearML or Comet, whichever of them is installed.

    import yolo
    from experiment_loggers import attach_experiment_loggers

    model = yolo.Model("yolov8n.yaml")
    attach_experiment_loggers(model, project="fashion", name="yolov8n-640")
    model.train(data="coco8.yaml", epochs=10)

Each service logs one point per epoch (step = epoch, from 1, as Ultralytics' integrations): the training losses,
the validation metrics, the fitness and the learning rates. Services take their credentials from their own
configuration (`wandb login`, `clearml-init`, COMET_API_KEY); nothing here handles keys.
"""
import importlib

DETECT_LOSSES = ("box_loss", "cls_loss", "dfl_loss")


def epoch_metrics(event):
    """Flat {name: float} of an on_fit_epoch_end event dict, with results.csv's names."""
    out = {}
    losses = event.get("train_loss", ())
    if isinstance(losses, dict):  # named loss columns
        out.update({k if "/" in k else f"train/{k}": float(v) for k, v in losses.items()})
    else:  # (box, cls, dfl) of a detection run
        out.update({f"train/{name}": float(v) for name, v in zip(DETECT_LOSSES, losses)})
    out.update({k: float(v) for k, v in event.get("metrics", {}).items()})
    out.update({f"lr/pg{i}": float(v) for i, v in enumerate(event.get("lr", ()))})
    if "fitness" in event:
        out["fitness"] = float(event["fitness"])
    return out


def _import(name):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


class WandbLogger:
    def __init__(self, wandb, project, name):
        self.wandb = wandb
        self.run = wandb.init(project=project, name=name, job_type="training")

    def on_fit_epoch_end(self, event):
        self.wandb.log(epoch_metrics(event), step=event["epoch"] + 1)

    def on_train_end(self, event):
        self.wandb.finish()


class ClearMLLogger:
    def __init__(self, clearml, project, name):
        self.task = clearml.Task.init(project_name=project, task_name=name or "train")
        self.logger = self.task.get_logger()

    def on_fit_epoch_end(self, event):
        for key, value in epoch_metrics(event).items():
            title, _, series = key.partition("/")  # "train/box_loss" -> graph "train", series "box_loss"
            self.logger.report_scalar(title=title, series=series or title, value=value, iteration=event["epoch"] + 1)

    def on_train_end(self, event):
        self.task.close()


class CometLogger:
    def __init__(self, comet_ml, project, name):
        self.experiment = comet_ml.Experiment(project_name=project)
        if name:
            self.experiment.set_name(name)

    def on_fit_epoch_end(self, event):
        step = event["epoch"] + 1
        self.experiment.log_metrics(epoch_metrics(event), step=step, epoch=step)

    def on_train_end(self, event):
        self.experiment.end()


SERVICES = {"wandb": WandbLogger, "clearml": ClearMLLogger, "comet_ml": CometLogger}


class _OnRankZero:
    """Starts the service's run at the first event of rank 0 (callbacks run on every rank of a DDP run)."""

    def __init__(self, make):
        self.make, self.logger = make, None

    def __call__(self, event):
        if event.get("rank", 0) != 0:
            return
        if self.logger is None:
            self.logger = self.make()
        getattr(self.logger, event["event"])(event)


def attach_experiment_loggers(model, project="yolocpp", name=None, services=tuple(SERVICES)):
    """Adds a logger for each installed service among `services` to `model`'s callbacks; returns their names."""
    attached = []
    for module_name in services:
        module = _import(module_name)
        if module is None:
            continue
        forward = _OnRankZero(lambda cls=SERVICES[module_name], m=module: cls(m, project, name))
        for event in ("on_fit_epoch_end", "on_train_end"):
            model.add_callback(event, forward)
        attached.append(module_name)
    return attached
