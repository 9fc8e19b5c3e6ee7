#!/usr/bin/env python3
"""onnxruntime, one thread, timed the way `plinth bench engine` times Plinth's engine.

usage: ort_bench.py MODEL [--iterations N]
Prints p50/p90/p99 latency of one run at batch 1 and throughput (rows/s) at batch 64 on
random inputs matching the model's signature, then one machine-readable RESULT line.
Times include onnxruntime's Python binding overhead per call (a few µs).
"""
import argparse
import os
import time

import numpy as np
import onnxruntime as ort

DTYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
}


def make_inputs(session, batch, rng):
    feed = {}
    for spec in session.get_inputs():
        shape = []
        for i, dim in enumerate(spec.shape):
            if isinstance(dim, int) and dim >= 0:
                shape.append(dim)
            else:
                shape.append(batch if i == 0 else 1)
        if batch != 1 and shape and shape[0] != batch:
            return None  # fixed batch dimension
        dtype = DTYPES.get(spec.type)
        if dtype is None:
            raise SystemExit(f"unsupported input type {spec.type}")
        if dtype in (np.float32, np.float64):
            feed[spec.name] = rng.random(shape, dtype=np.float64).astype(dtype)
        elif dtype == np.bool_:
            feed[spec.name] = rng.random(shape) < 0.5
        else:
            feed[spec.name] = rng.integers(0, 10, size=shape).astype(dtype)
    return feed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--iterations", type=int, default=2000)
    args = parser.parse_args()

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(1)
    name = os.path.basename(args.model)

    feed = make_inputs(session, 1, rng)
    for _ in range(min(200, args.iterations)):
        session.run(None, feed)
    times = []
    for _ in range(args.iterations):
        start = time.perf_counter_ns()
        session.run(None, feed)
        times.append((time.perf_counter_ns() - start) / 1000)
    times.sort()
    p50, p90, p99 = (times[int(len(times) * q)] for q in (0.5, 0.9, 0.99))
    print(f"onnxruntime {name}: batch 1 p50 {p50:.1f} us, p90 {p90:.1f} us, p99 {p99:.1f} us")

    rows_per_s = 0.0
    feed64 = make_inputs(session, 64, rng)
    if feed64 is None:
        print(f"onnxruntime {name}: batch 64 n/a (fixed batch dimension)")
    else:
        runs = max(20, args.iterations // 8)
        for _ in range(5):
            session.run(None, feed64)
        start = time.perf_counter_ns()
        for _ in range(runs):
            session.run(None, feed64)
        seconds = (time.perf_counter_ns() - start) / 1e9
        rows_per_s = 64 * runs / seconds
        print(f"onnxruntime {name}: batch 64 {seconds / runs * 1e6:.1f} us per run, {rows_per_s:.0f} rows/s")
    print(f"RESULT engine=onnxruntime model={name} p50_us={p50:.2f} rows_per_s={rows_per_s:.0f}")


if __name__ == "__main__":
    main()
