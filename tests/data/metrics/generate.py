"""Regenerates the metrics fixtures from the Ultralytics reference (8.3.166).

    PYTHONPATH=/work/ref/ultralytics YOLO_OFFLINE=1 python3 tests/data/metrics/generate.py

Each fixture is plain text: a line `name dim0 dim1 ...` followed by the values on one line.
"""
import pathlib
import types

import numpy as np
import torch
from ultralytics.engine.validator import BaseValidator
from ultralytics.utils import ops
from ultralytics.utils.metrics import DetMetrics, ap_per_class, box_iou

HERE = pathlib.Path(__file__).parent


def write(path, arrays):
    with open(path, "w") as f:
        for name, a in arrays.items():
            a = np.asarray(a)
            f.write(f"{name} {' '.join(str(s) for s in a.shape) if a.ndim else ''}\n".replace("  ", " "))
            if a.dtype == np.float32:  # shortest text that reads back to the same float32
                text = (f"{v:.9g}" for v in a.reshape(-1).tolist())
            elif a.dtype.kind in "biu":
                text = (str(int(v)) for v in a.reshape(-1))
            else:
                text = (repr(float(v)) for v in a.reshape(-1))
            f.write(" ".join(text) + "\n")


def ap_fixture():
    rng = np.random.default_rng(20240501)
    n, nt = 400, 150
    target_cls = rng.integers(0, 5, nt).astype(np.float32)  # classes 0..4 labelled
    pred_cls = rng.integers(0, 7, n).astype(np.float32)  # 5, 6 predicted but never labelled
    pred_cls[pred_cls == 3] = 2  # class 3 labelled but never predicted
    conf = rng.random(n).astype(np.float32)
    # Correct at a stricter IoU implies correct at the looser ones; good scores are more often right.
    quality = rng.random(n) * 0.6 + conf * 0.5
    tp = quality[:, None] > np.linspace(0.45, 0.9, 10)[None, :]
    tp[rng.random(n) < 0.25] = False
    # As real matching guarantees, a class never has more true positives than labels.
    order = np.argsort(-conf)
    for c in np.unique(pred_cls):
        mine = order[pred_cls[order] == c]
        n_labels = int((target_cls == c).sum())
        excess = tp[mine].cumsum(0) > n_labels
        tp[mine[:, None].repeat(10, 1)[excess], np.nonzero(excess)[1]] = False
    r = ap_per_class(tp, conf, pred_cls, target_cls)
    out_tp, out_fp, p, rec, f1, ap, classes, p_curve, r_curve, f1_curve, x, prec_values = r
    metrics = DetMetrics(names={i: str(i) for i in range(7)})
    metrics.box.update(r[2:])
    cols = [0, 100, 250, 500, 750, 999]
    write(HERE / "ap_per_class.txt", dict(
        tp=tp, conf=conf, pred_cls=pred_cls, target_cls=target_cls,
        expected_tp=out_tp, expected_fp=out_fp, expected_p=p, expected_r=rec, expected_f1=f1, expected_ap=ap,
        expected_classes=classes, curve_columns=np.array(cols), expected_p_curve=p_curve[:, cols],
        expected_r_curve=r_curve[:, cols], expected_f1_curve=f1_curve[:, cols],
        expected_prec_values=prec_values[:, cols],
        expected_means=np.array([*metrics.mean_results(), metrics.box.map75, metrics.fitness])))


def detection_fixture():
    """Whole images: labels and predictions in pixels -> Ultralytics' matching and DetMetrics."""
    rng = np.random.default_rng(7)
    validator = types.SimpleNamespace(iouv=torch.linspace(0.5, 0.95, 10))
    metrics = DetMetrics(names={0: "a", 1: "b", 2: "c"})
    preds_all, labels_all = [], []
    for img in range(24):
        m = int(rng.integers(0, 6))
        xy = rng.random((m, 2)) * 500
        wh = rng.random((m, 2)) * 120 + 10
        labels = np.concatenate([rng.integers(0, 3, (m, 1)), xy, xy + wh], 1).astype(np.float32)
        preds = []
        for lb in labels:  # a jittered copy (sometimes the wrong class), sometimes two
            for _ in range(int(rng.integers(0, 3))):
                box = lb[1:] + rng.normal(0, 8, 4)
                cls = lb[0] if rng.random() < 0.85 else rng.integers(0, 3)
                preds.append([*box, rng.random(), cls])
        for _ in range(int(rng.integers(0, 4))):  # background
            x, y = rng.random(2) * 500
            preds.append([x, y, x + 40, y + 40, rng.random() * 0.5, rng.integers(0, 3)])
        preds = np.array(preds, dtype=np.float32).reshape(-1, 6)
        preds = preds[np.argsort(-preds[:, 4], kind="stable")]
        pt, lt = torch.from_numpy(preds), torch.from_numpy(labels)
        if len(lt) and len(pt):
            iou = box_iou(lt[:, 1:], pt[:, :4])
            tp = BaseValidator.match_predictions(validator, pt[:, 5], lt[:, 0], iou).numpy()
        else:
            tp = np.zeros((len(pt), 10), dtype=bool)
        cls = lt[:, 0].numpy()
        metrics.update_stats(dict(tp=tp, conf=pt[:, 4].numpy(), pred_cls=pt[:, 5].numpy(), target_cls=cls,
                                  target_img=np.unique(cls)))
        preds_all.append(np.concatenate([np.full((len(preds), 1), img), preds], 1))
        labels_all.append(np.concatenate([np.full((len(labels), 1), img), labels], 1))
    metrics.process()
    per_class = [[c, metrics.nt_per_image[c], metrics.nt_per_class[c], *metrics.class_result(i)]
                 for i, c in enumerate(metrics.ap_class_index)]
    write(HERE / "detection_stats.txt", dict(
        preds=np.concatenate(preds_all), labels=np.concatenate(labels_all),
        expected_means=np.array([*metrics.mean_results(), metrics.box.map75, metrics.fitness]),
        expected_per_class=np.array(per_class, dtype=np.float64)))


def nms_fixture():
    torch.manual_seed(3)
    b, nc, a = 2, 3, 160
    centres = torch.rand(b, 2, a) * 640
    sizes = torch.rand(b, 2, a) * 120 + 40
    scores = torch.rand(b, nc, a) ** 3
    prediction = torch.cat([centres, sizes, scores], 1)
    cases = {}
    for name, kw in dict(default=dict(conf_thres=0.25, iou_thres=0.7, max_det=60),
                         multi=dict(conf_thres=0.1, iou_thres=0.5, multi_label=True, max_det=40),
                         agnostic=dict(conf_thres=0.2, iou_thres=0.45, agnostic=True, max_det=60),
                         classes=dict(conf_thres=0.05, iou_thres=0.6, classes=[0, 2], multi_label=True,
                                      max_det=60)).items():
        out = ops.non_max_suppression(prediction.clone(), **kw)
        cases[name] = torch.cat([torch.cat([torch.full((len(o), 1), float(i)), o], 1) for i, o in enumerate(out)])
    write(HERE / "nms.txt", dict(prediction=prediction.numpy(), **{f"expected_{k}": v.numpy() for k, v in cases.items()}))


if __name__ == "__main__":
    ap_fixture()
    detection_fixture()
    nms_fixture()
