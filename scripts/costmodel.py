#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Cost model of a data-parallel descent step, fitted to this machine.

  step(P) = compute(P) + allreduce(P)
  compute(P) = (a + b * ceil(m / P)) * max(1, P / cores)   # a: per-step work every
                                                            # rank repeats (update,
                                                            # reduction tail);
                                                            # b: per sample; oversubscribed
                                                            # ranks share the cores
  allreduce(P) = 2 (P - 1) alpha + 2 (P - 1) / P * bytes * beta   # ring all-reduce

a and b come from two 1-rank runs (batch m1, m2); alpha and beta from
`descent commbench` on 2 ranks (a 4-byte and a gradient-sized message:
for P = 2 the ring costs 2 alpha + bytes beta). Interconnects other than
this machine's shared memory use textbook alpha and beta.

Usage: costmodel.py measurements.json   (written by scripts/costmodel.sh)
"""
import json, math, sys

if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
    print(__doc__)
    sys.exit(0 if len(sys.argv) > 1 else 2)

INTERCONNECTS = {
    # name: (alpha seconds, beta seconds per byte)
    "10 GbE (TCP)": (30e-6, 1 / 1.1e9),
    "100 Gb InfiniBand": (1.5e-6, 1 / 11.0e9),
}

def model(P, m, a, b, alpha, beta, nbytes, cores):
    comp = (a + b * math.ceil(m / P)) * max(1.0, P / cores)
    comm = 0.0 if P == 1 else 2 * (P - 1) * alpha + 2 * (P - 1) / P * nbytes * beta
    return comp, comm

def main():
    M = json.load(open(sys.argv[1]))
    (m1, t1), (m2, t2) = M["one_rank"]            # [batch, compute seconds per step]
    b = (t2 - t1) / (m2 - m1)
    a = t1 - b * m1
    if a < 0:  # timing noise can push the intercept below zero; no step costs < 0
        print(f"note: fitted per-step overhead {a*1e6:.1f} us < 0 (noise); using 0")
        a = 0.0
    lat, big = M["allreduce"]                      # seconds: 4 bytes, gradient bytes (P = 2)
    nbytes = M["gradient_bytes"]
    alpha = lat / 2
    beta = max(big - 2 * alpha, 0.0) / nbytes
    cores, m = M["cores"], M["batch"]
    print(f"fitted on this machine: a = {a*1e6:.1f} us per step, b = {b*1e6:.2f} us per sample, "
          f"alpha = {alpha*1e6:.2f} us, beta = {beta*1e9:.3f} ns/byte ({1/beta/1e9 if beta else float('inf'):.2f} GB/s), "
          f"gradient {nbytes} bytes, {cores} cores")

    # check against the measured multi-rank runs
    print("\nmodel against measurement (global batch %d):" % m)
    print(f"{'ranks':>6} {'measured ms':>12} {'model ms':>10} {'error':>7}")
    worst2 = None
    for P, measured in M["measured"]:
        comp, comm = model(P, m, a, b, alpha, beta, nbytes, cores)
        err = (comp + comm - measured) / measured
        tag = " (oversubscribed)" if P > cores else ""
        print(f"{P:>6} {measured*1e3:>12.3f} {(comp+comm)*1e3:>10.3f} {err:>+7.1%}{tag}")
        if P == 2: worst2 = abs(err)

    for name, (al, be) in [("this machine (shared memory, measured)", (alpha, beta))] + list(INTERCONNECTS.items()):
        print(f"\n{name}: alpha {al*1e6:.2f} us, beta {be*1e9:.3f} ns/byte; strong scaling, global batch {m}")
        print(f"{'P':>5} {'compute ms':>11} {'comm ms':>9} {'step ms':>9} {'samples/s':>11} {'efficiency':>10}")
        t_one = sum(model(1, m, a, b, al, be, nbytes, 1))
        half = None
        P = 1
        while P <= 1024:
            # beyond this machine each rank has its own cores: no oversubscription
            comp, comm = model(P, m, a, b, al, be, nbytes, P)
            step = comp + comm
            eff = t_one / (P * step)
            if half is None and eff < 0.5: half = P
            note = "  (m/P < 1: idle ranks)" if m < P else ""
            print(f"{P:>5} {comp*1e3:>11.3f} {comm*1e3:>9.3f} {step*1e3:>9.3f} {m/step:>11.0f} {eff:>10.1%}{note}")
            P *= 2
        print(f"efficiency falls below 50% at P = {half}" if half else "efficiency stays above 50% up to P = 1024")
    if worst2 is not None:
        print(f"\n2-rank step time: model error {worst2:.1%} ({'within' if worst2 <= 0.25 else 'OUTSIDE'} 25%)")
        return 0 if worst2 <= 0.25 else 1
    return 0

if __name__ == "__main__":
    sys.exit(main())
