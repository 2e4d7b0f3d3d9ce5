#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Failures under MPI end every rank, quickly, with one message naming the
# rank and the cause, and no output file:
#  1. a bad data file seen by rank 1 only (MPMD launch: rank 1 gets another path)
#  2. a bad data file seen by rank 0 only, 3 ranks
#  3. a non-finite loss (a feature of 1e30 overflows the forward pass):
#     training stops at the same step on every rank, with one message;
#  4. ranks launched on different data (MPMD): refused before the first
#     step, one message naming the ranks, exit 2;
#  5. ranks launched with different options (MPMD), one case per kind of
#     option (a number, a whole number, a flag, a choice, a fraction given
#     on one rank only, an output given on one rank only): refused before
#     any data is read, one message naming the option and both values,
#     exit 2, in bounded time;
#  6. a process started as one of several tasks whose MPI world has one
#     process (srun without PMI): refused, exit 2, naming the fix.
# Usage: mpi_fail_test.sh descent mpiexec numproc-flag
set -u
D=$1; MPIEXEC=$2; NP=$3
T=$(mktemp -d /tmp/descent_mpifail.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/testlib.sh"
for i in $(seq 0 199); do echo "$((i % 3)),0.$((i % 7)),0.$((i % 5)),0.$((i % 3)),0.5"; done >"$T/good.csv"
{ head -50 "$T/good.csv"; echo "1,0.5,0.5"; tail -n +51 "$T/good.csv"; } >"$T/bad.csv"
{ head -120 "$T/good.csv"; echo "1,1e30,0.5,0.5,0.5"; tail -n +121 "$T/good.csv"; } >"$T/huge.csv"
ARGS=(train --layers 4,5,3 --epochs 200 --batch 8 --out "$T/out.model" --metrics "$T/out.csv")

run() { # name, then the mpiexec arguments
  local name=$1; shift
  rm -f "$T"/out.*
  local t0 t1
  t0=$(date +%s%N)
  timeout 60 "$MPIEXEC" "$@" >"$T/stdout" 2>"$T/stderr"
  rc=$?
  t1=$(date +%s%N)
  elapsed_ms=$(( (t1 - t0) / 1000000 ))
  echo "$name: exit $rc after ${elapsed_ms} ms" >&2
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then fail "$name: exit status $rc"; else ok; fi
  if [ "$elapsed_ms" -lt 10000 ]; then ok; else fail "$name: took ${elapsed_ms} ms (limit 10 s)"; fi
  if ls "$T"/out.* >/dev/null 2>&1; then fail "$name: left $(ls "$T"/out.*)"; else ok; fi
}

run "bad file on rank 1" $NP 1 "$D" "${ARGS[@]}" --train-csv "$T/good.csv" : $NP 1 "$D" "${ARGS[@]}" --train-csv "$T/bad.csv"
msgs=$(grep -c '^descent train: ' "$T/stderr")
if [ "$msgs" -eq 1 ] && grep -q '^descent train: rank 1: .*bad.csv: line 51: 3 columns, expected 5' "$T/stderr"; then ok
else fail "bad file on rank 1: expected one message from rank 1: $(cat "$T/stderr")"; fi

run "bad file on rank 0 of 3" $NP 1 "$D" "${ARGS[@]}" --train-csv "$T/bad.csv" : $NP 2 "$D" "${ARGS[@]}" --train-csv "$T/good.csv"
msgs=$(grep -c '^descent train: ' "$T/stderr")
if [ "$msgs" -eq 1 ] && grep -q '^descent train: rank 0: .*bad.csv: line 51' "$T/stderr"; then ok
else fail "bad file on rank 0: expected one message from rank 0: $(cat "$T/stderr")"; fi

run "non-finite loss" $NP 2 "$D" train --layers 4,5,3 --activation identity --output-activation identity --epochs 3 --batch 16 --train-csv "$T/huge.csv" --out "$T/out.model" --metrics "$T/out.csv"
msgs=$(grep -c '^descent train: ' "$T/stderr")
if [ "$msgs" -eq 1 ] && grep -q '^descent train: rank 0: epoch 1, step [0-9]*: non-finite loss or gradient' "$T/stderr"; then ok
else fail "non-finite: expected one message, from rank 0, naming the step: $(cat "$T/stderr")"; fi
if grep -q "^epoch " "$T/stdout"; then fail "non-finite: an epoch was reported as finished"; else ok; fi

# the same file name, different contents on the two ranks (an MPMD launch)
{ head -100 "$T/good.csv"; } >"$T/first100.csv"
{ tail -100 "$T/good.csv"; } >"$T/last100.csv"
run "different data per rank" $NP 1 "$D" "${ARGS[@]}" --train-csv "$T/first100.csv" : $NP 1 "$D" "${ARGS[@]}" --train-csv "$T/last100.csv"
msgs=$(grep -c '^descent train: ' "$T/stderr")
if [ "$msgs" -eq 1 ] && grep -q '^descent train: rank 0: the ranks hold different training data (1 of 2 ranks differ' "$T/stderr" \
   && [ "$rc" -eq 2 ]; then ok
else fail "different data: expected exit 2 and one message naming the ranks (exit $rc): $(cat "$T/stderr")"; fi
if grep -q "^epoch " "$T/stdout"; then fail "different data: an epoch was trained"; else ok; fi

# 5. different options: rank 1's line has one more option (or another value)
for case in "--lr 0.5|option --lr: rank 0 was given nothing, rank 1 '0.5'" \
            "--epochs 3|option --epochs: rank 0 was given '200', rank 1 '3'" \
            "--overlap|option --overlap: rank 0 was given off, rank 1 on" \
            "--optimizer adam|option --optimizer: rank 0 was given nothing, rank 1 'adam'" \
            "--val-fraction 0.2|option --val-fraction: rank 0 was given nothing, rank 1 '0.2'" \
            "--keep-best $T/out.best|option --keep-best: rank 0 was given nothing, rank 1 a file name"; do
  extra=${case%%|*}; want=${case#*|}
  # shellcheck disable=SC2086
  run "options: $extra" $NP 1 "$D" "${ARGS[@]}" --train-csv "$T/good.csv" : $NP 1 "$D" "${ARGS[@]}" --train-csv "$T/good.csv" $extra
  msgs=$(grep -c '^descent train: ' "$T/stderr")
  if [ "$msgs" -eq 1 ] && grep -qF -- "rank 1: $want (every rank must be given the same options)" "$T/stderr" && [ "$rc" -eq 2 ]; then ok
  else fail "options $extra: expected exit 2 and one message '$want' (exit $rc): $(cat "$T/stderr")"; fi
done

# 6. one of several tasks of a launcher whose MPI this process does not
# share (srun --mpi=none sets only SLURM's count; PMI's without its plugin):
# refused before any data is read, naming the fix
for var in SLURM_STEP_NUM_TASKS=4 PMI_SIZE=2; do
  rm -f "$T"/out.*
  env "$var" timeout 60 "$D" "${ARGS[@]}" --train-csv "$T/missing.csv" >"$T/stdout" 2>"$T/stderr"
  rc=$?
  if [ "$rc" -eq 2 ] && [ "$(wc -l <"$T/stderr")" -eq 1 ] && grep -q "started as one of [0-9]* tasks (${var}), but MPI sees one process: .*srun --mpi=pmix" "$T/stderr" \
     && ! ls "$T"/out.* >/dev/null 2>&1; then ok
  else fail "a lone task ($var): exit $rc: $(cat "$T/stderr")"; fi
done

finish "mpi failures"
