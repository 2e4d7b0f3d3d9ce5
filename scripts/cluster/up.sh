#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# up.sh N [RATE] - an emulated cluster of N hosts on this machine: one
# network namespace per host (dsc-h1 ... dsc-hN, 10.77.0.1 ... 10.77.0.N,
# names in /etc/hosts, each with its own host name when entered through
# agent.sh), joined by veth pairs to a bridge (10.77.0.254), every link
# shaped with tc tbf to RATE in both directions (for example 1gbit, 10gbit,
# 25gbit; "none" leaves links unshaped; default 10gbit). Writes the Open MPI
# options to launch across the hosts to $CLUSTER_STATE/mpirun.args (used by
# mpirun.sh). Needs root. Removes an earlier cluster first.
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/{/^#/!d; /SPDX/d; s/^# //; s/^#$//; p}' "$0"; exit 0 ;; esac
set -euo pipefail
. "$(dirname "$0")/common.sh"
N=${1:?usage: up.sh N [RATE]}
RATE=${2:-10gbit}
[ "$N" -ge 1 ] && [ "$N" -le 200 ] || { echo "up.sh: N must be 1..200" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "up.sh: needs root (network namespaces)" >&2; exit 2; }
bash "$CLUSTER_DIR/down.sh" >/dev/null
mkdir -p "$CLUSTER_STATE"

shape() { # device: limit its egress to RATE
  [ "$RATE" = none ] || tc qdisc add dev "$1" root tbf rate "$RATE" burst 256kb latency 5ms
}

ip link add "$CLUSTER_BRIDGE" type bridge
ip addr add "$CLUSTER_SUBNET.254/24" dev "$CLUSTER_BRIDGE"
ip link set "$CLUSTER_BRIDGE" up
: >"$CLUSTER_STATE/hostfile"
for i in $(seq 1 "$N"); do
  h=$(host_name "$i")
  ip netns add "$h"
  ip link add "dscv$i" type veth peer name "dscp$i"
  ip link set "dscp$i" netns "$h"
  ip link set "dscv$i" master "$CLUSTER_BRIDGE" up
  ip -n "$h" link set "dscp$i" name eth0
  ip -n "$h" addr add "$CLUSTER_SUBNET.$i/24" dev eth0
  ip -n "$h" link set eth0 up
  ip -n "$h" link set lo up
  ip -n "$h" route add default via "$CLUSTER_SUBNET.254"
  shape "dscv$i"
  ip netns exec "$h" bash -c "$(declare -f shape); RATE=$RATE; shape eth0"
  echo "$CLUSTER_SUBNET.$i $h $CLUSTER_HOSTS_MARK" >>/etc/hosts
  echo "$h slots=$(nproc)" >>"$CLUSTER_STATE/hostfile"
done
# TCP between hosts, shared memory within one; ranks yield the core while
# they wait, or the spinning ranks starve the kernel's network processing.
# No binding: Open MPI binds each host's first rank to ITS core 0, and all
# the emulated hosts' core 0 is the same core (2 hosts x 1 rank ran on one
# core while the other idled, and a rank's messages left only when it
# called MPI again); unbound, the kernel spreads the ranks over the cores.
cat >"$CLUSTER_STATE/mpirun.args" <<ARGS
--bind-to none
--hostfile $CLUSTER_STATE/hostfile
--mca plm_rsh_agent $CLUSTER_DIR/agent.sh
--mca oob_tcp_if_include $CLUSTER_SUBNET.0/24
--mca btl_tcp_if_include $CLUSTER_SUBNET.0/24
--mca btl self,vader,tcp
--mca mpi_yield_when_idle 1
ARGS
echo "$N" >"$CLUSTER_STATE/hosts"
echo "$RATE" >"$CLUSTER_STATE/rate"
echo "cluster: $N hosts ($(host_name 1)..$(host_name "$N")), links at $RATE; launch with scripts/cluster/mpirun.sh"
