"""yolocpp for Python: train, validate and run YOLO detectors through the C++ library.

    import yolo
    model = yolo.Model("yolov8n.yaml").load("yolov8n.pt")
    metrics = model.train(data="coco8.yaml", epochs=3, imgsz=320)
    for r in model.predict("images/"):
        print(r.path, r.boxes.xyxy, r.boxes.conf, r.boxes.cls)
"""
from ._yolo import (Boxes, Error, Metrics, Model, RankLauncher, Results, __version__, keep_freed_memory_in_heap,
                    train_keys)

__all__ = ["Boxes", "Error", "Metrics", "Model", "RankLauncher", "Results", "__version__",
           "keep_freed_memory_in_heap", "train_keys"]
