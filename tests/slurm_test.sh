#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The real batch script on a real single-node SLURM started here: munged,
# slurmctld and slurmd with a private configuration; sbatch
# scripts/slurm/train.sbatch with 2 tasks on a small data set; poll the job;
# check its state, exit code, output and model. Then the same with a
# SIGUSR1 sent mid-run: descent checkpoints, the script requeues, the job
# resumes and completes. The daemons are stopped by their PIDs at the end.
# Exit 77 (skipped) where SLURM is not installed.
# Usage: slurm_test.sh descent repo-root
set -u
D=$1; ROOT=$2
for b in slurmctld slurmd sbatch scontrol munged mungekey; do
  if ! command -v $b >/dev/null 2>&1; then
    echo "skipped: $b not found (apt-get install slurmctld slurmd slurm-client munge)"; exit 77
  fi
done
S=$(mktemp -d /tmp/descent_slurm.XXXXXX)
chmod 755 "$S"
. "$(dirname "$0")/testlib.sh"
PIDS=()
cleanup() {
  scancel --quiet --user=root >/dev/null 2>&1 || true
  sleep 1
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 1
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  [ -n "${KEEP:-}" ] || rm -rf "$S"
}
trap cleanup EXIT

# ---- munge ----
. "$ROOT/scripts/slurm/private.sh"
pid=$(start_munge "$S") || { fail "munged did not start"; exit 1; }
PIDS+=("$pid")

# ---- slurm ----
HOST=$(hostname -s)
NODE=$(slurmd -C | head -1)
{
  slurm_conf "$S" descent-test "$HOST(127.0.0.1)" task/affinity
  echo "$NODE NodeAddr=127.0.0.1 State=UNKNOWN"
  echo "PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP"
} >"$S/slurm.conf"
sed -i 's/ UpTime=[^ ]*//' "$S/slurm.conf"
export SLURM_CONF=$S/slurm.conf
slurmctld -i || { fail "slurmctld did not start: $(tail -5 "$S/log/slurmctld.log")"; exit 1; }
sleep 0.5
mkdir -p "$S/spool/$HOST"
slurmd || { fail "slurmd did not start: $(tail -5 "$S/log/slurmd-$HOST.log")"; exit 1; }
for i in $(seq 1 50); do
  [ -s "$S/slurmctld.pid" ] && [ -s "$S/slurmd-$HOST.pid" ] && break; sleep 0.2
done
PIDS=("$(cat "$S/slurmd-$HOST.pid")" "$(cat "$S/slurmctld.pid")" "${PIDS[@]}")
for i in $(seq 1 100); do
  state=$(sinfo -h -o %T 2>/dev/null | head -1)
  [ "$state" = idle ] && break; sleep 0.2
done
[ "$state" = idle ] && ok || { fail "node not idle: '$state' $(tail -3 "$S/log/slurmctld.log")"; exit 1; }

# ---- data ----
blobs "$S/d.csv" 1200 6 .5 2

submit() { # extra sbatch args...; the script's variables travel in the
  # environment (sbatch --export=VAR=value would split values at commas)
  DESCENT="$D" DATA="--train-csv $S/d.csv --val-fraction 0.2" RUNS="$S/runs" \
  NETWORK="--layers 6,16,3 --activation tanh --output-activation softmax --cost xent" \
    sbatch --parsable --ntasks-per-node=2 --cpus-per-task=1 --chdir="$S" --output="$S/job-%j.out" \
    --export=ALL "$@" "$ROOT/scripts/slurm/train.sbatch"
}

# ---- 1. a job runs to completion on 2 tasks ----
id=$(HYPER="--batch 32 --optimizer adam --lr 0.01" EPOCHS=20 submit)
[ -n "$id" ] && ok || { fail "sbatch gave no job id"; exit 1; }
st=$(wait_job "$id" 120)
ec=$(job_field "$id" ExitCode)
out="$S/runs/descent-$id"
[ "$st" = COMPLETED ] && [ "$ec" = 0:0 ] && ok || fail "job $id: state $st exit $ec: $(cat "$S/job-$id.out" "$out/train.log" 2>/dev/null | tail -8)"
grep -q "done; model" "$S/job-$id.out" && ok || fail "job $id: output lacks the completion line"
grep -q "descent 0.1.0: 2 ranks x 1 thread" "$out/train.log" && ok || fail "job $id: not 2 ranks: $(head -3 "$out/train.log")"
"$D" info --model "$out/model.dsc" >/dev/null 2>&1 && ok || fail "job $id: no loadable model at $out/model.dsc"
[ "$(wc -l <"$out/metrics.csv")" -eq 21 ] && ok || fail "job $id: metrics has $(wc -l <"$out/metrics.csv") lines"
acc=$(sed -n 's/.*val-acc \([0-9.]*\).*/\1/p' "$out/train.log" | tail -1)
python3 -c "import sys; sys.exit(0 if float('${acc:-0}') > 0.9 else 1)" && ok || fail "job $id: validation accuracy ${acc:-none}"

# ---- 2. SIGUSR1 mid-run: checkpoint, requeue, resume, complete ----
# The first run is given more epochs than it could finish in the test's
# time, so the signal always finds it training. Once it has stopped, the
# test sets EPOCHS in the job's settings file (read again at the restart)
# to a few epochs past the one it stopped in; a requeued job cannot start
# before cred_expire (10 s) has passed, long before this edit.
echo "EPOCHS=1000000" >"$S/job2.env"
id=$(HYPER="--batch 4 --optimizer momentum --lr 0.01" CHECKPOINT_EVERY=1000 DESCENT_SETTINGS="$S/job2.env" submit)
out="$S/runs/descent-$id"
for i in $(seq 1 300); do
  ls "$out"/checkpoints/ckpt-*.dsc >/dev/null 2>&1 && break; sleep 0.2
done
scancel --signal=USR1 "$id"
stopped=$(stopped_epoch "$out/train.log")
[ -n "$stopped" ] && ok || fail "job $id did not stop on SIGUSR1: $(tail -5 "$out/train.log" 2>/dev/null)"
want=$(( ${stopped:-0} + 3 ))
echo "EPOCHS=$want" >"$S/job2.env"
st=$(wait_job "$id" 240)
ec=$(job_field "$id" ExitCode)
restarts=$(job_field "$id" Restarts)
[ "$st" = COMPLETED ] && [ "$ec" = 0:0 ] && ok || fail "requeued job $id: state $st exit $ec: $(tail -8 "$S/job-$id.out")"
[ "${restarts:-0}" -ge 1 ] && ok || fail "job $id was not requeued (Restarts=${restarts:-?})"
grep -q "resuming from .*: epoch ${stopped:-x}, step [1-9]" "$out/train.log" && ok \
  || fail "job $id: no resume from epoch ${stopped:-?} in the log: $(grep -i resum "$out/train.log" | tail -3)"
grep -q "^epoch *$want/$want " "$out/train.log" && ok \
  || fail "job $id: the resumed run did not reach epoch $want: $(tail -3 "$out/train.log")"
"$D" info --model "$out/model.dsc" >/dev/null 2>&1 && ok || fail "job $id: no model after the requeue"
# the metrics file holds every epoch once across the stop and the restart
epochs=$(tail -n +2 "$out/metrics.csv" 2>/dev/null | cut -d, -f1 | tr '\n' ' ')
[ "$epochs" = "$(seq -s ' ' 1 $want) " ] && ok || fail "job $id: metrics epochs '$epochs', want 1..$want"

# ---- 3. a sweep as an array job, with the checkout's own descent found by
# the script (DESCENT unset) ----
ids=$(DESCENT="" SWEEP="--lr 0.05;--lr 0.2" HYPER="--batch 32" EPOCHS=2 submit --array=0-1)
base=${ids%%;*}
for t in 0 1; do
  st=$(wait_job "${base}_$t" 120)
  [ "$st" = COMPLETED ] && ok || fail "array task $t: state $st: $(cat "$S"/job-*.out 2>/dev/null | tail -5)"
done
lrs=$(cat "$S"/runs/descent-*/train.log | sed -n 's/.* lr \([0-9.]*\), batch 32, 2 epochs.*/\1/p' | sort | tr '\n' ' ')
[ "$lrs" = "0.05 0.2 " ] && ok || fail "array tasks trained with lr '$lrs', want 0.05 and 0.2"

finish "slurm"
