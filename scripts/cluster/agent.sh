#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# agent.sh HOST COMMAND... - Open MPI's rsh agent for the emulated cluster:
# runs COMMAND inside HOST's network namespace, with HOST as its host name
# (a private UTS namespace), as ssh would on a real cluster.
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/{/^#/!d; /SPDX/d; s/^# //; s/^#$//; p}' "$0"; exit 0 ;; esac
set -euo pipefail
host=$1; shift
# like ssh, the command arrives as words to be joined and run by a shell
exec ip netns exec "$host" unshare --uts sh -c "hostname $host && exec sh -c \"\$0\"" "$*"
