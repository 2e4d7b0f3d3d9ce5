#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The build without MPI (DESCENT_WITH_MPI=OFF): the descent binary links no
# MPI library, trains as one process, and refuses with one clear line (exit
# 1) to start as one of several ranks, where every process would train the
# whole model alone.
# Usage: serial_test.sh path/to/descent
set -u
D=$1
T=$(mktemp -d /tmp/descent_serial.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/testlib.sh"

needed=$(readelf -d "$D" | grep NEEDED)
if echo "$needed" | grep -qi mpi; then fail "links an MPI library: $needed"; else ok; fi

printf '0,0,0\n1,0,1\n1,1,0\n0,1,1\n' >"$T/xor.csv"
if "$D" train --train-csv "$T/xor.csv" --test-csv "$T/xor.csv" --layers 2,8,2 --batch 4 --epochs 300 --lr 4 --quiet \
     --out "$T/xor.model" >"$T/out" 2>"$T/err" && grep -q "test accuracy: 1.0000" "$T/out"; then
  ok
else
  fail "xor did not train: $(cat "$T/out" "$T/err")"
fi

OMPI_COMM_WORLD_SIZE=2 "$D" train --train-csv "$T/xor.csv" --quiet >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -eq 1 ] && ok || fail "as one of 2 ranks: exit $rc, expected 1"
[ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "built without MPI" "$T/err" && ok \
  || fail "as one of 2 ranks: stderr was: $(cat "$T/err")"
# srun without MPI (--mpi=none): only the step's task count says so
SLURM_STEP_NUM_TASKS=4 "$D" train --train-csv "$T/xor.csv" --quiet --out "$T/lone.model" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -eq 2 ] && [ ! -e "$T/lone.model" ] && [ "$(wc -l <"$T/err")" -eq 1 ] \
  && grep -q "started as one of 4 tasks (SLURM_STEP_NUM_TASKS=4), but this descent was built without MPI" "$T/err" \
  && ok || fail "as one of 4 srun tasks: exit $rc: $(cat "$T/err")"
finish "serial build"
