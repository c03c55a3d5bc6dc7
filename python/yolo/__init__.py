"""yolocpp for Python: train, validate and run YOLO detectors and classifiers through the C++ library.

    import yolo
    model = yolo.Model("yolov8n.yaml").load("yolov8n.pt")
    metrics = model.train(data="coco8.yaml", epochs=3, imgsz=320)
    for r in model.predict("images/"):
        print(r.path, r.boxes.xyxy, r.boxes.conf, r.boxes.cls)

    classifier = yolo.Model("yolov8n-cls.yaml")
    classifier.train(data="path/to/folder", epochs=5)  # folder/train/<class>/*.jpg, folder/val/<class>/*.jpg
    for r in classifier.predict("images/"):
        print(r.path, r.probs.top1, r.probs.top1conf, r.probs.top5)
"""
from ._yolo import (Boxes, Error, Metrics, Model, Probs, RankLauncher, Results, SystemChecks, __version__, checks,
                    keep_freed_memory_in_heap, train_keys)

__all__ = ["Boxes", "Error", "Metrics", "Model", "Probs", "RankLauncher", "Results", "SystemChecks", "__version__",
           "checks", "keep_freed_memory_in_heap", "train_keys"]
