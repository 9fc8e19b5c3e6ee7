"""Reference server: FastAPI + uvicorn + onnxruntime speaking OIP v2 JSON for one model.

usage: MODEL=path.onnx NAME=mlp uvicorn fastapi_onnx:app --port P --workers 1 --loop uvloop
"""
import os

import numpy as np
import onnxruntime as ort
from fastapi import FastAPI, Request

options = ort.SessionOptions()
options.intra_op_num_threads = 1
session = ort.InferenceSession(os.environ["MODEL"], options, providers=["CPUExecutionProvider"])
name = os.environ.get("NAME", "model")
app = FastAPI()
DATATYPES = {np.dtype(np.float32): "FP32", np.dtype(np.float64): "FP64", np.dtype(np.int64): "INT64"}


def as_array(value):
    """An ONNX output as an array; seq(map) (skl2onnx ZipMap) becomes [N, C] in key order, as OIP has no map."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        keys = sorted(value[0])
        return np.asarray([[row[k] for k in keys] for row in value], dtype=np.float32)
    return np.asarray(value)


@app.get(f"/v2/models/{name}")
def metadata():
    return {
        "name": name,
        "inputs": [{"name": i.name, "datatype": "FP32", "shape": [d if isinstance(d, int) else -1 for d in i.shape]}
                   for i in session.get_inputs()],
        "outputs": [{"name": o.name} for o in session.get_outputs()],
    }


@app.post(f"/v2/models/{name}/infer")
async def infer(request: Request):
    body = await request.json()
    feeds = {t["name"]: np.asarray(t["data"], dtype=np.float32).reshape(t["shape"]) for t in body["inputs"]}
    results = session.run(None, feeds)
    outputs = []
    for meta, value in zip(session.get_outputs(), results):
        value = as_array(value)
        outputs.append({"name": meta.name, "shape": list(value.shape), "datatype": DATATYPES.get(value.dtype, "FP32"),
                        "data": value.ravel().tolist()})
    return {"model_name": name, "outputs": outputs}
