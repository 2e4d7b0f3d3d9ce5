#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Where the ranks' threads run: 2 ranks launched without a binding per rank
# (mpirun --bind-to none) but with OMP_PROC_BIND=close would pin their
# threads to the same CPUs; descent gives each rank CPUs of its own and says
# so once, or, when the host is too small for that, says how to fix it. Left
# unpinned (no OMP_PROC_BIND), nothing is said.
# Usage: placement_test.sh descent mpiexec numproc-flag
set -u
D=$1; MPIEXEC=$2; NP=$3
T=$(mktemp -d /tmp/descent_place.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/testlib.sh"
blobs "$T/d.csv" 200 4 .3 3
A=(train --train-csv "$T/d.csv" --layers 4,8,3 --epochs 2 --quiet)
CPUS=$(nproc)
run() { # threads, extra environment for mpirun (-x ...)
  local threads=$1; shift
  OMP_NUM_THREADS=$threads "$MPIEXEC" $NP 2 --bind-to none -x OMP_NUM_THREADS "$@" "$D" "${A[@]}" \
    >"$T/out" 2>"$T/err"
}
if [ "$CPUS" -ge 2 ]; then
  run 1 -x OMP_PROC_BIND=close -x OMP_PLACES=cores
  rc=$?
  [ $rc -eq 0 ] && ok || fail "pinned to the same CPUs: exit $rc: $(cat "$T/err")"
  [ "$(grep -c 'had pinned their OpenMP threads to the same CPUs' "$T/err")" -eq 1 ] \
    && grep -q "each rank's threads now run on CPUs of their own" "$T/err" && ok \
    || fail "pinned to the same CPUs: expected one note of the repair: $(cat "$T/err")"
else
  echo "note: 1 CPU: the repair case needs 2"
fi
# more threads than the host has CPUs for: the fix is explained
run "$CPUS" -x OMP_PROC_BIND=close -x OMP_PLACES=cores
rc=$?
[ $rc -eq 0 ] && ok || fail "too many threads: exit $rc: $(cat "$T/err")"
grep -q "do not fit its $CPUS CPUs; use OMP_NUM_THREADS=" "$T/err" && ok \
  || fail "too many threads: expected the fix: $(cat "$T/err")"
# not pinned: nothing to say
run 1
rc=$?
[ $rc -eq 0 ] && ! grep -q "same CPUs" "$T/err" && ok || fail "unpinned: exit $rc: $(cat "$T/err")"
finish "placement"
