#!/usr/bin/env bash
# scaleout.sh - how well descent scales out over a network: brings up an
# emulated cluster of 2 hosts with links shaped to 10 Gbit/s, measures one
# process (1 thread) against 2 hosts x 1 rank x 1 thread at global batch 256
# on Fashion-MNIST (784-256-128-10 relu/softmax, the second of 2 epochs, REPS
# repetitions, default 3, medians), measures MPI_Allreduce on that link
# (descent commbench: alpha from 1 float, beta from the gradient's 235,146),
# fits the cost model (a 2-rank step = one process's step at the half batch
# + the ring all-reduce 2 (P-1) alpha + 2 (P-1)/P N beta), prints a table,
# and LAST the line "efficiency E model M": E = samples/s on 2 hosts /
# (2 x samples/s of 1 process), M the model's E. Tears the cluster down.
#   bash scripts/cluster/scaleout.sh          (env: DESCENT, REPS, RATE)
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
     --output softmax --cost xent --optimizer gd --lr 0.1 --epochs 2)
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
second_epoch() { # samples/s and seconds of the second epoch, from descent's output
  sed -n 's/^epoch *2\/2 .* \([0-9]*\) samples\/s *\([0-9.]*\) s .*/\1 \2/p'
}
one=() half=() two=()
for r in $(seq 1 "$REPS"); do
  one+=("$("$D" train "${NET[@]}" --batch 256 | second_epoch)")
  half+=("$("$D" train "${NET[@]}" --batch 128 | second_epoch)")
  two+=("$(bash $C/mpirun.sh -n 2 --map-by ppr:1:node -x OMP_NUM_THREADS -x OMP_WAIT_POLICY \
           "$D" train "${NET[@]}" --batch 256 | second_epoch)")
  echo "scaleout: repetition $r of $REPS done" >&2
done
comm=$(bash $C/mpirun.sh -n 2 --map-by ppr:1:node "$D" commbench --floats 1 --floats 235146 --reps 50)
python3 - "$RATE" "${one[*]}" "${half[*]}" "${two[*]}" "$comm" <<'PY'
import sys, statistics as st
rate = sys.argv[1]
def runs(text):  # "sps secs sps secs ..." -> [(sps, secs), ...]
    v = [float(x) for x in text.split()]
    return list(zip(v[0::2], v[1::2]))
one, half, two = runs(sys.argv[2]), runs(sys.argv[3]), runs(sys.argv[4])
rows = [l.split(",") for l in sys.argv[5].strip().splitlines()[1:]]
t_small = float(rows[0][3]) * 1e-6           # median seconds, 1 float
t_big = float(rows[1][3]) * 1e-6             # median seconds, 235,146 floats
N = 235146 * 4 + 24                          # bytes reduced per step (gradient + tail)
P = 2
alpha = t_small / (2 * (P - 1))              # a 1-float all-reduce is latency alone
beta = max(t_big - 2 * (P - 1) * alpha, 0.0) / (2 * (P - 1) / P * (235146 * 4))
n, m = 60000, 256
steps = -(-n // m)
sps1 = st.median(s for s, _ in one)
sps2 = st.median(s for s, _ in two)
step_half = st.median(t for _, t in half) / -(-n // 128)   # one process, 128 samples a step
comm = 2 * (P - 1) * alpha + 2 * (P - 1) / P * N * beta
pred_step = step_half + comm
pred_sps2 = m / pred_step
E = sps2 / (2 * sps1)
M = pred_sps2 / (2 * sps1)
print(f"links {rate}; Fashion-MNIST 784-256-128-10, global batch {m}, 1 thread per rank; medians of {len(one)}")
print(f"{'run':34s} {'samples/s':>10s} {'s/epoch':>8s}")
print(f"{'1 process':34s} {sps1:10.0f} {st.median(t for _, t in one):8.3f}")
print(f"{'1 process, batch 128 (half)':34s} {st.median(s for s, _ in half):10.0f} {st.median(t for _, t in half):8.3f}")
print(f"{'2 hosts x 1 rank':34s} {sps2:10.0f} {st.median(t for _, t in two):8.3f}")
print(f"all-reduce on the link: 1 float {t_small*1e6:.1f} us, {N:,} bytes {t_big*1e6:.1f} us;"
      f" alpha {alpha*1e6:.1f} us, beta {beta*1e9:.3f} ns/byte ({1/beta/1e9*8 if beta else float('inf'):.1f} Gbit/s)")
print(f"model, per step on 2 hosts: compute {step_half*1e3:.3f} ms + all-reduce {comm*1e3:.3f} ms"
      f" = {pred_step*1e3:.3f} ms -> {pred_sps2:.0f} samples/s")
print(f"efficiency {E:.3f} model {M:.3f}")
PY
