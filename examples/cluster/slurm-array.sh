#!/usr/bin/env bash
# Run a bnlab experiment as a Slurm job array: each array task runs one deterministic shard
# of the trials (bnlab run --shard i/n), then `bnlab merge` combines the shards into one report.
#
#   mkdir -p logs    # Slurm does not create the folder of --output; a task without it fails
#   sbatch --array=0-7 examples/cluster/slurm-array.sh examples/experiments/seed003-norm-types.json
#   # when all tasks are done (or submit with `sbatch --wait` and merge when it returns):
#   npx bnlab merge results/seed003-norm-types-merged results/seed003-norm-types-shard-*
#
# Use a contiguous range (--array=0-7, 1-8, or 0-7%4 to run at most 4 at a time): the shard
# number is the task id minus the first id, and the shard count is the number of tasks.
# Rerunning a task resumes it: finished trials are skipped, interrupted ones redone.
#
# Environment (sbatch passes the submitting shell's environment to the tasks):
#   BNLAB        the bnlab command [npx --no bnlab: the one installed in the project the job
#                runs in — sbatch's working directory, --chdir; never a download]
#   RESULTS_DIR  the folder the shard folders are written to [results]
#
# .ci/slurm-test.sh runs this script on a one-node cluster it starts (Debian's slurm-wlm and
# munge) and checks that the merged shards equal a local run; it also shows a minimal slurm.conf.
#SBATCH --job-name=bnlab
#SBATCH --cpus-per-task=1
#SBATCH --mem=4G
#SBATCH --time=04:00:00
#SBATCH --output=logs/bnlab-%A_%a.out
set -euo pipefail

EXPERIMENT=${1:?usage: sbatch --array=0-N slurm-array.sh EXPERIMENT.json}
SHARDS=${SLURM_ARRAY_TASK_COUNT:?run this script with sbatch --array}
# Slurm numbers array tasks from --array's first index; bnlab's shards are 0-based.
INDEX=$(( SLURM_ARRAY_TASK_ID - ${SLURM_ARRAY_TASK_MIN:-0} ))
NAME=$(basename "$EXPERIMENT" .json)
read -r -a BNLAB <<< "${BNLAB:-npx --no bnlab}"

"${BNLAB[@]}" run "$EXPERIMENT" \
  --shard "${INDEX}/${SHARDS}" \
  --out "${RESULTS_DIR:-results}/${NAME}-shard-${INDEX}" \
  --no-report --quiet
