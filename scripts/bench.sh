#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The speed benchmark, in ONE run, side by side, REPS repetitions (default 5),
# interleaved so that ratios are computed pair by pair (rep i with rep i):
#  - descent: Fashion-MNIST, 784-256-128-10 relu + softmax/cross-entropy,
#    plain SGD, batch 64 and 256, layouts 1x1, 1x2, 2x1 (ranks x threads),
#    and the wider 784-1024-1024-10: seconds per epoch (training only, data in
#    memory; of each run's epochs 2..EPOCHS, the median one: a single epoch
#    of half a second is at the mercy of a noisy machine), samples/s, GFLOP/s (the step's
#    exact matrix-product FLOPs), communication share, peak RSS per rank,
#    launch to first step;
#  - PyTorch CPU (Debian's python3-torch): 1 core, its best 2-core settings,
#    DistributedDataParallel/gloo 2 processes x 1 thread;
#  - the ceiling: the step's 8 matrix products through OpenBLAS cblas_sgemm
#    on 1 and 2 threads;
#  - descent's layer kernels alone (build/kernel_bench), 1 and 2 threads,
#    and the step's kernels with each kernel set the CPU runs (DESCENT_ISA);
#  - the round trip of a cache line between the two cores before and after
#    each repetition (scripts/bench/pingpong.c): on a virtual machine the
#    cores may be near or far apart on the host, which moves the timings.
# Peers and ceiling run with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE as the
# machine sets them and with both unset. Writes bench-results/raw.csv,
# bench-results/summary.csv and prints the table; with --record also the
# report docs/perf/DATE-COMMIT.txt (what was measured where: date, commit,
# CPU, build, environment, then the whole table), listed in docs/perf/index.md.
usage() {
  echo "usage: bash scripts/bench.sh [--record] [OUT_DIR]   (env: REPS, default 5; EPOCHS, default 4)"
  echo "  --record   also write the report to docs/perf/ and list it in docs/perf/index.md"
}
set -euo pipefail
cd "$(dirname "$0")/.."
RECORD=
case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  --record) RECORD=1; shift ;;
  -*) usage >&2; exit 2 ;;
esac
if [ -n "$RECORD" ]; then
  stamp=$(date -u +%Y-%m-%d)-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  report=docs/perf/$stamp.txt
  mkdir -p docs/perf
  {
    bash scripts/bench/describe.sh
    echo
    bash "$0" "$@"
  } | tee "$report.partial"
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "bench: failed; no report recorded" >&2; exit 1; }
  mv "$report.partial" "$report"
  index=docs/perf/index.md
  [ -f "$index" ] || printf '# Benchmark reports\n\nWritten by `bash scripts/bench.sh --record`, newest first.\n\n' >"$index"
  line="- [$stamp]($stamp.txt): $(grep -m1 '^cpu:' "$report" | cut -d' ' -f2-)"
  awk -v line="$line" 'done == 0 && /^- \[/ {print line; done = 1} {print} END {if (!done) print line}' \
    "$index" >"$index.tmp" && mv "$index.tmp" "$index"
  # docs/performance.md links the newest report on the line after its marker
  awk -v link="The latest report: [perf/$stamp.txt](perf/$stamp.txt)." \
    'after {print link; after = 0; next} /rewritten by scripts\/bench.sh --record/ {after = 1} {print}' \
    docs/performance.md >docs/performance.md.tmp && mv docs/performance.md.tmp docs/performance.md
  echo "bench: recorded $report" >&2
  exit 0
fi
OUT=${1:-bench-results}
REPS=${REPS:-5}
EPOCHS=${EPOCHS:-4} # per run; the first warms up, the median of the rest is timed
bash scripts/deps.sh bench
[ -x build/descent ] || bash scripts/build.sh
mkdir -p "$OUT"
gcc -O2 -o "$OUT/ceiling" scripts/bench/ceiling.c -lopenblas
gcc -O2 -pthread -o "$OUT/pingpong" scripts/bench/pingpong.c
PY=/usr/bin/python3
D=./build/descent
MPI=(mpirun)
if mpirun --version 2>&1 | grep -q "Open MPI"; then
  [ "$(id -u)" -eq 0 ] && MPI+=(--allow-run-as-root)
fi
DATA=(--data /usr/share/datasets/fashion-mnist)
NET=(--layers 784,256,128,10 --activation relu --output-activation softmax --cost xent --optimizer gd --lr 0.1)
WIDE=(--layers 784,1024,1024,10 --activation relu --output-activation softmax --cost xent --optimizer gd --lr 0.05)
# the environments the peers run in: as this machine sets it, and unset
if [ -n "${OPENBLAS_CORETYPE:-}${OPENBLAS_L2_SIZE:-}" ]; then
  ENVS=(set unset)
else
  ENVS=(unset)  # this machine's environment does not set them: one column
  echo "note: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are not set here; peers run once" >&2
fi
in_env() { # env-name command...
  if [ "$1" = set ]; then shift; "$@"; else shift; env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@"; fi
}

RAW=$OUT/raw.csv
echo "name,env,batch,rep,seconds_per_epoch,samples_per_s,gflops,comm_share,peak_rss_mb,launch_to_first_step_s" >"$RAW"
flops_per_sample() { # widths... (comma list): fwd + weight grad (2 each) + input deltas past layer 1
  awk -v w="$1" 'BEGIN{n=split(w,a,","); s=0; d=0; for(i=1;i<n;i++){s+=a[i]*a[i+1]; if(i>1) d+=a[i]*a[i+1]} print 4*s+2*d}'
}
F_STD=$(flops_per_sample 784,256,128,10)
F_WIDE=$(flops_per_sample 784,1024,1024,10)

median_epoch() { # csv-file seconds-column lines-to-skip: of the lines after
  # the skipped ones (a header, the warm-up epoch), the one with the median seconds
  tail -n +"$(($3 + 1))" "$1" | sort -t, -g -k"$2","$2" | awk '{l[NR] = $0} END {print l[int((NR + 1) / 2)]}'
}
descent_run() { # name batch rep flops launcher...
  local name=$1 b=$2 rep=$3 f=$4; shift 4
  local t0; t0=$(date +%s.%N)
  "$@" "$D" train "${DATA[@]}" --batch "$b" --epochs "$EPOCHS" --quiet --stats --metrics "$OUT/m.csv" \
    "${NETARGS[@]}" >/dev/null 2>"$OUT/stats.txt"
  local rss first
  rss=$(awk '/^stats:/{if($5>m)m=$5} END{print m}' "$OUT/stats.txt")
  first=$(awk '/^stats: rank 0/{print $7}' "$OUT/stats.txt")
  median_epoch "$OUT/m.csv" 7 2 | awk -F, -v n="$name" -v b="$b" -v r="$rep" -v f="$f" -v rss="$rss" \
    -v l="$(awk -v a="$first" -v b="$t0" 'BEGIN{print a-b}')" \
    '{printf "%s,-,%d,%d,%.4f,%.1f,%.2f,%.4f,%s,%.3f\n", n, b, r, $7, $6, $6*f/1e9, $9/$7, rss, l}' >>"$RAW"
}
torch_run() { # name env batch rep command...
  local name=$1 e=$2 b=$3 rep=$4; shift 4
  # EPOCHS epochs: the first warms up, the median of the others is timed
  in_env "$e" "$@" >"$OUT/t.csv"
  median_epoch "$OUT/t.csv" 4 1 | awk -F, -v n="$name" -v e="$e" -v r="$rep" -v f="$F_STD" \
    '{printf "%s,%s,%d,%d,%.4f,%.1f,%.2f,,,\n", n, e, $3, r, $4, $5, $5*f/1e9}' >>"$RAW"
}

# the cores' distance before and after each repetition (scripts/bench/pingpong.c)
PING=$OUT/pingpong.csv
echo "rep,when,round_trip_ns" >"$PING"
pingpong() { "$OUT/pingpong" | awk -F, -v r="$1" -v w="$2" '{print r "," w "," $2}' >>"$PING"; }
for rep in $(seq 1 "$REPS"); do
  pingpong "$rep" before
  for b in 64 256; do
    NETARGS=("${NET[@]}")
    descent_run "descent 1x1" $b $rep "$F_STD" env OMP_NUM_THREADS=1
    descent_run "descent 1x2" $b $rep "$F_STD" env OMP_NUM_THREADS=2 OMP_PROC_BIND=close OMP_PLACES=cores
    descent_run "descent 2x1" $b $rep "$F_STD" env OMP_NUM_THREADS=1 "${MPI[@]}" -n 2 --bind-to core
    descent_run "descent 2x1 vader-nocopy" $b $rep "$F_STD" env OMP_NUM_THREADS=1 "${MPI[@]}" -n 2 \
      --bind-to core --mca btl_vader_single_copy_mechanism none
    NETARGS=("${NET[@]}" --float-sums)
    descent_run "descent 1x1 float sums" $b $rep "$F_STD" env OMP_NUM_THREADS=1
    descent_run "descent 1x2 float sums" $b $rep "$F_STD" env OMP_NUM_THREADS=2 OMP_PROC_BIND=close OMP_PLACES=cores
    descent_run "descent 2x1 float sums" $b $rep "$F_STD" env OMP_NUM_THREADS=1 "${MPI[@]}" -n 2 --bind-to core
    NETARGS=("${NET[@]}")
    for e in "${ENVS[@]}"; do
      torch_run "torch 1 core" "$e" $b $rep taskset -c 0 env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
        $PY scripts/bench/torch_bench.py single $b "$EPOCHS" 1
      torch_run "torch 2 cores (1 torch + 2 BLAS threads)" "$e" $b $rep env OPENBLAS_NUM_THREADS=2 \
        $PY scripts/bench/torch_bench.py single $b "$EPOCHS" 1
      torch_run "torch 2 cores (2 threads; passive wait)" "$e" $b $rep env OMP_WAIT_POLICY=PASSIVE \
        OPENBLAS_NUM_THREADS=1 $PY scripts/bench/torch_bench.py single $b "$EPOCHS" 2
      [ $b = 64 ] && torch_run "torch DDP gloo 2x1" "$e" $b $rep env OPENBLAS_NUM_THREADS=1 \
        OMP_NUM_THREADS=1 $PY scripts/bench/torch_bench.py ddp $b "$EPOCHS"
      for t in 1 2; do
        in_env "$e" "$OUT/ceiling" $t $b 100 | awk -F, -v e="$e" -v r="$rep" -v f="$F_STD" -v t=$t \
          '{printf "OpenBLAS ceiling %d thread%s,%s,%d,%d,%.4f,%.1f,%.2f,,,\n", t, (t > 1 ? "s" : ""), e, $3, r, $5, 60000 / $5, $4}' >>"$RAW"
      done
    done
  done
  NETARGS=("${WIDE[@]}")
  descent_run "descent 1x2 wide 784-1024-1024-10" 256 $rep "$F_WIDE" env OMP_NUM_THREADS=2 OMP_PROC_BIND=close OMP_PLACES=cores
  pingpong "$rep" after
  echo "bench: repetition $rep of $REPS done" >&2
done
rm -f "$OUT/m.csv" "$OUT/t.csv" "$OUT/stats.txt"
$PY scripts/bench/summarize.py "$RAW" "$OUT/summary.csv"
echo
echo "core-to-core round trip of a cache line (ns), before and after each repetition:"
awk -F, 'NR > 1 {printf "%s%s %s", (NR > 2 ? ", " : "  "), $1 ":" $2, $3} END {print ""}' "$PING"
echo "  (tens of ns: the two cores share a cache; hundreds: they are far apart on"
echo "  the host, and whatever passes data between them, ranks or threads, slows)"

# The layer kernels alone (scripts/bench/kernels.c): best call of 2000, data
# in cache, 1 and 2 threads; where the step's time goes without the rest of
# training (gather, cost, update, reduction, thread hand-offs).
cmake --build build --target kernel_bench >/dev/null
for b in 64 256; do
  for t in 1 2; do
    OMP_NUM_THREADS=$t OMP_PROC_BIND=close OMP_PLACES=cores build/kernel_bench $b 2000 \
      >"$OUT/kernels-b$b-t$t.csv"
  done
done
$PY - "$OUT" <<'PY'
import csv, sys
out = sys.argv[1]
cols = [(64, 1), (64, 2), (256, 1), (256, 2)]
rows, rate = {}, {}
for b, t in cols:
    for r in csv.reader(open(f"{out}/kernels-b{b}-t{t}.csv")):
        if r[0] == "kernel":
            continue
        key = (r[0], r[1], r[2], r[3])
        rows.setdefault(key, {})[(b, t)] = r[6]
print("\nkernels alone (GFLOP/s of the best of 2000 calls, data in cache):")
print(f"{'kernel':18} {'layer':>5} {'in x out':>10}" + "".join(f"  b{b:<3} {t}T" for b, t in cols))
for (k, l, i, o), v in rows.items():
    io = f"{i}x{o}" if k != "step" else ""
    print(f"{k:18} {l:>5} {io:>10}" + "".join(f"  {v[c]:>7}" for c in cols))
PY

# Each kernel set this CPU runs (DESCENT_ISA), the step's kernels alone at
# one thread: what the portable build's choice gives against the others.
echo
echo "kernel sets (the step's kernels alone, 1 thread, samples/s of the best of 2000 calls):"
for set in avx512 avx2 baseline native; do
  DESCENT_ISA=$set build/descent --version >/dev/null 2>&1 || continue
  line="  $set:"
  for b in 64 256; do
    rate=$(DESCENT_ISA=$set OMP_NUM_THREADS=1 build/kernel_bench $b 2000 |
      awk -F, '$1 == "step" {split($8, s, " "); print s[1]}')
    line="$line  b$b $rate"
  done
  echo "$line"
done
echo "  (in use here: $(build/descent --version | sed -n 's/^kernels: //p'))"
