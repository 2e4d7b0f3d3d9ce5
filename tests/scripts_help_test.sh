#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every script under scripts/ that is run rather than sourced (it starts
# with #!) answers --help and -h with its usage on stdout and exit 0, and
# does nothing else: no package manager, compiler, build tool, launcher or
# plot program is started (each is a tripwire on PATH that records its
# call), and nothing appears in the source tree.
# Usage: scripts_help_test.sh SOURCE_DIR
set -uo pipefail
SRC=$(realpath "$1")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0 count=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
mkdir "$T/bin"
for tool in apt-get apt dpkg sudo cmake make ctest gcc cc clang mpirun mpiexec gnuplot ip tc \
    sbatch srun scontrol munged slurmctld slurmd hyperfine nproc git; do
  printf '#!/bin/sh\necho "%s $*" >>"%s/called"\nexit 1\n' "$tool" "$T" >"$T/bin/$tool"
  chmod +x "$T/bin/$tool"
done
before=$(ls -A "$SRC")
while read -r script; do
  head -c 2 "$SRC/$script" | grep -q '#!' || continue # sourced, not run
  case $script in *.py) run=(/usr/bin/python3) ;; *) run=(bash) ;; esac
  for flag in --help -h; do
    count=$((count + 1))
    rm -f "$T/called"
    (cd "$T" && PATH="$T/bin:$PATH" "${run[@]}" "$SRC/$script" $flag >"$T/out" 2>"$T/err" </dev/null)
    rc=$?
    name=$(basename "$script")
    if [ $rc -ne 0 ]; then fail "$script $flag: exit $rc: $(head -c 300 "$T/err")"; continue; fi
    [ "$(wc -l <"$T/out")" -ge 2 ] && grep -qiE "usage|${name%.*}" "$T/out" ||
      fail "$script $flag: no usage on stdout: $(head -c 300 "$T/out")"
    [ ! -e "$T/called" ] || fail "$script $flag started $(cat "$T/called")"
  done
done < <(cd "$SRC" && find scripts -type f ! -name '*.c' | sort)
[ "$(ls -A "$SRC")" = "$before" ] || fail "the scripts' --help left files in the source tree: $(ls -A "$SRC")"
((count > 20)) || fail "only $count runs: the script list is wrong"
[ $fails -eq 0 ] && echo "scripts_help: $((count / 2)) scripts answer --help and -h, and do nothing else"
exit $fails
