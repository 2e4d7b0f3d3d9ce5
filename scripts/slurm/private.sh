# SPDX-License-Identifier: MIT
# private.sh - a SLURM of one's own, without systemd (sourced by
# tests/slurm_test.sh and scripts/cluster/slurm-up.sh). Everything lives in
# one scratch directory S: munge's key and socket, state, spool, pid, log
# and TmpFS.

# start_munge S: munged on S/munge/socket with a fresh key; prints its pid
start_munge() {
  local S=$1
  mkdir -p "$S/munge" "$S/state" "$S/spool" "$S/tmp" "$S/log"
  chmod 755 "$S" "$S/munge"
  mungekey -c -k "$S/munge/munge.key" 2>/dev/null ||
    dd if=/dev/urandom of="$S/munge/munge.key" bs=1024 count=1 2>/dev/null
  chmod 600 "$S/munge/munge.key"
  munged -S "$S/munge/socket" --key-file="$S/munge/munge.key" --pid-file="$S/munge/pid" \
    --log-file="$S/log/munged.log" --seed-file="$S/munge/seed" --force || return 1
  sleep 0.5
  cat "$S/munge/pid"
}

# slurm_conf S NAME CONTROLLER TASKPLUGIN: the settings that work on this
# kind of machine (docs/cluster.md); node and partition lines are the
# caller's. %n in the slurmd paths keeps several slurmds on one machine apart.
slurm_conf() {
  local S=$1
  cat <<CONF
ClusterName=$2
SlurmctldHost=$3
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire: a requeued job waits this long (default 120 s) before it may start again
AuthInfo=socket=$S/munge/socket,cred_expire=10
ProctrackType=proctrack/linuxproc
TaskPlugin=$4
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
EnforcePartLimits=ALL
SchedulerParameters=batch_sched_delay=0
MinJobAge=600
MailProg=/bin/true
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool/%n
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd-%n.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd-%n.log
TmpFS=$S/tmp
CONF
}
