#!/bin/sh
# A one-node Slurm cluster on this machine (Debian's slurm-wlm and munge), for `make test-slurm`.
# Needs root (it installs the packages when missing and starts munged, slurmctld and slurmd).
set -eu
if [ "$(id -u)" != 0 ]; then echo "test-slurm starts Slurm daemons: run it as root (or on a machine with Slurm)" >&2; exit 2; fi
command -v slurmctld >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >/dev/null
CPUS=$(nproc)
MEM=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=movierec
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=localhost CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
[ -s /etc/munge/munge.key ] || mungekey --create --force
chown -R munge:munge /etc/munge /run/munge 2>/dev/null || true
pgrep -x munged >/dev/null || munged --force
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for i in $(seq 1 60); do
  if sinfo -h -o %T 2>/dev/null | grep -q idle; then echo "Slurm is up: $(sinfo -h -o '%P %D %T %c CPUs')"; exit 0; fi
  scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true
  sleep 1
done
echo "Slurm did not come up; see /var/log/slurm/*.log" >&2
exit 1
