#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mpirun.sh ARGS... - mpirun across the emulated cluster (after up.sh):
# its hosts, the rsh agent, TCP between hosts on the cluster's subnet, and
# yielding while idle; ARGS as for mpirun (-n, --map-by ppr:R:node, -x ...).
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/{/^#/!d; /SPDX/d; s/^# //; s/^#$//; p}' "$0"; exit 0 ;; esac
set -euo pipefail
. "$(dirname "$0")/common.sh"
[ -f "$CLUSTER_STATE/mpirun.args" ] || { echo "mpirun.sh: no cluster is up (scripts/cluster/up.sh N)" >&2; exit 2; }
root=()
[ "$(id -u)" -eq 0 ] && root=(--allow-run-as-root)
# shellcheck disable=SC2046  # one option or value per word
exec mpirun "${root[@]}" $(cat "$CLUSTER_STATE/mpirun.args") "$@"
