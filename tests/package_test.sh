#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The packages as a user gets them: `cpack -G DEB` and `-G TGZ` from the
# build; the .deb unpacked with dpkg -x into a temporary root holds the
# command, both libraries, the header, the man page, the bash completion,
# the README, licence and guides, and the user scripts; its command runs and
# trains a small network; the tarball holds the same tree.
# Usage: package_test.sh BUILD_DIR
set -euo pipefail
BUILD=$(realpath "$1")
command -v cpack >/dev/null || { echo "SKIP: cpack is not installed"; exit 77; }
command -v dpkg-deb >/dev/null || { echo "SKIP: dpkg-deb is not installed"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

for g in DEB TGZ; do
  cpack -G $g -B "$T/pkg" --config "$BUILD/CPackConfig.cmake" >"$T/cpack-$g.log" 2>&1 ||
    { cat "$T/cpack-$g.log"; exit 1; }
done
deb=$(find "$T/pkg" -maxdepth 1 -name 'descent_*.deb')
tgz=$(find "$T/pkg" -maxdepth 1 -name 'descent-*.tar.gz')
[ -n "$deb" ] || { echo "FAIL: cpack -G DEB made no .deb"; exit 1; }
[ -n "$tgz" ] || fail "cpack -G TGZ made no .tar.gz"
dpkg-deb -f "$deb" Package | grep -qx descent || fail "the .deb's package is not named descent"
dpkg-deb -f "$deb" Depends | grep -q libgomp || fail "the .deb does not depend on libgomp"
dpkg-deb -x "$deb" "$T/root"
for f in usr/bin/descent usr/include/descent/descent.h usr/lib/libdescent.a usr/lib/libdescent.so.0 \
    usr/lib/pkgconfig/descent.pc usr/lib/cmake/descent/descentConfig.cmake \
    usr/share/man/man1/descent.1 usr/share/bash-completion/completions/descent \
    usr/share/doc/descent/README.md usr/share/doc/descent/LICENSE usr/share/doc/descent/user-guide.md \
    usr/share/doc/descent/cluster.md usr/share/doc/descent/derivation.md \
    usr/share/descent/scripts/slurm/train.sbatch usr/share/descent/scripts/plot_curves.sh \
    usr/share/descent/scripts/read_model.py; do
  [ -e "$T/root/$f" ] || fail "the .deb has no /$f"
done
if [ -n "$tgz" ]; then
  tar -tzf "$tgz" >"$T/tgz.list"
  grep -q '/bin/descent$' "$T/tgz.list" || fail "the tarball has no bin/descent"
  grep -q '/share/man/man1/descent.1$' "$T/tgz.list" || fail "the tarball has no man page"
fi

d="$T/root/usr/bin/descent"
"$d" --version | grep -q '^descent ' || fail "the packaged command does not run"
printf '0,0,0\n1,0,1\n1,1,0\n0,1,1\n' >"$T/xor.csv"
for _ in 1 2 3 4 5 6; do cat "$T/xor.csv"; done >"$T/xor24.csv"
"$d" train --train-csv "$T/xor24.csv" --test-csv "$T/xor.csv" --layers 2,4,2 --activation tanh \
  --output-activation softmax --cost xent --epochs 2 --batch 4 --quiet --out "$T/xor.model" >"$T/train.log" 2>&1 ||
  { cat "$T/train.log"; fail "the packaged command cannot train"; }
[ -s "$T/xor.model" ] || fail "the packaged command wrote no model"
"$d" info --model "$T/xor.model" | grep -q 'tanh' || fail "the packaged command's info does not read its model"
if command -v man >/dev/null; then
  MANWIDTH=80 man -l "$T/root/usr/share/man/man1/descent.1" >"$T/man.txt" 2>/dev/null
  grep -q 'EXIT STATUS' "$T/man.txt" ||
    fail "the packaged man page does not render"
fi
[ "$fails" -eq 0 ] && echo "package: $(basename "$deb") ($(dpkg-deb -c "$deb" | grep -vc '/$') files) and $(basename "$tgz"): complete, and the command trains"
exit "$fails"
