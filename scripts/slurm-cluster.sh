#!/usr/bin/env bash
# A single-node Slurm cluster on this machine for the sweep tests (issue #17) and for trying
# `captioning sweep run --executor slurm` without a real cluster: munged, slurmctld and one
# slurmd, everything (config, munge key and socket, pids, logs, spool) under one state
# folder, no systemd and no cgroups. Debian 12's slurm-wlm 22.05 and munge:
#
#   apt-get install -y --no-install-recommends slurm-wlm munge     # .ci/run does this
#   eval "$(scripts/slurm-cluster.sh start /tmp/captioning-slurm)"  # prints export SLURM_CONF=...
#   sbatch ... ; squeue ; scontrol show job ID
#   scripts/slurm-cluster.sh stop /tmp/captioning-slurm            # cancels jobs, stops the daemons
#
# Choices, each for a reason measured on this kind of VM:
# - proctrack/linuxproc and task/none: cgroup plugins make every job fail here (no freezer
#   cgroup), while jobcomp still calls it COMPLETED.
# - batch_sched_delay=0: jobs start about 1 s after submission instead of about 3.
# - MinJobAge=3600: finished jobs stay in `squeue -t all` / `scontrol show job` for an hour,
#   which is how `captioning sweep status` sees failures without slurmdbd (no sacct here).
# - jobcomp/filetxt: one line per finished job in STATE/log/jobcomp.txt.
# - RealMemory from `slurmd -C`: claiming more memory than the machine has marks the node invalid.
# - Daemons are stopped by the PID they recorded, never by name, and waited for.
set -euo pipefail

say() { printf '[slurm-cluster] %s\n' "$*" >&2; }

# alive PIDFILE NAME: the recorded process is running (not a zombie) and is NAME.
alive() {
  local pid stat
  [[ -s $1 ]] || return 1
  pid=$(<"$1")
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/stat ]] || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ $stat == "$pid ($2) "* && $stat != "$pid ($2) Z"* ]]
}

# until_true SECONDS COMMAND...: runs COMMAND every 0.2 s until it succeeds or time runs out.
until_true() {
  local tries=$(($1 * 5))
  shift
  for ((i = 0; i < tries; i++)); do
    "$@" && return 0
    sleep 0.2
  done
  return 1
}

# stop_daemon PIDFILE NAME: TERM, wait up to 15 s for the process itself (its pidfile goes first), then KILL.
stop_daemon() {
  local pid
  alive "$1" "$2" || { rm -f "$1"; return 0; }
  pid=$(<"$1")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 75; i++)); do
    [[ -r /proc/$pid/stat && $(cat "/proc/$pid/stat" 2>/dev/null) != *") Z "* ]] || break
    sleep 0.2
  done
  [[ -r /proc/$pid/stat && $(cat "/proc/$pid/stat" 2>/dev/null) != *") Z "* ]] && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$1"
}

write_config() {
  local state=$1 host hardware
  host=$(hostname -s)
  hardware=$(slurmd -C | head -n 1 | sed 's/^NodeName=[^ ]* //') # CPUs=... RealMemory=...
  cat >"$state/etc/slurm.conf" <<EOF
# Written by scripts/slurm-cluster.sh: one node, this machine.
ClusterName=captioning
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=${SLURM_CTLD_PORT:-6817}
SlurmdPort=${SLURMD_PORT:-6818}
SlurmUser=$(id -un)
SlurmdUser=$(id -un)
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$state/munge/munge.socket
StateSaveLocation=$state/spool/ctld
SlurmdSpoolDir=$state/spool/slurmd
SlurmctldPidFile=$state/run/slurmctld.pid
SlurmdPidFile=$state/run/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
MailProg=/bin/true
MpiDefault=none
SwitchType=switch/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$state/log/jobcomp.txt
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MinJobAge=3600
KillWait=5
ReturnToService=2
DependencyParameters=kill_invalid_depend
NodeName=$host NodeHostName=$host NodeAddr=127.0.0.1 $hardware State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

node_ready() {
  local state
  state=$(sinfo -h -N -o %T 2>/dev/null | sort -u)
  [[ $state == idle || $state == mixed || $state == allocated ]]
}

start() {
  local state=$1 missing=()
  for tool in munged munge slurmctld slurmd sinfo sbatch; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  if ((${#missing[@]})); then
    say "missing ${missing[*]}: apt-get install -y --no-install-recommends slurm-wlm munge"
    return 1
  fi
  mkdir -p "$state"/{etc,log,run,munge,spool/ctld,spool/slurmd}
  chmod 0755 "$state" "$state"/{etc,log,run,munge,spool,spool/ctld,spool/slurmd} # munged refuses group-writable folders (umask 000)
  state=$(cd "$state" && pwd)
  export SLURM_CONF=$state/etc/slurm.conf
  [[ -s $SLURM_CONF ]] || write_config "$state"
  if [[ ! -s $state/munge/munge.key ]]; then
    dd if=/dev/urandom of="$state/munge/munge.key" bs=1024 count=1 status=none
    chmod 0600 "$state/munge/munge.key"
  fi
  if ! alive "$state/munge/munged.pid" munged; then
    rm -f "$state/munge/munge.socket" "$state/munge/munge.socket.lock"
    munged --key-file="$state/munge/munge.key" --socket="$state/munge/munge.socket" --pid-file="$state/munge/munged.pid" \
      --log-file="$state/log/munged.log" --seed-file="$state/munge/munged.seed" || { say "munged did not start: $state/log/munged.log"; return 1; }
    until_true 5 test -S "$state/munge/munge.socket" || { say "no munge socket: $state/log/munged.log"; return 1; }
  fi
  if ! alive "$state/run/slurmctld.pid" slurmctld; then
    slurmctld -f "$SLURM_CONF" || { say "slurmctld did not start: $state/log/slurmctld.log"; return 1; }
  fi
  until_true 30 bash -c 'scontrol ping 2>/dev/null | grep -q "is UP"' || { say "slurmctld does not answer"; tail -n 5 "$state/log/slurmctld.log" >&2; return 1; }
  if ! alive "$state/run/slurmd.pid" slurmd; then
    slurmd -f "$SLURM_CONF" || { say "slurmd did not start: $state/log/slurmd.log"; return 1; }
  fi
  until_true 30 node_ready || { say "node not ready: $(sinfo -h -N -o '%T %E' 2>/dev/null)"; tail -n 5 "$state/log/slurmd.log" >&2; return 1; }
  say "node idle; logs in $state/log"
  echo "export SLURM_CONF=$SLURM_CONF"
}

stop() {
  local state=$1
  [[ -d $state ]] || return 0
  state=$(cd "$state" && pwd)
  export SLURM_CONF=$state/etc/slurm.conf
  if alive "$state/run/slurmctld.pid" slurmctld; then
    scancel --user="$(id -un)" 2>/dev/null || true
    # A job left running outlives slurmd (its slurmstepd): wait for none running or completing.
    until_true 20 bash -c '[[ -z $(squeue -h -t R,CG,S 2>/dev/null) ]]' || say "jobs still running after 20 s"
  fi
  stop_daemon "$state/run/slurmd.pid" slurmd
  stop_daemon "$state/run/slurmctld.pid" slurmctld
  stop_daemon "$state/munge/munged.pid" munged
  say "stopped"
}

command=${1:-}
state=${2:-${CAPTIONING_SLURM_STATE:-/tmp/captioning-slurm}}
case $command in
  start) start "$state" ;;
  stop) stop "$state" ;;
  *)
    echo "usage: scripts/slurm-cluster.sh start|stop [STATE_FOLDER]" >&2
    exit 2
    ;;
esac
