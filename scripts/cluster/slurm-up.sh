#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# slurm-up.sh - a SLURM over the emulated cluster (after up.sh): munged and
# slurmctld on this machine (10.77.0.254), one slurmd per host namespace
# with its own node name, spool, pid and log file; TaskPlugin=task/none (no
# binding by SLURM), srun --mpi=pmix. Writes the environment a job needs
# to $CLUSTER_STATE/slurm/env; down.sh stops everything. Needs root and
# SLURM (deps.sh slurm).
#   bash scripts/cluster/slurm-up.sh && . /run/descent-cluster/slurm/env
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/{/^#/!d; /SPDX/d; s/^# //; s/^#$//; p}' "$0"; exit 0 ;; esac
set -euo pipefail
. "$(dirname "$0")/common.sh"
[ -f "$CLUSTER_STATE/hosts" ] || { echo "slurm-up.sh: no cluster is up (scripts/cluster/up.sh N)" >&2; exit 2; }
for b in slurmctld slurmd munged mungekey sinfo; do
  command -v $b >/dev/null || { echo "slurm-up.sh: $b not found (bash scripts/deps.sh slurm)" >&2; exit 2; }
done
N=$(cat "$CLUSTER_STATE/hosts")
S=$CLUSTER_STATE/slurm
mkdir -p "$S"
: >"$S/pids"
. "$CLUSTER_DIR/../slurm/private.sh"
start_munge "$S" >>"$S/pids"

# every emulated host offers this machine's CPUs and memory
read -r cpus mem < <(slurmd -C | head -1 | tr ' ' '\n' | awk -F= '/^CPUs=/{c=$2} /^RealMemory=/{m=$2} END{print c, m}')
{
  slurm_conf "$S" descent-cluster "$(hostname)($CLUSTER_SUBNET.254)" task/none
  for i in $(seq 1 "$N"); do
    echo "NodeName=$(host_name "$i") NodeAddr=$CLUSTER_SUBNET.$i CPUs=$cpus RealMemory=$mem State=UNKNOWN"
  done
  echo "PartitionName=cluster Nodes=$(host_name "[1-$N]") Default=YES MaxTime=INFINITE State=UP"
} >"$S/slurm.conf"
export SLURM_CONF=$S/slurm.conf
slurmctld -i
for i in $(seq 1 "$N"); do
  h=$(host_name "$i")
  mkdir -p "$S/spool/$h"
  # nsenter, not ip netns exec: that one mounts a fresh /sys without the
  # cgroup hierarchies slurmd looks for. Each node's TmpFS is its own (PMIx
  # keeps per-step directories there): a private mount over the shared path.
  mkdir -p "$S/tmp-$h"
  nsenter --net="/run/netns/$h" unshare --uts --mount \
    sh -c "mount --bind '$S/tmp-$h' '$S/tmp' && hostname $h && slurmd -N $h"
done
for i in $(seq 1 50); do [ -s "$S/slurmctld.pid" ] && break; sleep 0.2; done
cat "$S/slurmctld.pid" >>"$S/pids"
for i in $(seq 1 "$N"); do
  p="$S/slurmd-$(host_name "$i").pid"
  for t in $(seq 1 50); do [ -s "$p" ] && break; sleep 0.2; done
  cat "$p" >>"$S/pids"
done
for t in $(seq 1 150); do
  idle=$(sinfo -h -N -o '%T' 2>/dev/null | grep -c '^idle$' || true)
  [ "$idle" -eq "$N" ] && break; sleep 0.2
done
if [ "$idle" -ne "$N" ]; then
  echo "slurm-up.sh: $idle of $N nodes idle: $(sinfo -h -N 2>&1 | head -5)" >&2
  exit 1
fi
# what a job on this cluster needs in its environment: the configuration,
# and Open MPI's TCP between hosts kept on the cluster's subnet
cat >"$S/env" <<ENV
export SLURM_CONF=$S/slurm.conf
export OMPI_MCA_btl=self,vader,tcp
export OMPI_MCA_btl_tcp_if_include=$CLUSTER_SUBNET.0/24
ENV
echo "slurm: $N nodes idle; . $S/env before sbatch, srun, squeue, scontrol"
