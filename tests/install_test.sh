#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The library as an outside project sees it: `cmake --install` into a
# temporary prefix, then examples/xor_arrays.c built against it with
# find_package(descent CONFIG) (shared and static) and with pkg-config, and
# run. Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD=$1 SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

cmake --install "$BUILD" --prefix "$T/prefix" >"$T/install.log" || { cat "$T/install.log"; exit 1; }
pc=$(find "$T/prefix" -name descent.pc)
config=$(find "$T/prefix" -name descentConfig.cmake)
[ -n "$pc" ] || fail "no descent.pc installed"
[ -n "$config" ] || fail "no descentConfig.cmake installed"
# the licence: its text under share/doc, its name in both packages
cmp -s "$T/prefix/share/doc/descent/LICENSE" "$SRC/LICENSE" || fail "no share/doc/descent/LICENSE installed"
[ -n "$pc" ] && { grep -qx "License: MIT" "$pc" || fail "descent.pc does not name the licence"; }
[ -n "$config" ] && { grep -q "set(descent_LICENSE MIT)" "$config" || fail "descentConfig.cmake does not name the licence"; }
so=$(find "$T/prefix" -name 'libdescent.so.*.*.*')
[ -n "$so" ] || fail "no shared library installed"
if [ -n "$so" ]; then
  readelf -d "$so" | grep -q 'SONAME.*libdescent\.so\.0' || fail "libdescent.so has no SONAME libdescent.so.0"
  # only the public API is exported
  inside=$(nm -D --defined-only "$so" | awk '$2 ~ /[TDBR]/ && $3 !~ /^descent_/ {print $3}')
  [ -z "$inside" ] || fail "the shared library exports internal symbols: $inside"
fi
libdir=$(dirname "$so")
"$T/prefix/bin/descent" --version >/dev/null || fail "the installed descent does not run"

# (1) CMake: find_package(descent CONFIG)
if cmake -S "$SRC/examples" -B "$T/cmake-build" -DCMAKE_PREFIX_PATH="$T/prefix" >"$T/cfg.log" 2>&1 &&
   cmake --build "$T/cmake-build" >"$T/build.log" 2>&1; then
  out=$("$T/cmake-build/xor_arrays") || fail "find_package consumer (shared): $out"
  echo "$out" | grep -q "4 of 4 right" || fail "find_package consumer printed: $out"
  readelf -d "$T/cmake-build/xor_arrays" | grep -q 'NEEDED.*libdescent\.so\.0' ||
    fail "descent::descent did not link the shared library"
  "$T/cmake-build/xor_arrays_static" >/dev/null || fail "find_package consumer (static) failed"
  readelf -d "$T/cmake-build/xor_arrays_static" | grep -q 'libdescent' &&
    fail "descent::descent_static linked the shared library"
  echo "find_package consumer:"; echo "$out" | sed 's/^/  /'
else
  cat "$T/cfg.log" "$T/build.log" 2>/dev/null | tail -20
  fail "an outside CMake project could not use find_package(descent CONFIG)"
fi

# (2) pkg-config
export PKG_CONFIG_PATH=$(dirname "$pc")
flags=$(pkg-config --cflags --libs descent) || fail "pkg-config does not know descent"
# shellcheck disable=SC2086
if cc "$SRC/examples/xor_arrays.c" $flags -o "$T/xor_pc" 2>"$T/cc.log"; then
  out=$(LD_LIBRARY_PATH="$libdir" "$T/xor_pc") || fail "pkg-config consumer: $out"
  echo "$out" | grep -q "4 of 4 right" || fail "pkg-config consumer printed: $out"
  echo "pkg-config consumer (cc xor_arrays.c $flags): $(echo "$out" | tail -1)"
else
  cat "$T/cc.log"; fail "cc with \$(pkg-config --cflags --libs descent) did not link"
fi
# the static library exports the public API alone: a program with its own
# set_error and comm_rank (names the library uses inside) links it
archive=$(find "$T/prefix" -name libdescent.a)
inside=$(nm -g --defined-only "$archive" | awk 'NF == 3 && $3 !~ /^descent_/ {print $3}')
[ -n "$archive" ] && [ -z "$inside" ] || fail "libdescent.a exports internal symbols: ${inside:-(no archive)}"
cat >"$T/own_names.c" <<'EOF2'
#include <descent/descent.h>
#include <stdio.h>
int set_error(void) { return 7; }  /* names the library uses inside */
int comm_rank(void) { return 7; }
int main(void) {
    printf("%s %d\n", descent_strerror(DESCENT_E_FORMAT), set_error() + comm_rank());
    return 0;
}
EOF2
# shellcheck disable=SC2046
if cc "$T/own_names.c" -o "$T/own_names" $(pkg-config --cflags descent) \
     $(pkg-config --static --libs descent | sed "s#-ldescent#$archive#") 2>"$T/cc2.log"; then
  "$T/own_names" | grep -q ' 14$' || fail "the program's own set_error was not called"
else
  cat "$T/cc2.log"; fail "a program with its own set_error and comm_rank cannot link libdescent.a"
fi
[ "$(pkg-config --modversion descent)" = "$("$T/prefix/bin/descent" --version | awk 'NR == 1 {print $NF}')" ] ||
  fail "pkg-config version $(pkg-config --modversion descent) is not the command's"
[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "install: all checks passed"
