#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Checkpoints never lose training:
#  1. k epochs + resume to N == N epochs in one go, bit for bit (model file)
#  2. resume from a mid-epoch checkpoint, likewise; --keep-checkpoints K keeps K
#  3. a corrupted (bit flip) or truncated checkpoint is refused, naming the file
#  4. SIGTERM: the run finishes its step, checkpoints, exits 3; resuming gives
#     the uninterrupted run's model bit for bit; with --metrics, one file
#     holds every epoch once across the stop and the resume (the first run's
#     command line resumes it, and a conflicting option is refused)
#  5. kill -9 of an `mpirun -n 2` run at an arbitrary moment (maybe while a
#     checkpoint is being written): the newest checkpoint loads, and resuming
#     on 2 ranks gives the uninterrupted 2-rank model bit for bit
#  6. reproducible mode: 1 rank for 2 epochs, resumed on 2 ranks, == 1 rank
#     straight through, bit for bit
#  7. a resume on other data is refused naming what differs (fewer samples
#     by --limit, another --val-fraction, another file of the same size);
#     the first run's data options resume it
# Usage: checkpoint_test.sh descent mpiexec numproc-flag
set -u
D=$1; MPIEXEC=$2; NP=$3
T=$(mktemp -d /tmp/descent_ckpt.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/testlib.sh"
same() { if cmp -s "$1" "$2"; then ok; else fail "$3: $1 and $2 differ"; fi; }
wait_for_checkpoint() { # the run is under way once its first checkpoint exists
  for i in $(seq 1 600); do
    ls "$1"/ckpt-*.dsc >/dev/null 2>&1 && return; sleep 0.1
  done
  fail "no checkpoint appeared in $1 within 60 s"
}
export OMP_NUM_THREADS=1

# data: a 600-sample 3-class CSV problem
blobs "$T/d.csv" 600 8 .6 3
A=(--train-csv "$T/d.csv" --layers 8,16,3 --activation tanh --output-activation softmax --cost xent
   --batch 32 --optimizer adam --lr 0.01 --quiet)

# 1. epoch boundary
"$D" train "${A[@]}" --epochs 6 --out "$T/full6.model" >/dev/null || fail "straight run"
"$D" train "${A[@]}" --epochs 3 --checkpoint-dir "$T/c1" --checkpoint-every 1e >/dev/null || fail "first half"
"$D" train --train-csv "$T/d.csv" --quiet --resume "$T/c1" --epochs 6 --out "$T/resumed6.model" >/dev/null \
  || fail "resume"
same "$T/full6.model" "$T/resumed6.model" "resume at an epoch boundary"

# 2. mid-epoch (19 steps per epoch; step 25 is inside epoch 2), and keep K
"$D" train "${A[@]}" --epochs 3 --checkpoint-dir "$T/c2" --checkpoint-every 5 --keep-checkpoints 100 >/dev/null
"$D" train --train-csv "$T/d.csv" --quiet --resume "$T/c2/ckpt-000000000025.dsc" --epochs 6 --out "$T/mid6.model" >/dev/null \
  || fail "resume mid-epoch"
same "$T/full6.model" "$T/mid6.model" "resume in the middle of an epoch"
"$D" train "${A[@]}" --epochs 3 --checkpoint-dir "$T/c3" --checkpoint-every 5 --keep-checkpoints 2 >/dev/null
n=$(ls "$T/c3" | wc -l)
[ "$n" -eq 2 ] && ok || fail "--keep-checkpoints 2 left $n files"
# the first run's own command line resumes it; a changed hyper-parameter or
# network is refused, naming the option and both values
"$D" train "${A[@]}" --resume "$T/c1" --epochs 6 --out "$T/same-line.model" >/dev/null 2>"$T/e" \
  && ok || fail "resume with the first run's options: $(cat "$T/e")"
same "$T/full6.model" "$T/same-line.model" "resume with the first run's options"
"$D" train "${A[@]}" --resume "$T/c1" --lr 0.5 >/dev/null 2>"$T/e"; rc=$?
[ $rc -eq 2 ] && grep -q "option --lr: 0.5 differs from the checkpoint's 0.01" "$T/e" && ok \
  || fail "resume with --lr: exit $rc $(cat "$T/e")"
"$D" train "${A[@]}" --resume "$T/c1" --layers 8,32,3 >/dev/null 2>"$T/e"; rc=$?
[ $rc -eq 2 ] && grep -q "option --layers: 8,32,3 differs from the checkpoint's 8,16,3" "$T/e" && ok \
  || fail "resume with --layers: exit $rc $(cat "$T/e")"

# 3. corruption
last=$(ls "$T/c2" | tail -1)
cp "$T/c2/$last" "$T/flip.dsc"
printf '\x55' | dd of="$T/flip.dsc" bs=1 seek=300 conv=notrunc 2>/dev/null
"$D" train --train-csv "$T/d.csv" --quiet --resume "$T/flip.dsc" --out "$T/x.model" >/dev/null 2>"$T/e"; rc=$?
[ $rc -eq 2 ] && grep -q "flip.dsc: checksum mismatch" "$T/e" && [ ! -e "$T/x.model" ] && ok \
  || fail "bit flip: exit $rc: $(cat "$T/e")"
head -c 1000 "$T/c2/$last" >"$T/short.dsc"
"$D" train --train-csv "$T/d.csv" --quiet --resume "$T/short.dsc" >/dev/null 2>"$T/e"; rc=$?
[ $rc -eq 2 ] && grep -q "short.dsc: " "$T/e" && ok || fail "truncated: exit $rc: $(cat "$T/e")"
"$D" train --train-csv "$T/d.csv" --quiet --resume "$T/empty" >/dev/null 2>"$T/e"; rc=$?
[ $rc -eq 2 ] && ok || fail "missing checkpoint: exit $rc"

# 4. SIGTERM, one process. The interrupted runs are given more epochs than
# they could finish, so the signal always finds them training; they are then
# resumed with --epochs set a little past where they stopped, and compared
# with a straight run of that many epochs (constant learning rate: the
# trajectory does not depend on the planned number of epochs).
B=(--train-csv "$T/d.csv" --layers 8,64,64,3 --activation tanh --output-activation softmax --cost xent
   --batch 8 --optimizer momentum --lr 0.01 --quiet)
SPE=75 # steps per epoch: 600 samples, batch 8
"$D" train "${B[@]}" --epochs 1000000 --checkpoint-dir "$T/c4" --checkpoint-every 1000 --out "$T/x.model" >/dev/null 2>"$T/e" &
pid=$!
wait_for_checkpoint "$T/c4"
kill -TERM $pid
wait $pid; rc=$?
stopped=$(sed -n 's/.*stopped on request after epoch \([0-9]*\),.*/\1/p' "$T/e")
if [ $rc -eq 3 ] && [ -n "$stopped" ] && grep -q "the model so far written to $T/x.model" "$T/e"; then ok
else fail "SIGTERM: exit $rc (want 3): $(cat "$T/e")"; fi
# --out holds the stopped run's model: the model section of its last
# checkpoint (after the magic and version; a model file ends in its crc32)
last=$(ls "$T/c4"/ckpt-*.dsc | sort -V | tail -1)
body=$(( $(stat -c %s "$T/x.model") - 4 ))
if cmp -s <(head -c $body "$T/x.model") <(tail -c +13 "$last" | head -c $body); then ok
else fail "SIGTERM: --out is not the model of the last checkpoint $last"; fi
E4=$(( ${stopped:-1} + 2 ))
"$D" train "${B[@]}" --epochs $E4 --out "$T/long.model" >/dev/null || fail "uninterrupted run of $E4 epochs"
"$D" train --train-csv "$T/d.csv" --quiet --resume "$T/c4" --epochs $E4 --out "$T/long-resumed.model" >/dev/null 2>"$T/e" \
  || fail "resume after SIGTERM: $(cat "$T/e")"
same "$T/long.model" "$T/long-resumed.model" "SIGTERM then resume"

# 4b. --metrics across a stop and a resume: one file, every epoch once
M=(--checkpoint-dir "$T/c7" --checkpoint-every 1e --metrics "$T/m.csv")
"$D" train "${B[@]}" --epochs 1000000 "${M[@]}" >/dev/null 2>"$T/e" &
pid=$!
for i in $(seq 1 600); do [ "$(ls "$T/c7" 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.1; done
kill -USR1 $pid
wait $pid; rc=$?
stopped=$(sed -n 's/.*stopped on request after epoch \([0-9]*\),.*/\1/p' "$T/e")
[ $rc -eq 3 ] && [ -s "$T/m.csv" ] && ok || fail "stop with --metrics: exit $rc, $(ls "$T")"
E7=$(( ${stopped:-1} + 2 ))
"$D" train "${B[@]}" --epochs $E7 "${M[@]}" --resume "$T/c7" >/dev/null 2>"$T/e" || fail "resume with --metrics: $(cat "$T/e")"
epochs=$(tail -n +2 "$T/m.csv" | cut -d, -f1 | tr '\n' ' ')
[ "$epochs" = "$(seq -s ' ' 1 $E7) " ] && ok || fail "metrics after stop and resume: epochs $epochs (want 1..$E7)"

# 5. kill -9 of an mpirun -n 2 run, then resume on 2 ranks
setsid "$MPIEXEC" $NP 2 "$D" train "${B[@]}" --epochs 1000000 --checkpoint-dir "$T/c5" --checkpoint-every 50 >/dev/null 2>&1 &
pid=$!
wait_for_checkpoint "$T/c5"
sleep 0.$((RANDOM % 10)) # an arbitrary moment: perhaps while a checkpoint is being written
kill -9 -- -$pid 2>/dev/null || kill -9 $pid
wait $pid 2>/dev/null
sleep 0.5
pkill -9 -f "$T/c5" 2>/dev/null
newest=$(ls "$T/c5" 2>/dev/null | grep -E '^ckpt-[0-9]+\.dsc$' | tail -1)
step=$(echo "$newest" | sed 's/^ckpt-0*\([0-9]*\)\.dsc$/\1/')
[ -n "$newest" ] && ok || fail "kill -9: no checkpoint left in $T/c5"
E5=$(( ${step:-0} / SPE + 2 ))
"$MPIEXEC" $NP 2 "$D" train "${B[@]}" --epochs $E5 --out "$T/long2.model" >/dev/null 2>"$T/e" \
  || fail "2-rank run of $E5 epochs: $(cat "$T/e")"
"$MPIEXEC" $NP 2 "$D" train --train-csv "$T/d.csv" --quiet --resume "$T/c5" --epochs $E5 --out "$T/long2-resumed.model" >/dev/null 2>"$T/e" \
  || fail "resume after kill -9: $(cat "$T/e")"
same "$T/long2.model" "$T/long2-resumed.model" "kill -9 then resume on 2 ranks"

# 6. reproducible: resume on a different number of ranks
R=(--train-csv "$T/d.csv" --layers 8,16,3 --activation relu --output-activation softmax --cost xent
   --batch 50 --optimizer adam --lr 0.01 --quiet --reproducible)
"$D" train "${R[@]}" --epochs 4 --out "$T/r1.model" >/dev/null || fail "reproducible straight"
"$D" train "${R[@]}" --epochs 2 --checkpoint-dir "$T/c6" --checkpoint-every 1e >/dev/null || fail "reproducible half"
"$MPIEXEC" $NP 2 "$D" train --train-csv "$T/d.csv" --quiet --resume "$T/c6" --epochs 4 --out "$T/r2.model" >/dev/null 2>"$T/e" \
  || fail "reproducible resume on 2 ranks: $(cat "$T/e")"
same "$T/r1.model" "$T/r2.model" "reproducible: 1 rank, then resumed on 2 ranks"

# 6b. --standardize: the statistics are the same on any ranks (reproducible:
# the same bytes), travel in the checkpoint, and a raw run cannot start
# standardising on resume
"$D" train "${R[@]}" --standardize --val-fraction 0.2 --epochs 2 --out "$T/s1.model" --checkpoint-dir "$T/cs" --checkpoint-every 1e >/dev/null \
  || fail "--standardize on 1 rank"
"$MPIEXEC" $NP 2 "$D" train "${R[@]}" --standardize --val-fraction 0.2 --epochs 2 --out "$T/s2.model" >/dev/null 2>"$T/e" \
  || fail "--standardize on 2 ranks: $(cat "$T/e")"
same "$T/s1.model" "$T/s2.model" "--standardize, reproducible: 1 rank and 2 ranks"
"$D" train --train-csv "$T/d.csv" --quiet --val-fraction 0.2 --resume "$T/cs" --epochs 3 --out "$T/s3.model" >/dev/null 2>"$T/e" \
  && "$D" info "$T/s3.model" | grep -q '^inputs: standardized' && ok || fail "a resumed --standardize run: $(cat "$T/e")"
"$D" train --train-csv "$T/d.csv" --quiet --resume "$T/c6" --epochs 4 --standardize >/dev/null 2>"$T/e"
[ $? -eq 2 ] && grep -q "option --standardize: the checkpoint's run in .*c6 was trained on raw inputs" "$T/e" && ok \
  || fail "--standardize on resuming a raw run: $(cat "$T/e")"

# 7. other data: the checkpoint knows its training and validation sets
"$D" train "${A[@]}" --limit 500 --val-fraction 0.2 --epochs 1 --checkpoint-dir "$T/cdata" --checkpoint-every 1e >/dev/null \
  || fail "the run with --limit 500 --val-fraction 0.2"
blobs "$T/other.csv" 600 8 .6 4
for case in "|training set was 400 samples .* this run's is 600 samples" \
            "--limit 500|training set was 400 samples .* this run's is 500 samples" \
            "--limit 500 --val-fraction 0.3|training set was 400 samples .* this run's is 350 samples" \
            "--limit 500 --val-fraction 0.2 --other|training set was 400 samples of 8 features, checksum [0-9a-f/]*, this run's is 400 samples of 8 features, checksum"; do
  opts=${case%%|*}; want=${case#*|}
  data="$T/d.csv"; case "$opts" in *--other*) data="$T/other.csv"; opts=${opts% --other};; esac
  # shellcheck disable=SC2086
  "$D" train --train-csv "$data" --quiet --resume "$T/cdata" --epochs 2 $opts --out "$T/other.model" >/dev/null 2>"$T/e"
  rc=$?
  if [ "$rc" -eq 2 ] && [ "$(wc -l <"$T/e")" -eq 1 ] && grep -Eq "cannot resume on other data: the checkpoint's $want" "$T/e" \
     && [ ! -e "$T/other.model" ]; then ok
  else fail "resume with '$opts' on $(basename "$data"): exit $rc: $(cat "$T/e")"; fi
done
"$D" train "${A[@]}" --limit 500 --val-fraction 0.2 --resume "$T/cdata" --epochs 2 >/dev/null 2>"$T/e" && ok \
  || fail "the first run's data options did not resume it: $(cat "$T/e")"

finish "checkpoints"
