#!/usr/bin/env python3
"""Round trip of sequential keep-alive OIP v2 JSON requests to `plinth runtime` over a Unix socket.

usage: runtime_latency.py SOCKET MODEL_NAME COUNT WIDTH INPUT_NAME
Sends COUNT requests of one FP32 row [1, WIDTH] (after 200 warm-up requests) and prints p50/p99
and the Plinth-* timing headers of the last answer. Times include this Python client (~10-20 µs).
"""
import json, socket, sys, time, random
path, model, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
width = int(sys.argv[4]); name = sys.argv[5]
random.seed(1)
data = [random.random() for _ in range(width)]
body = json.dumps({"inputs": [{"name": name, "shape": [1, width], "datatype": "FP32", "data": data}]}).encode()
req = (f"POST /v2/models/{model}/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
s = socket.socket(socket.AF_UNIX); s.connect(path)
def roundtrip():
    s.sendall(req)
    buf = b""
    while b"\r\n\r\n" not in buf: buf += s.recv(65536)
    head, rest = buf.split(b"\r\n\r\n", 1)
    cl = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
    while len(rest) < cl: rest += s.recv(65536)
    return head
for _ in range(200): roundtrip()
ts = []
for _ in range(n):
    t = time.perf_counter_ns(); h = roundtrip(); ts.append((time.perf_counter_ns() - t) / 1000)
ts.sort()
print(f"{model}: {n} sequential requests over UDS, p50 {ts[n//2]:.1f} us, p99 {ts[n*99//100]:.1f} us; last head: {h.decode().splitlines()[0]}")
print([l for l in h.decode().splitlines() if l.startswith("Plinth")])
