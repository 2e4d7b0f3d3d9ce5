#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Read a descent model with numpy alone and print its layers; with
--predict CSV also run the forward pass on rows of features and print one
class per row (as `descent predict`).

MODEL is a model file (.dsc: docs/file-formats.md, checksum
verified) or a directory written by `descent export` (W1.npy, b1.npy, ...
described by its manifest.json)."""
import argparse, json, os, struct, sys, zlib

import numpy as np

ACTIVATIONS = ["sigmoid", "tanh", "relu", "identity", "softmax"]
COSTS = ["mse", "xent"]
EXPORT_FORMAT, EXPORT_VERSION = "descent-npy", 1


def read_model_file(path):
    raw = open(path, "rb").read()
    if raw[:8] != b"DSCNTMDL":
        raise ValueError(f"{path}: not a descent model (bad magic)")
    if zlib.crc32(raw[:-4]) != struct.unpack("<I", raw[-4:])[0]:
        raise ValueError(f"{path}: bad checksum")
    version, L = struct.unpack_from("<II", raw, 8)
    sizes = struct.unpack_from(f"<{L + 1}I", raw, 16)
    acts = struct.unpack_from(f"<{L}I", raw, 16 + 4 * (L + 1))
    cost, n = struct.unpack_from("<IQ", raw, 16 + 4 * (2 * L + 1))
    p = np.frombuffer(raw, "<f4", n, 16 + 4 * (2 * L + 1) + 12)
    layers, off = [], 0
    for l in range(L):
        W = p[off:off + sizes[l + 1] * sizes[l]].reshape(sizes[l + 1], sizes[l]); off += W.size
        b = p[off:off + sizes[l + 1]]; off += b.size
        layers.append((W, b, ACTIVATIONS[acts[l]]))
    return layers, COSTS[cost]


def read_export(directory):
    path = os.path.join(directory, "manifest.json")
    with open(path) as f:
        m = json.load(f)
    if m.get("format") != EXPORT_FORMAT or m.get("version") != EXPORT_VERSION:
        raise ValueError(f"{path}: not a {EXPORT_FORMAT} manifest of version {EXPORT_VERSION}")
    widths, layers = m["widths"], []
    for l, (files, act) in enumerate(zip(m["layers"], m["activations"])):
        W = np.load(os.path.join(directory, files["weights"]))
        b = np.load(os.path.join(directory, files["biases"]))
        if W.shape != (widths[l + 1], widths[l]) or b.shape != (widths[l + 1],):
            raise ValueError(f"{directory}: layer {l + 1} has shapes {W.shape}, {b.shape}, "
                             f"not those of widths {widths}")
        layers.append((W, b, act))
    return layers, m["cost"]


def read_model(path):
    return read_export(path) if os.path.isdir(path) else read_model_file(path)


def forward(layers, x):
    def softmax(z):
        e = np.exp(z - z.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)
    f = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
         "relu": lambda z: np.maximum(z, 0), "identity": lambda z: z, "softmax": softmax}
    for W, b, act in layers:
        x = f[act](x @ W.T + b)
    return x


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", metavar="MODEL", help="a .dsc model file or an export directory")
    ap.add_argument("--predict", metavar="CSV", help="rows of features, comma separated")
    a = ap.parse_args()
    try:
        layers, cost = read_model(a.model)
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f"read_model.py: {e}")
    if a.predict:
        x = np.loadtxt(a.predict, delimiter=",", ndmin=2, dtype=np.float32)
        for c in forward(layers, x).argmax(1):
            print(c)
    else:
        for i, (W, b, act) in enumerate(layers):
            print(f"layer {i + 1}: {W.shape[1]} -> {W.shape[0]} {act}")
        print("cost", cost)


if __name__ == "__main__":
    main()
