#!/usr/bin/env python3
"""Builds the tree-ensemble benchmark models (scikit-learn + skl2onnx, fixed seeds).

usage: make_models.py OUT_DIR
Writes forest_100.onnx (RandomForestClassifier, 100 trees, depth ≤ 10, 30 features) and
gbm_100.onnx (GradientBoostingClassifier, 100 stages, depth 3, 30 features), both without
ZipMap so onnxruntime's Python API is not charged for building dicts.
"""
import os
import sys

import numpy as np
from skl2onnx import to_onnx
from sklearn.datasets import make_classification
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else "models"
    os.makedirs(out, exist_ok=True)
    x, y = make_classification(n_samples=4000, n_features=30, n_informative=12, random_state=7)
    x = x.astype(np.float32)
    models = {
        "forest_100": RandomForestClassifier(n_estimators=100, max_depth=10, random_state=7),
        "gbm_100": GradientBoostingClassifier(n_estimators=100, max_depth=3, random_state=7),
    }
    for name, model in models.items():
        path = os.path.join(out, name + ".onnx")
        if os.path.exists(path):
            continue
        model.fit(x, y)
        onx = to_onnx(model, x[:1], options={id(model): {"zipmap": False}}, target_opset={"": 17, "ai.onnx.ml": 3})
        with open(path, "wb") as f:
            f.write(onx.SerializeToString())
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
