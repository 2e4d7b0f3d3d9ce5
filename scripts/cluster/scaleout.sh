#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scaleout.sh - how well descent scales out over a network: brings up an
# emulated cluster of 2 hosts with links shaped to 10 Gbit/s and measures,
# on Fashion-MNIST (784-256-128-10 relu/softmax, the second of 2 epochs, REPS
# repetitions, default 3, medians), one process (1 thread) at global batch
# m and m/2, and 2 hosts x 1 rank x 1 thread at m, with the default exact
# sums (int32 on the wire), with float sums (--float-sums) and with the
# gradient sent as bfloat16 (--comm-precision bf16), each with the reduction
# overlapped with the backward pass (--overlap) and after it (the default), for
# m = 256 and 64.
# The cost model: a 2-rank step = one process's step at m/2 + the step's
# reduction, timed by `descent commbench` right after that much computation
# (--busy-us) in the precision used; with overlap, the part of the
# reduction that outlasts the first layer's gradient (or its last piece),
# plus the share of the reduction's time that its transport takes from the
# computation (learned from the batch-64 float-sums run). Prints a table,
# the float sums' line "float sums: efficiency E model M", and LAST the line
# "efficiency E model M" for the default (exact sums at batch 256, no
# overlap): E = samples/s on 2 hosts / (2 x samples/s of 1 process), M the
# model's E. Tears the cluster down.
#   bash scripts/cluster/scaleout.sh          (env: DESCENT, REPS, RATE)
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/{/^#/!d; /SPDX/d; s/^# //; s/^#$//; p}' "$0"; exit 0 ;; esac
set -euo pipefail
cd "$(dirname "$0")/../.."
D=$(readlink -f "${DESCENT:-build/descent}")
[ -x "$D" ] || { echo "scaleout.sh: no descent at $D (build it, or set DESCENT)" >&2; exit 2; }
REPS=${REPS:-3}
RATE=${RATE:-10gbit}
C=scripts/cluster
trap 'bash $C/down.sh >/dev/null' EXIT
bash "$C/up.sh" 2 "$RATE" >&2
NET=(--data /usr/share/datasets/fashion-mnist --layers 784,256,128,10 --activation relu
     --output-activation softmax --cost xent --optimizer gd --lr 0.1 --epochs 2)
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
second_epoch() { # samples/s, seconds and compute seconds of the second epoch
  sed -n 's/^epoch *2\/2 .* \([0-9]*\) samples\/s *\([0-9.]*\) s *(compute \([0-9.]*\) s.*/\1 \2 \3/p'
}
RES=$(mktemp)
for r in $(seq 1 "$REPS"); do
  for m in 256 64; do
    echo "one $m $("$D" train "${NET[@]}" --batch $m | second_epoch)" >>"$RES"
    echo "one $((m / 2)) $("$D" train "${NET[@]}" --batch $((m / 2)) | second_epoch)" >>"$RES"
    for p in exact fp32 bf16; do
      sums=(); [ $p = fp32 ] && sums=(--float-sums); [ $p = bf16 ] && sums=(--comm-precision bf16)
      for ov in on off; do
        flag=--overlap; [ $ov = off ] && flag=--no-overlap
        echo "two-$p-$ov $m $(bash $C/mpirun.sh -n 2 --map-by ppr:1:node -x OMP_NUM_THREADS -x OMP_WAIT_POLICY \
             "$D" train "${NET[@]}" --batch $m "${sums[@]}" $flag | second_epoch)" >>"$RES"
      done
    done
  done
  echo "scaleout: repetition $r of $REPS done" >&2
done
# the reductions: latency (1 float), and the gradient after a half-batch step's compute
comm=""
for m in 256 64; do
  busy=$(awk -v m=$((m / 2)) '$1 == "one" && $2 == m {print $5 / int((60000 + m - 1) / m) * 1e6}' "$RES" |
         sort -n | awk '{v[NR] = $1} END {print int(v[int((NR + 1) / 2)])}')
  for p in exact fp32 bf16; do
    flag=(); [ $p = bf16 ] && flag=(--bf16); [ $p = exact ] && flag=(--int32)
    row=$(bash $C/mpirun.sh -n 2 --map-by ppr:1:node "$D" commbench --floats 235146 --reps 50 \
          --busy-us "$busy" "${flag[@]}" | tail -1)
    comm+="$m $p $row"$'\n'
  done
done
lat=$(bash $C/mpirun.sh -n 2 --map-by ppr:1:node "$D" commbench --floats 1 --reps 50 | tail -1)
python3 - "$RATE" "$RES" "$comm" "$lat" <<'PY'
import math, sys, statistics as st
rate, res, comm, lat = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
runs = {}
for line in open(res):
    kind, m, sps, secs, compute = line.split()
    runs.setdefault((kind, int(m)), []).append((float(sps), float(secs), float(compute)))
red = {}
for line in comm.strip().splitlines():
    m, p, row = line.split(" ", 2)
    f = row.split(",")
    red[(int(m), p)] = (float(f[3]) * 1e-6, int(f[5]), int(f[2]))  # median s, busy us, bytes
n = 60000
# Overlap: the reduction starts when layers 2..L are final and runs while the
# input deltas of layer 2 and the first layer's weight gradient are computed
# (WINDOW: their share of a step's multiply-adds); the first layer's last
# piece, b_1 and the tail (LAST: their share of the bytes) start at the end.
sizes = [784, 256, 128, 10]
macs = [sizes[i] * sizes[i + 1] for i in range(3)]
WINDOW = (macs[0] + macs[1]) / (2 * sum(macs) + sum(macs[1:]))
pieces = math.ceil(macs[0] / 65536)                    # piece_rows in step.c
rows = math.ceil(math.ceil(256 / pieces) / 12) * 12
last_rows = 256 - (256 - 1) // rows * rows
TAIL = 25                                              # T_LEN in step.c
LAST = (last_rows * 784 + 256 + TAIL) / (sum(macs) + sum(sizes[1:]) + TAIL)
# With overlap the transport's work (copies through sockets, the bridge, the
# token buckets, the progress calls) runs on the cores that compute: a share
# CPU of the reduction's time is added to the step. CPU is learned from one
# run, batch 64 float32 with overlap, and predicts the others.
def step_time(m, p, ov, half_step, cpu):
    t_red = red[(m, p)][0]
    if ov == "off":
        return half_step + t_red
    return half_step + cpu * t_red + max(LAST * t_red, t_red - WINDOW * half_step)
def half_step_of(m):
    return st.median(t for _, t, _ in runs[("one", m // 2)]) / -(-n // (m // 2))
def measured(kind, m):
    return st.median(s for s, _, _ in runs[(kind, m)])
h64, t64 = half_step_of(64), red[(64, "fp32")][0]
CPU = (64 / measured("two-fp32-on", 64) - h64 - max(LAST * t64, t64 - WINDOW * h64)) / t64
print(f"links {rate}; Fashion-MNIST 784-256-128-10, 1 thread per rank; medians of {len(runs[('one', 256)])}")
print(f"latency: all-reduce of 1 float {float(lat.split(',')[3]):.1f} us; overlap's CPU share "
      f"{CPU:.2f} of the reduction (learned from batch 64, float32)")
print(f"{'run':48s} {'samples/s':>10s} {'model':>10s} {'error':>7s} {'efficiency':>10s} {'model':>7s}")
headline = {}
for m in (256, 64):
    sps1 = measured("one", m)
    half_step = half_step_of(m)
    print(f"{'1 process, batch %d' % m:48s} {sps1:10.0f}")
    for p in ("exact", "fp32", "bf16"):
        t_red, busy, nbytes = red[(m, p)]
        for ov in ("on", "off"):
            sps2 = measured(f"two-{p}-{ov}", m)
            step = step_time(m, p, ov, half_step, CPU)
            pred = m / step
            E, M = sps2 / (2 * sps1), pred / (2 * sps1)
            name = f"2 hosts x 1 rank, batch {m}, {p}, overlap {ov}"
            print(f"{name:48s} {sps2:10.0f} {pred:10.0f} {100 * (pred - sps2) / sps2:+6.1f}% {E:10.3f} {M:7.3f}")
            print(f"{'':48s}   step = {half_step*1e3:.3f} ms compute (1 process, batch {m // 2}) + "
                  f"{(step - half_step)*1e3:.3f} ms for the {t_red*1e3:.3f} ms reduction of "
                  f"{nbytes} bytes (after {busy} us busy)")
            if m == 256 and ov == "off":
                headline[p] = (E, M)
print(f"float sums: efficiency {headline['fp32'][0]:.3f} model {headline['fp32'][1]:.3f}")
print(f"efficiency {headline['exact'][0]:.3f} model {headline['exact'][1]:.3f}")
PY
rm -f "$RES"
