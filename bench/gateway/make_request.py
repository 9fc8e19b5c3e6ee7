"""Writes an OIP v2 JSON infer request for a model, from its /v2/models/{name} metadata (stdin).

usage: curl -s .../v2/models/mlp | python3 make_request.py > body.json
One example (batch 1), FP32 inputs filled with a fixed pseudo-random sequence.
"""
import json
import random
import sys

meta = json.load(sys.stdin)
rng = random.Random(7)
inputs = []
for spec in meta["inputs"]:
    shape = [1 if (d is None or int(d) < 0) else int(d) for d in spec["shape"]]
    count = 1
    for d in shape:
        count *= d
    inputs.append({
        "name": spec["name"],
        "shape": shape,
        "datatype": spec.get("datatype", "FP32"),
        "data": [round(rng.uniform(-1, 1), 6) for _ in range(count)],
    })
json.dump({"inputs": inputs}, sys.stdout, separators=(",", ":"))
