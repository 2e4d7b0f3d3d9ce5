#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Summarize bench.sh's raw.csv: medians and min-max per configuration, and
the issue's ratios computed pair by pair (repetition i against repetition
i), then the targets met or missed.
Usage: summarize.py RAW_CSV SUMMARY_CSV      (scripts/bench.sh runs it)"""
import csv, statistics as st, sys

if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
    print(__doc__)
    sys.exit(0 if len(sys.argv) > 1 else 2)

raw = list(csv.DictReader(open(sys.argv[1])))
out = sys.argv[2]
groups = {}
for r in raw:
    groups.setdefault((r["name"], r["env"], int(r["batch"])), {})[int(r["rep"])] = r

def med(rows, k):
    v = [float(r[k]) for r in rows if r[k] not in ("", None)]
    return (st.median(v), min(v), max(v)) if v else (None, None, None)

print(f"{'configuration':44} {'env':6} {'batch':>5} {'s/epoch median (min-max)':>26} {'samples/s':>10} {'GFLOP/s':>8} {'comm':>6} {'RSS MB':>7} {'launch s':>8}")
with open(out, "w") as f:
    f.write("name,env,batch,seconds_median,seconds_min,seconds_max,samples_per_s,gflops,comm_share,peak_rss_mb,launch_s\n")
    for (name, env, b), reps in sorted(groups.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1])):
        rows = list(reps.values())
        s, lo, hi = med(rows, "seconds_per_epoch")
        sps, gf = med(rows, "samples_per_s")[0], med(rows, "gflops")[0]
        comm, rss, launch = med(rows, "comm_share")[0], med(rows, "peak_rss_mb")[2], med(rows, "launch_to_first_step_s")[0]
        fmt = lambda x, p: "" if x is None else f"{x:.{p}f}"
        print(f"{name:44} {env:6} {b:>5} {s:>9.3f} ({lo:.3f}-{hi:.3f})      {sps:>10.0f} {gf:>8.1f} {fmt(comm and 100*comm,1):>6} {fmt(rss,1):>7} {fmt(launch,2):>8}")
        f.write(f"{name},{env},{b},{s:.4f},{lo:.4f},{hi:.4f},{sps:.1f},{gf:.2f},{fmt(comm,4)},{fmt(rss,1)},{fmt(launch,3)}\n")

def ratio(a, b, batch, key="samples_per_s"):
    """median and range over repetitions of a[i]/b[i]; a, b: (name, env)"""
    ga, gb = groups.get((a[0], a[1], batch)), groups.get((b[0], b[1], batch))
    if not ga or not gb: return None
    rs = [float(ga[i][key]) / float(gb[i][key]) for i in ga if i in gb]
    return st.median(rs), min(rs), max(rs)

def best(names, env, batch):
    cands = [(med(list(groups[(n, env, batch)].values()), "samples_per_s")[0], n) for n in names if (n, env, batch) in groups]
    return max(cands)[1] if cands else None

envs = sorted({r["env"] for r in raw if r["env"] != "-"})
D2 = ["descent 1x2", "descent 2x1", "descent 2x1 vader-nocopy"]
T2 = ["torch 2 cores (1 torch + 2 BLAS threads)", "torch 2 cores (2 threads; passive wait)"]
print("\nratios (median over repetitions of rep-by-rep ratios, min-max):")
checks = []
for b in (64, 256):
    d = best(D2, "-", b)
    for e in envs:
        t = best(T2, e, b)
        r = ratio((d, "-"), (t, e), b)
        if r:
            print(f"  batch {b}: {d} / {t} [{e}]: {r[0]:.2f}x ({r[1]:.2f}-{r[2]:.2f})")
            checks.append((f"best descent 2-core layout vs best PyTorch 2-core, batch {b}, env {e}", r[0], 2.5 if b == 64 else 2.0))
        c = ratio(("descent 1x2", "-"), ("OpenBLAS ceiling 2 threads", e), b, "gflops")
        if c:
            print(f"  batch {b}: descent 1x2 / OpenBLAS 2-thread step-GEMM ceiling [{e}] (GFLOP/s): {c[0]:.2f} ({c[1]:.2f}-{c[2]:.2f})")
            checks.append((f"descent 1x2 whole training vs the OpenBLAS 2-thread step-GEMM ceiling, batch {b}, env {e}", c[0], 1.05))
    for two in ("descent 2x1", "descent 2x1 vader-nocopy"):
        r = ratio((two, "-"), ("descent 1x2", "-"), b)
        if r: print(f"  batch {b}: {two} / descent 1x2: {r[0]:.2f} ({r[1]:.2f}-{r[2]:.2f})")
    r, two = max(((ratio((two, "-"), ("descent 1x2", "-"), b) or (0, 0, 0)), two) for two in ("descent 2x1", "descent 2x1 vader-nocopy"))
    checks.append((f"2x1 vs 1x2 samples/s, batch {b} (the better 2x1: {two[8:]})", r[0], 0.9))
    if b == 64:
        for e in envs:
            r = ratio((d, "-"), ("torch DDP gloo 2x1", e), b)
            if r:
                print(f"  batch 64: {d} / torch DDP gloo 2x1 [{e}]: {r[0]:.1f}x ({r[1]:.1f}-{r[2]:.1f})")
print("\nthe default exact sums (32-bit fixed point) against --float-sums, samples/s:")
for b in (64, 256):
    for lay in ("1x1", "1x2", "2x1"):
        r = ratio((f"descent {lay}", "-"), (f"descent {lay} float sums", "-"), b)
        if r:
            print(f"  batch {b}, {lay}: {r[0]:.2f} ({r[1]:.2f}-{r[2]:.2f}) of the float sums' speed")
            checks.append((f"exact (default) vs float sums, batch {b}, {lay}", r[0], 0.97))
widths = [784, 256, 128, 10]
params = sum(widths[l] * widths[l + 1] + widths[l + 1] for l in range(len(widths) - 1))
TAIL = 25  # src/step.c: T_LEN, the counts and the loss after the gradients
print(f"  bytes summed per step, both sums: ({params:,} gradients + {TAIL} tail values) x 4 bytes"
      f" = {4 * (params + TAIL):,}; ranks of one host sum in shared memory")
rss = max(float(r["peak_rss_mb"]) for r in raw if r["peak_rss_mb"] and "wide" not in r["name"])
launch = st.median(float(r["launch_to_first_step_s"]) for r in raw if r["launch_to_first_step_s"])
checks.append(("peak RSS per rank (MB, at most)", rss, -100.0))
checks.append(("launch to first step (s, at most)", launch, -0.5))
print("\ntargets:")
for what, value, target in checks:
    okk = value <= -target if target < 0 else value >= target
    print(f"  {'met   ' if okk else 'MISSED'} {what}: {value:.2f} (target {'<=' if target < 0 else '>='} {abs(target)})")
