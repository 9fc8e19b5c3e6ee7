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
        value = np.asarray(value)
        outputs.append({"name": meta.name, "shape": list(value.shape), "datatype": "FP32",
                        "data": value.astype(np.float32).ravel().tolist()})
    return {"model_name": name, "outputs": outputs}
