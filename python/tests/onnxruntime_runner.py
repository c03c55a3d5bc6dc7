"""Runs exported .onnx files through ONNX's current checker and ONNX Runtime (CPU).

Started by test_export_onnx.py with the Python of a virtual environment that has onnx and onnxruntime
from PyPI. Reads a JSON list of jobs {"model", "inputs": [npy...], "outputs": [npy...]} from argv[1];
prints one JSON line per model: its opset, IR version and metadata_props.
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime


def main():
    jobs = json.loads(open(sys.argv[1]).read())
    report = {}
    for job in jobs:
        model = onnx.load(job["model"])
        onnx.checker.check_model(model, full_check=True)  # includes strict shape inference
        session = onnxruntime.InferenceSession(job["model"], providers=["CPUExecutionProvider"])
        declared = session.get_inputs()[0]
        dtype = np.float16 if declared.type == "tensor(float16)" else np.float32
        for source, target in zip(job["inputs"], job["outputs"]):
            x = np.load(source).astype(dtype)
            np.save(target, session.run(None, {declared.name: x})[0].astype(np.float32))
        report[job["model"]] = {
            "opset": model.opset_import[0].version,
            "ir_version": model.ir_version,
            "input_type": declared.type,
            "input_shape": [d if isinstance(d, int) else str(d) for d in declared.shape],
            "metadata": {p.key: p.value for p in model.metadata_props},
        }
    print(json.dumps({"onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__, "models": report}))


if __name__ == "__main__":
    main()
