#!/usr/bin/env bash
# Run a bnlab experiment as a Slurm job array: each array task runs one deterministic shard
# of the trials (bnlab run --shard i/n), and a final job merges the shards into one report.
#
#   sbatch --array=0-7 examples/cluster/slurm-array.sh examples/experiments/seed003-norm-types.json
#   # when all tasks are done:
#   npx bnlab merge results/seed003-merged results/seed003-shard-*
#
# Rerunning a task resumes it: finished trials are skipped, interrupted ones redone.
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

npx bnlab run "$EXPERIMENT" \
  --shard "${INDEX}/${SHARDS}" \
  --out "results/${NAME}-shard-${INDEX}" \
  --no-report --quiet
