#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# down.sh - removes the emulated cluster: its SLURM daemons, every process
# still running inside its namespaces, the namespaces, veths, bridge and
# /etc/hosts lines. Safe to run twice, or after a crash half-way through
# up.sh.
# Usage: sudo bash scripts/cluster/down.sh
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/{/^#/!d; /SPDX/d; s/^# //; s/^#$//; p}' "$0"; exit 0 ;; esac
set -uo pipefail
. "$(dirname "$0")/common.sh"
if [ -f "$CLUSTER_STATE/slurm/pids" ]; then
  pids=$(cat "$CLUSTER_STATE/slurm/pids")
  # shellcheck disable=SC2086
  kill $pids 2>/dev/null
  # slurmctld saves its state on the way out: wait, so that its port is free
  for i in $(seq 1 50); do
    alive=0
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break; sleep 0.1
  done
  # shellcheck disable=SC2086
  kill -9 $pids 2>/dev/null
fi
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^dsc-h'); do
  pids=$(ip netns pids "$ns" 2>/dev/null)
  [ -n "$pids" ] && kill -9 $pids 2>/dev/null
  ip netns del "$ns" 2>/dev/null
done
for dev in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E '^dsc(v[0-9]+|br0)$'); do
  ip link del "$dev" 2>/dev/null
done
if grep -q "$CLUSTER_HOSTS_MARK" /etc/hosts 2>/dev/null; then
  grep -v "$CLUSTER_HOSTS_MARK" /etc/hosts >/etc/hosts.descent-cluster && cat /etc/hosts.descent-cluster >/etc/hosts
  rm -f /etc/hosts.descent-cluster
fi
rm -rf "$CLUSTER_STATE"
echo "cluster: down"
