#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Mutation testing: each mutant of tests/mutants.txt (a small, realistic bug,
# one line each) is applied to the source alone, the project rebuilt
# incrementally in build-mutate/, and the core and MPI tests run until the
# first failure. A mutant no test catches "survives"; any survivor, or a
# mutant that no longer applies or compiles, fails the run. Prints a table
# (mutant, the test that killed it, seconds) and writes it to
# build-mutate/mutants.csv. The source is restored afterwards, whatever
# happens.
#   bash scripts/mutate.sh [NAME...]      (only the named mutants)
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/{/^#/!d; /SPDX/d; s/^# //; s/^#$//; p}' "$0"; exit 0 ;; esac
set -euo pipefail
cd "$(dirname "$0")/.."
B=build-mutate
LIST=tests/mutants.txt
SAVE=$(mktemp -d /tmp/descent_mutate.XXXXXX)
# Files are put back with a new time stamp, so that make rebuilds them.
restore() { # put back every file a mutant touched, then remove the copies
  if [ -d "$SAVE/src" ]; then cp -r "$SAVE/src/." .; fi
  rm -rf "$SAVE"
}
trap restore EXIT

# One kernel set (a build for this CPU): each mutant rebuilds what it touches
# once, and the CPU check has extensions to find missing under emulation
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DDESCENT_NATIVE=ON >/dev/null
cmake --build "$B" -j "$(nproc)" >/dev/null
run_tests() { # the core and MPI tests in their declared order, stopping at the first failure
  rm -f "$B/Testing/Temporary/CTestCostData.txt"
  ctest --test-dir "$B" -L 'core|mpi' --stop-on-failure --timeout 300 >"$B/mutant.log" 2>&1 </dev/null
}
if ! run_tests; then echo "mutate.sh: the tests fail without any mutant; see $B/mutant.log" >&2; exit 1; fi

# apply FILE OLD NEW: replace the one occurrence of OLD (\n: a newline) in FILE
apply() {
  python3 - "$@" <<'PY'
import sys
path, old, new = sys.argv[1], sys.argv[2].replace('\\n', '\n'), sys.argv[3].replace('\\n', '\n')
text = open(path).read()
if text.count(old) != 1:
    sys.exit(f"{path}: the mutated text occurs {text.count(old)} times, not once: {old!r}")
open(path, 'w').write(text.replace(old, new))
PY
}

printf 'mutant,result,killed_by,seconds\n' >"$B/mutants.csv"
printf '%-36s %-9s %-34s %s\n' mutant result "killed by" seconds
bad=0 total=0
while IFS= read -r line <&3; do
  case "$line" in ''|'#'*) continue ;; esac
  name=${line%% ::: *}; rest=${line#* ::: }
  file=${rest%% ::: *}; rest=${rest#* ::: }
  old=${rest%% ::: *}; new=${rest#* ::: }
  if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then continue; fi
  total=$((total + 1))
  mkdir -p "$SAVE/src/$(dirname "$file")"
  [ -e "$SAVE/src/$file" ] || cp -a "$file" "$SAVE/src/$file"
  t0=$(date +%s)
  result=killed by=""
  if ! apply "$file" "$old" "$new" 2>"$B/mutant.err"; then
    result=STALE by="$(cat "$B/mutant.err")"
  elif ! cmake --build "$B" -j "$(nproc)" >"$B/mutant.build" 2>&1; then
    result=BROKEN by="does not compile (see $B/mutant.build)"
  elif run_tests; then
    result=SURVIVED by="no test failed"
  else
    by=$(sed -n '/The following tests FAILED/{n;p;}' "$B/mutant.log" | sed 's/^[[:space:]]*[0-9]* - //; s/ (.*//')
  fi
  cp "$SAVE/src/$file" "$file"
  [ "$result" = killed ] || bad=$((bad + 1))
  secs=$(( $(date +%s) - t0 ))
  printf '%-36s %-9s %-34s %s\n' "$name" "$result" "${by:-?}" "$secs"
  printf '%s,%s,%s,%s\n' "$name" "$result" "${by//,/;}" "$secs" >>"$B/mutants.csv"
done 3<"$LIST"
cmake --build "$B" -j "$(nproc)" >/dev/null # the unmutated build again
echo "mutants: $total, killed $((total - bad)), not killed $bad"
[ "$bad" -eq 0 ]
