#!/usr/bin/env python3
"""Read a descent model file with numpy alone (the README's format), verify
its checksum, and print its layers; with --predict CSV also run the forward
pass on feature rows and print one class per row (as `descent predict`)."""
import sys, zlib, struct
import numpy as np

def read_model(path):
    raw = open(path, "rb").read()
    if raw[:8] != b"DSCNTMDL": raise ValueError(f"{path}: bad magic")
    if zlib.crc32(raw[:-4]) != struct.unpack("<I", raw[-4:])[0]: raise ValueError(f"{path}: bad checksum")
    version, L = struct.unpack_from("<II", raw, 8)
    sizes = struct.unpack_from(f"<{L + 1}I", raw, 16)
    acts = struct.unpack_from(f"<{L}I", raw, 16 + 4 * (L + 1))
    cost, n = struct.unpack_from("<IQ", raw, 16 + 4 * (2 * L + 1))
    p = np.frombuffer(raw, "<f4", n, 16 + 4 * (2 * L + 1) + 12)
    layers, off = [], 0
    for l in range(L):
        W = p[off:off + sizes[l + 1] * sizes[l]].reshape(sizes[l + 1], sizes[l]); off += W.size
        b = p[off:off + sizes[l + 1]]; off += b.size
        layers.append((W, b, ["sigmoid", "tanh", "relu", "identity", "softmax"][acts[l]]))
    return layers, ["mse", "xent"][cost]

def forward(layers, x):
    f = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh, "relu": lambda z: np.maximum(z, 0),
         "identity": lambda z: z, "softmax": lambda z: np.exp(z - z.max(1, keepdims=True)) / np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True)}
    for W, b, act in layers:
        x = f[act](x @ W.T + b)
    return x

if __name__ == "__main__":
    layers, cost = read_model(sys.argv[1])
    if len(sys.argv) > 3 and sys.argv[2] == "--predict":
        x = np.loadtxt(sys.argv[3], delimiter=",", ndmin=2, dtype=np.float32)
        for c in forward(layers, x).argmax(1): print(c)
    else:
        for i, (W, b, act) in enumerate(layers): print(f"layer {i + 1}: {W.shape[1]} -> {W.shape[0]} {act}")
        print("cost", cost)
