#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Several hosts for real: ranks in the emulated cluster's network namespaces
# (scripts/cluster/up.sh), Open MPI over TCP between them.
#   multinode_test.sh up ROOT                      bring up 3 hosts at 10 Gbit/s
#   multinode_test.sh down ROOT                    remove them
#   multinode_test.sh equiv ROOT EQUIV OUT REF     test_mpi_equiv: 3 hosts x 1 rank x 2
#                                                  threads, and 2 hosts x 2 ranks x 1
#                                                  thread, against one process's REF
#   multinode_test.sh reproducible ROOT DESCENT    --reproducible: the same model bytes
#                                                  on 1 process and across hosts; the
#                                                  overlapped reduction gives the
#                                                  --no-overlap bytes
#   multinode_test.sh failure ROOT DESCENT         a bad file on one host's rank ends
#                                                  every rank on every host within
#                                                  10 s, one message
#   multinode_test.sh slurm ROOT DESCENT           a SLURM over the hosts: a 2-node job
#                                                  stopped by SIGUSR1 checkpoints,
#                                                  requeues, resumes and completes
#                                                  with its metrics whole
# Needs root and network namespaces: skips (77) with the reason otherwise.
set -u
what=$1; ROOT=$2; shift 2
C="$ROOT/scripts/cluster"
. "$ROOT/tests/testlib.sh"
if [ "$(id -u)" -ne 0 ]; then echo "skipped: the emulated cluster needs root"; exit 77; fi
if ! ip netns add dsc-probe 2>/dev/null; then echo "skipped: network namespaces are not permitted here"; exit 77; fi
ip netns del dsc-probe
case "$what" in
  up) bash "$C/up.sh" 3 10gbit; exit ;;
  down) bash "$C/down.sh"; exit ;;
esac
[ -f /run/descent-cluster/mpirun.args ] || { echo "FAIL: the cluster is not up"; exit 1; }
T=$(mktemp -d /tmp/descent_multinode.XXXXXX)
trap 'rm -rf "$T"' EXIT
export OMP_WAIT_POLICY=passive
launch() { timeout 120 bash "$C/mpirun.sh" "$@"; }

case "$what" in
equiv)
  EQUIV=$1; OUT=$2; REF=$3
  launch -n 3 --map-by ppr:1:node -x OMP_NUM_THREADS=2 -x OMP_WAIT_POLICY "$EQUIV" "$OUT.3x2" "$REF" >"$T/log" 2>&1 \
    && ok || fail "3 hosts x 1 rank x 2 threads: $(tail -5 "$T/log")"
  launch -n 4 --map-by ppr:2:node -x OMP_NUM_THREADS=1 -x OMP_WAIT_POLICY "$EQUIV" "$OUT.2x2" "$REF" >"$T/log" 2>&1 \
    && ok || fail "2 hosts x 2 ranks x 1 thread: $(tail -5 "$T/log")"
  # a gradient big enough that the hosts' sums race with the next step if
  # the host's ranks are released too early: every rank must stay identical
  D=$(dirname "$EQUIV")/../descent
  FM=/usr/share/datasets/fashion-mnist
  if [ -r "$FM/train-images-idx3-ubyte.gz" ]; then
    launch -n 4 --map-by ppr:2:node -x OMP_NUM_THREADS=1 -x OMP_WAIT_POLICY "$D" train --data "$FM" --limit 10000 \
      --layers 784,64,10 --activation relu --output-activation softmax --cost xent --epochs 2 --sync-check 10 --overlap --quiet \
      >"$T/log" 2>&1 && ok || fail "2 hosts x 2 ranks, Fashion-MNIST, sync check: $(grep -m1 descent "$T/log")"
    # uneven hosts (2 ranks and 1): every rank takes part in the same collectives
    launch -n 3 --map-by ppr:2:node -x OMP_NUM_THREADS=1 -x OMP_WAIT_POLICY \
      "$D" train --data "$FM" --limit 10000 --layers 784,64,10 --activation relu --output-activation softmax --cost xent \
      --epochs 2 --sync-check 10 --overlap --quiet >"$T/log" 2>&1 && ok || fail "2 ranks on one host, 1 on the other: $(grep -m1 descent "$T/log")"
  fi
  ;;
reproducible)
  D=$1
  blobs "$T/d.csv" 400 8 .6 3
  A=(train --train-csv "$T/d.csv" --layers 8,24,3 --activation relu --output-activation softmax --cost xent
     --batch 100 --epochs 5 --optimizer momentum --lr 0.05 --reproducible)
  OMP_NUM_THREADS=1 "$D" "${A[@]}" --out "$T/one.model" >/dev/null || fail "one process"
  launch -n 3 --map-by ppr:1:node -x OMP_NUM_THREADS=2 -x OMP_WAIT_POLICY "$D" "${A[@]}" --overlap --out "$T/three.model" \
    >"$T/log" 2>&1 || fail "3 hosts: $(tail -3 "$T/log")"
  launch -n 4 --map-by ppr:2:node -x OMP_NUM_THREADS=1 -x OMP_WAIT_POLICY "$D" "${A[@]}" --overlap --out "$T/four.model" \
    >"$T/log" 2>&1 || fail "2 hosts x 2 ranks: $(tail -3 "$T/log")"
  grep -q "4 ranks x 1 thread on dsc-h1 (2 ranks), dsc-h2 (2 ranks)" "$T/log" && ok \
    || fail "the ranks were not on two hosts: $(head -2 "$T/log")"
  # a rank per host without overlap: the integer sums by MPI alone
  launch -n 3 --map-by ppr:1:node -x OMP_NUM_THREADS=1 -x OMP_WAIT_POLICY "$D" "${A[@]}" --out "$T/three-mpi.model" \
    >"$T/log" 2>&1 || fail "3 hosts, no overlap: $(tail -3 "$T/log")"
  for m in three four three-mpi; do cmp -s "$T/one.model" "$T/$m.model" && ok || fail "$m: the model differs from one process's"; done
  # float sums overlapped with the backward pass (the first layer's gradient
  # in 2 pieces) against --no-overlap: 2 hosts x 1 rank sum a + b either
  # way, so the same bytes
  F=("${A[@]:0:${#A[@]}-1}" --overlap-piece 50)
  for ov in on off; do
    flag=--overlap; [ $ov = off ] && flag=--no-overlap
    launch -n 2 --map-by ppr:1:node -x OMP_NUM_THREADS=1 -x OMP_WAIT_POLICY "$D" "${F[@]}" $flag \
      --out "$T/overlap-$ov.model" >"$T/log" 2>&1 || fail "overlap $ov: $(tail -3 "$T/log")"
  done
  cmp -s "$T/overlap-on.model" "$T/overlap-off.model" && ok || fail "overlap changed the model across hosts"
  ;;
failure)
  D=$1
  blobs "$T/good.csv" 200 4 .3 3
  { head -50 "$T/good.csv"; echo "1,0.5,0.5"; tail -n +51 "$T/good.csv"; } >"$T/bad.csv"
  A=(train --layers 4,5,3 --epochs 200 --batch 8 --out "$T/out.model")
  t0=$(date +%s%N)
  launch -n 2 --map-by ppr:1:node -x OMP_NUM_THREADS=1 "$D" "${A[@]}" --train-csv "$T/good.csv" : \
    -n 1 --map-by ppr:1:node -x OMP_NUM_THREADS=1 "$D" "${A[@]}" --train-csv "$T/bad.csv" >"$T/out" 2>"$T/err"
  rc=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "a bad file on rank 2 (host dsc-h3): exit $rc after $ms ms"
  [ $rc -ne 0 ] && [ $rc -ne 124 ] && ok || fail "exit status $rc"
  [ $ms -lt 10000 ] && ok || fail "took $ms ms (limit 10 s)"
  msgs=$(grep -c '^descent train: ' "$T/err")
  [ "$msgs" -eq 1 ] && grep -q '^descent train: rank 2: .*bad.csv: line 51' "$T/err" && ok \
    || fail "expected one message from rank 2: $(cat "$T/err")"
  [ ! -e "$T/out.model" ] && ok || fail "an output file was left"
  left=$(for h in dsc-h1 dsc-h2 dsc-h3; do ip netns pids "$h"; done | wc -l)
  [ "$left" -eq 0 ] && ok || fail "$left processes left running in the hosts"
  ;;
slurm)
  D=$1
  for b in slurmctld slurmd sbatch scontrol munged mungekey; do
    command -v $b >/dev/null || { echo "skipped: $b not found (bash scripts/deps.sh slurm)"; exit 77; }
  done
  bash "$C/slurm-up.sh" >"$T/up.log" 2>&1 || { fail "SLURM did not start: $(tail -3 "$T/up.log")"; finish "multinode slurm"; exit; }
  . /run/descent-cluster/slurm/env
  chmod 755 "$T"
  blobs "$T/d.csv" 1200 6 .5 2
  # a 2-node job, stopped by SIGUSR1 mid-run: it checkpoints, the script
  # requeues it, and it resumes on the nodes and completes (as in
  # slurm_test.sh: EPOCHS is raised in the settings file once it stopped)
  echo "EPOCHS=1000000" >"$T/job.env"
  id=$(DESCENT="$D" DATA="--train-csv $T/d.csv --val-fraction 0.2" RUNS="$T/runs" DESCENT_SETTINGS="$T/job.env" \
       NETWORK="--layers 6,16,3 --activation tanh --output-activation softmax --cost xent" \
       HYPER="--batch 4 --optimizer momentum --lr 0.01" CHECKPOINT_EVERY=1e \
       sbatch --parsable --nodes=2 --ntasks-per-node=1 --cpus-per-task=1 --chdir="$T" \
       --output="$T/job-%j.out" --export=ALL "$ROOT/scripts/slurm/train.sbatch")
  out="$T/runs/descent-$id"
  for i in $(seq 1 300); do
    [ "$(ls "$out"/checkpoints/ckpt-*.dsc 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.2
  done
  scancel --signal=USR1 "$id"
  stopped=$(stopped_epoch "$out/train.log")
  [ -n "$stopped" ] && ok || fail "job $id did not stop on SIGUSR1: $(tail -5 "$out/train.log" "$T/job-$id.out" 2>/dev/null)"
  want=$(( ${stopped:-0} + 2 ))
  echo "EPOCHS=$want" >"$T/job.env"
  st=$(wait_job "$id" 240)
  [ "$st" = COMPLETED ] && [ "$(job_field "$id" ExitCode)" = 0:0 ] && ok \
    || fail "job $id: state $st: $(tail -8 "$T/job-$id.out" "$out/train.log" 2>/dev/null)"
  [ "$(job_field "$id" Restarts)" -ge 1 ] 2>/dev/null && ok || fail "job $id was not requeued"
  [ "$(grep -c "2 ranks x 1 thread on dsc-h1 (1 rank), dsc-h2 (1 rank)" "$out/train.log")" -ge 2 ] && ok \
    || fail "job $id: not on 2 hosts at both starts: $(grep '^descent' "$out/train.log")"
  epochs=$(tail -n +2 "$out/metrics.csv" 2>/dev/null | cut -d, -f1 | tr '\n' ' ')
  [ "$epochs" = "$(seq -s ' ' 1 $want) " ] && ok || fail "job $id: metrics epochs '$epochs', want 1..$want"
  cp "$out/metrics.csv" "${MULTINODE_KEEP:-/dev/null}" 2>/dev/null
  "$D" info --model "$out/model.dsc" >/dev/null 2>&1 && ok || fail "job $id: no model"
  ;;
*) echo "multinode_test.sh: unknown test '$what'" >&2; exit 2 ;;
esac
finish "multinode $what"
