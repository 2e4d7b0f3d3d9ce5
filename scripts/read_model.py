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
    if version not in (1, 2):
        raise ValueError(f"{path}: unsupported model version {version}")
    sizes = struct.unpack_from(f"<{L + 1}I", raw, 16)
    acts = struct.unpack_from(f"<{L}I", raw, 16 + 4 * (L + 1))
    cost, n = struct.unpack_from("<IQ", raw, 16 + 4 * (2 * L + 1))
    start = 16 + 4 * (2 * L + 1) + 12
    p = np.frombuffer(raw, "<f4", n, start)
    standardize = provenance = None
    if version == 2:  # sections after the parameters; bit 0: standardised inputs, bit 1: provenance
        at = start + 4 * n
        (sections,) = struct.unpack_from("<I", raw, at)
        at += 4
        if sections & 1:
            mean = np.frombuffer(raw, "<f4", sizes[0], at)
            std = np.frombuffer(raw, "<f4", sizes[0], at + 4 * sizes[0])
            standardize = (mean, std)
            at += 8 * sizes[0]
        if sections & 2:
            texts = []
            for _ in range(2):  # this model's record, then the parent's provenance
                (k,) = struct.unpack_from("<I", raw, at)
                texts.append(raw[at + 4:at + 4 + k].decode())
                at += 4 + k
            provenance = render_provenance(*texts)
    layers, off = [], 0
    for l in range(L):
        W = p[off:off + sizes[l + 1] * sizes[l]].reshape(sizes[l + 1], sizes[l]); off += W.size
        b = p[off:off + sizes[l + 1]]; off += b.size
        layers.append((W, b, ACTIVATIONS[acts[l]]))
    return layers, COSTS[cost], standardize, provenance


def render_provenance(record, parent):
    """The text `descent info` shows: the record, then the parent's lines indented."""
    if not parent:
        return record
    return record + "fine-tuned from:\n" + "".join("  " + line + "\n" for line in parent.splitlines())


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
    standardize = None
    if "standardize" in m:
        standardize = tuple(np.load(os.path.join(directory, m["standardize"][k])) for k in ("mean", "std"))
    return layers, m["cost"], standardize, m.get("provenance")


def read_model(path):
    return read_export(path) if os.path.isdir(path) else read_model_file(path)


def forward(layers, x, standardize=None):
    def softmax(z):
        e = np.exp(z - z.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)
    f = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
         "relu": lambda z: np.maximum(z, 0), "identity": lambda z: z, "softmax": softmax}
    if standardize is not None:  # as the model's first step: (x - mean) / std in float32
        x = (x - standardize[0]) / standardize[1]
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
        layers, cost, standardize, provenance = read_model(a.model)
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f"read_model.py: {e}")
    if a.predict:
        x = np.loadtxt(a.predict, delimiter=",", ndmin=2, dtype=np.float32)
        for c in forward(layers, x, standardize).argmax(1):
            print(c)
    else:
        for i, (W, b, act) in enumerate(layers):
            print(f"layer {i + 1}: {W.shape[1]} -> {W.shape[0]} {act}")
        print("cost", cost)
        if standardize is not None:
            print(f"inputs standardized: {len(standardize[0])} features")
        if provenance is not None:
            print("provenance:")
            print("".join("  " + line + "\n" for line in provenance.splitlines()), end="")


if __name__ == "__main__":
    main()
